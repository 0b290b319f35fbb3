/** What the system looked like when the incident was declared: the health-check result and the firing alerts. */
import type {NatsSession} from '../adapters/nats/session.js'
import type {ResolvedContext} from '../core/context-types.js'
import {isCimopsError} from '../core/errors.js'
import type {IncidentSnapshot} from './model.js'
import {INCIDENT_ALERTNAME} from './notify.js'

const MAX_ALERTS = 50
/** The declaration waits for the snapshot: a hung service may delay it this long at most, not a whole --timeout. */
export const SNAPSHOT_TIMEOUT_MS = 2000

export async function takeSnapshot(context: ResolvedContext, {signal, now, nats}: {signal: AbortSignal; now: Date; nats?: NatsSession}): Promise<IncidentSnapshot> {
  const ctx = {...context, timeoutMs: Math.min(context.timeoutMs, SNAPSHOT_TIMEOUT_MS)}
  const [{runHealthCheck}, {createAlertmanagerClient}] = await Promise.all([import('../health/service.js'), import('../adapters/alertmanager/client.js')])
  const [health, alerts] = await Promise.allSettled([
    runHealthCheck(ctx, {signal, nats}),
    createAlertmanagerClient(ctx.alertmanager, ctx.timeoutMs).alerts({active: true, silenced: false, inhibited: false}),
  ])
  const snapshot: IncidentSnapshot = {takenAt: now.toISOString()}
  if (health.status === 'fulfilled') {
    const report = health.value
    snapshot.health = {
      status: report.status,
      summary: report.summary,
      score: report.score,
      checks: report.checks.map(({name, component, status, summary}) => ({name, component, status, summary})),
    }
  } else {
    snapshot.healthError = describe(health.reason)
  }
  if (alerts.status === 'fulfilled') {
    snapshot.firingAlerts = alerts.value
      .filter((alert) => alert.labels.alertname !== INCIDENT_ALERTNAME)
      .slice(0, MAX_ALERTS)
      .map((alert) => ({
        alertname: alert.labels.alertname ?? '(none)',
        ...(alert.labels.severity ? {severity: alert.labels.severity} : {}),
        ...(alert.annotations.summary ? {summary: alert.annotations.summary} : {}),
        startsAt: alert.startsAt,
      }))
  } else {
    snapshot.alertsError = describe(alerts.reason)
  }
  return snapshot
}

export function describe(error: unknown): string {
  if (isCimopsError(error)) return error.line
  return error instanceof Error ? error.message : String(error)
}
