import {UsageError} from '../core/errors.js'

/**
 * What `cimops health-check --component` can select (kept apart from the checks so flags stay cheap to load): the
 * checks of the README's table by name, `cpu`, `memory` and `disk` being parts of the `system` check.
 */
const SELECTORS = {
  nats: {component: 'nats'},
  jetstream: {component: 'jetstream'},
  streams: {component: 'streams'},
  consumers: {component: 'consumers'},
  replication: {component: 'replication'},
  prometheus: {component: 'prometheus'},
  alertmanager: {component: 'alertmanager'},
  system: {component: 'system'},
  cpu: {component: 'system', checks: (name: string) => name === 'cpu'},
  memory: {component: 'system', checks: (name: string) => name === 'memory'},
  disk: {component: 'system', checks: (name: string) => name.startsWith('disk:')},
  gpu: {component: 'gpu'},
} as const satisfies Record<string, HealthSelector>

/** The table names its checks `stream:<name>` and `consumer:<name>`. */
const ALIASES: Record<string, keyof typeof SELECTORS> = {stream: 'streams', consumer: 'consumers'}

export const HEALTH_COMPONENTS = Object.keys(SELECTORS) as Array<keyof typeof SELECTORS>

export interface HealthSelector {
  component: string
  /** Only these results of the component's check; all when absent. */
  checks?: (name: string) => boolean
}

/**
 * `--component` values, each a name or a comma-separated list of them, as selectors; an unknown name is a usage
 * error listing the known ones.
 */
export function selectComponents(values: string[]): HealthSelector[] {
  const names = values.flatMap((value) => value.split(',')).map((name) => name.trim().toLowerCase()).filter((name) => name !== '')
  const unknown = names.filter((name) => !(name in SELECTORS) && !(name in ALIASES))
  if (unknown.length > 0) {
    throw new UsageError(`unknown --component ${unknown.map((name) => `"${name}"`).join(', ')}`, `the checks are ${HEALTH_COMPONENTS.join(', ')}`, {
      hint: 'repeat the flag or separate names with commas: --component nats,jetstream',
    })
  }
  return names.map((name) => SELECTORS[ALIASES[name] ?? (name as keyof typeof SELECTORS)])
}

/** Whether the selection keeps a result of a component's check; everything when nothing is selected. */
export function selectsCheck(selectors: HealthSelector[], component: string, name: string): boolean {
  if (selectors.length === 0) return true
  return selectors.some((s) => s.component === component && (s.checks === undefined || s.checks(name)))
}
