import type {ResolvedContext} from '../core/context-types.js'
import type {Status} from '../core/check/status.js'
import {alertmanagerFor} from '../alerts/clients.js'
import {listAlerts, type ListAlertsOptions} from '../alerts/list.js'
import {sortAlerts, type AlertView} from '../alerts/model.js'
import {type FleetReport, runSites, siteName, type SiteVerdict} from './sites.js'

/** One site of `alerts list` on several contexts: its alerts, or why its Alertmanager could not be read. */
export interface AlertsSite extends SiteVerdict {
  alerts: AlertView[]
  warnings: string[]
  /** Why its Alertmanager could not be read: its alerts are unknown, not none. */
  error?: string
}

/** An alert with the sites it fires in: the same labels in several Alertmanagers are one alert. */
export type FleetAlert = AlertView & {contexts: string[]}

export type AlertsFleetReport = FleetReport<AlertsSite> & {alerts: FleetAlert[]}

/**
 * `alerts list` on every site at once. A site's status is its most severe active alert (critical is CRITICAL,
 * warning WARNING), or CRITICAL when its Alertmanager cannot be reached.
 */
export async function listFleetAlerts(contexts: ResolvedContext[], options: Omit<ListAlertsOptions, 'groupBy'>): Promise<AlertsFleetReport> {
  const fleet = await runSites(
    contexts,
    async (ctx) => alertsSite(siteName(ctx), await listAlerts(await alertmanagerFor(ctx), options)),
    (ctx, failure) => ({context: siteName(ctx), status: failure.status, worstFinding: failure.summary, alerts: [], warnings: [], error: failure.summary}),
  )
  return {...fleet, alerts: mergeAlerts(fleet.contexts)}
}

function alertsSite(context: string, {alerts, warnings}: {alerts: AlertView[]; warnings: string[]}): AlertsSite {
  const firing = alerts.filter((alert) => alert.state === 'active')
  const status: Status = firing.some((a) => a.severity?.toLowerCase() === 'critical') ? 'CRITICAL' : firing.some((a) => a.severity?.toLowerCase() === 'warning') ? 'WARNING' : 'OK'
  // Alerts come most severe and oldest first.
  const worst = firing[0] ?? alerts[0]
  return {context, status, worstFinding: worst ? `${worst.alertname}: ${worst.annotations.summary ?? worst.annotations.description ?? worst.state}` : '-', alerts, warnings}
}

/** Every site's alerts, those with the same labels once, naming the sites in the order given. */
export function mergeAlerts(sites: ReadonlyArray<Pick<AlertsSite, 'context' | 'alerts'>>): FleetAlert[] {
  const byLabels = new Map<string, FleetAlert>()
  for (const site of sites) {
    for (const alert of site.alerts) {
      const key = JSON.stringify(Object.entries(alert.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      const seen = byLabels.get(key)
      if (seen) seen.contexts.push(site.context)
      else byLabels.set(key, {...alert, contexts: [site.context]})
    }
  }
  return sortAlerts([...byLabels.values()])
}
