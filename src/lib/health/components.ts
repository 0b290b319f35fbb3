/** The components `cimops health-check --component` can select (kept apart from the checks so flags stay cheap to load). */
export const HEALTH_COMPONENTS = ['nats', 'jetstream', 'streams', 'consumers', 'prometheus', 'alertmanager', 'system', 'gpu'] as const
export type HealthComponent = (typeof HEALTH_COMPONENTS)[number]
