// Apart from render.ts, which health-check loads: the alert tables are no part of its start-up.
import type {Style} from '../core/output/style.js'
import {renderAlertList} from '../alerts/render.js'
import type {AlertsSite} from './alerts.js'

/**
 * Each site's alerts under `── context ──` (as --verbose heads each site's report in health-check), as
 * `alerts list` on that context alone shows them: its table and counts, `none` when it has no alerts, or why
 * its Alertmanager could not be read.
 */
export function renderAlertSites(
  sites: readonly AlertsSite[],
  {style, width, now, matching, none}: {style: Style; width?: number; now: number; matching: string; none: string},
): string {
  const section = (site: AlertsSite) => {
    if (site.error !== undefined) return style.status(site.status, site.error)
    return site.alerts.length === 0 ? none : renderAlertList(site.alerts, {style, width, now, matching})
  }
  return sites.map((site) => `${style.bold(`── ${site.context} ──`)}\n${section(site)}`).join('\n\n')
}
