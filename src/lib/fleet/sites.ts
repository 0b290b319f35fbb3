import type {ResolvedContext} from '../core/context-types.js'
import {DeadlineError, failedCheck, withDeadline} from '../core/check/deadline.js'
import type {CheckResult} from '../core/check/result.js'
import {type Status, worstStatus} from '../core/check/status.js'
import {plural} from '../core/output/units.js'

/**
 * Time a site gets beyond its own --timeout before the fleet gives up on it: its checks are bounded by the
 * timeout already, this covers connecting and closing around them.
 */
export const SITE_MARGIN_MS = 1500

/** What the fleet table shows of one site. */
export interface SiteVerdict {
  context: string
  status: Status
  /** 0–100 where the command has a score (health-check). */
  score?: number
  /** The worst finding as one line; "-" when all is well. */
  worstFinding: string
}

export interface FleetReport<Site extends SiteVerdict> {
  /** The worst site's status. */
  status: Status
  summary: string
  durationSeconds: number
  contexts: Site[]
}

/**
 * Runs one piece of work per site concurrently, each under its own deadline (its context's timeout plus a
 * margin), so the fleet takes as long as its slowest site and a site that does not answer delays no other.
 * A site whose work fails or runs late becomes `failed(ctx, check)`: CRITICAL when unreachable or late.
 * `marginMs` is for work that makes calls in a row beyond the timeout of one (morning-check's areas).
 */
export async function runSites<Site extends SiteVerdict>(
  contexts: ResolvedContext[],
  run: (ctx: ResolvedContext) => Promise<Site>,
  failed: (ctx: ResolvedContext, failure: CheckResult) => Site,
  marginMs = SITE_MARGIN_MS,
): Promise<FleetReport<Site>> {
  const started = performance.now()
  const sites = await Promise.all(
    contexts.map(async (ctx) => {
      const siteStarted = performance.now()
      const limitMs = ctx.timeoutMs + marginMs
      try {
        return await withDeadline(run(ctx), limitMs, () => new DeadlineError(limitMs))
      } catch (error) {
        const failure = failedCheck({name: 'site', component: 'fleet'}, error, {system: `site ${siteName(ctx)}`, address: ctx.nats.servers.join(',')})
        return failed(ctx, {...failure, durationSeconds: (performance.now() - siteStarted) / 1000})
      }
    }),
  )
  return fleetReport(sites, Math.round(performance.now() - started) / 1000)
}

export function fleetReport<Site extends SiteVerdict>(sites: Site[], durationSeconds: number): FleetReport<Site> {
  const status = worstStatus(sites.map((site) => site.status))
  const bad = sites.filter((site) => site.status !== 'OK')
  const summary =
    bad.length === 0
      ? `all ${plural(sites.length, 'site')} OK`
      : `${bad.length} of ${plural(sites.length, 'site')} not OK: ${bad.map((site) => `${site.context} ${site.status}`).join(', ')}`
  return {status, summary, durationSeconds, contexts: sites}
}

/** The name a site is known by in the fleet: its context (a fleet only runs on named contexts). */
export function siteName(ctx: ResolvedContext): string {
  return ctx.name ?? '(default)'
}
