import type {CheckOutcome} from '../../core/check/result.js'
import {type Status, worstStatus} from '../../core/check/status.js'
import type {CheckContext, HealthCheck} from '../runner.js'
import {plural} from '../../core/output/units.js'

/**
 * Alertmanager: cluster state from /api/v2/status (its /-/healthy always says OK), and the active,
 * non-silenced, non-inhibited alerts by severity: any critical is CRITICAL, any warning is WARNING.
 */
export const alertmanagerCheck: HealthCheck = {
  name: 'alertmanager',
  component: 'alertmanager',
  target: (ctx) => ({system: 'alertmanager', address: ctx.alertmanager.url}),
  async run({ctx}: CheckContext): Promise<CheckOutcome> {
    const {createAlertmanagerClient} = await import('../../adapters/alertmanager/client.js')
    const alertmanager = createAlertmanagerClient(ctx.alertmanager, ctx.timeoutMs)
    const [status, alerts] = await Promise.all([alertmanager.status(), alertmanager.alerts({active: true, silenced: false, inhibited: false})])
    const bySeverity = new Map<string, string[]>()
    for (const alert of alerts) {
      const severity = (alert.labels.severity ?? 'none').toLowerCase()
      bySeverity.set(severity, [...(bySeverity.get(severity) ?? []), alert.labels.alertname ?? '(unnamed)'])
    }
    const count = (severity: string) => bySeverity.get(severity)?.length ?? 0
    const clusterStatus: Status = status.cluster.status === 'settling' ? 'WARNING' : 'OK'
    const alertStatus: Status = count('critical') > 0 ? 'CRITICAL' : count('warning') > 0 ? 'WARNING' : 'OK'
    const firing = [...bySeverity.entries()]
      .sort(([a], [b]) => severityRank(a) - severityRank(b))
      .map(([severity, names]) => `${names.length} ${severity} (${[...new Set(names)].join(', ')})`)
    return {
      name: 'alertmanager',
      component: 'alertmanager',
      status: worstStatus([clusterStatus, alertStatus]),
      summary: `Alertmanager ${status.versionInfo.version}, cluster ${status.cluster.status}; ${alerts.length === 0 ? 'no active alerts' : `${plural(alerts.length, 'active alert')}: ${firing.join(', ')}`}`,
      metrics: [
        {name: 'alerts_active', value: alerts.length},
        {name: 'alerts_critical', value: count('critical'), crit: 1},
        {name: 'alerts_warning', value: count('warning'), warn: 1},
      ],
      details: {version: status.versionInfo.version, cluster: status.cluster.status, peers: status.cluster.peers?.length ?? 0},
    }
  },
}

const SEVERITY_ORDER = ['critical', 'warning', 'info']

/** Most severe first; severities outside the convention last. */
function severityRank(severity: string): number {
  const rank = SEVERITY_ORDER.indexOf(severity)
  return rank === -1 ? SEVERITY_ORDER.length : rank
}
