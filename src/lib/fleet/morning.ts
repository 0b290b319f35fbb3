import type {ResolvedContext} from '../core/context-types.js'
import {summarize} from '../core/check/result.js'
import {headline} from '../morning/render.js'
import type {MorningReport} from '../morning/model.js'
import type {MorningOptions} from '../morning/service.js'
import {type FleetReport, runSites, SITE_MARGIN_MS, siteName, type SiteVerdict} from './sites.js'

/** One site of a fleet morning check: its verdict, and its whole report unless it could not be read at all. */
export type MorningSite = SiteVerdict & Partial<MorningReport>

export type MorningFleetReport = FleetReport<MorningSite>

/**
 * `morning-check` on every site at once, each with a NATS connection of its own and its own backlog trend
 * file; areas make calls in a row, so a site gets twice the usual margin beyond its timeout.
 */
export async function runMorningFleet(
  contexts: ResolvedContext[],
  options: Omit<MorningOptions, 'nats' | 'snapshotFile'> & {snapshotFile: (context: string | undefined) => string},
): Promise<MorningFleetReport> {
  const [{runMorningCheck}, {openNatsSession}] = await Promise.all([import('../morning/service.js'), import('../adapters/nats/session.js')])
  return runSites(
    contexts,
    async (ctx) => {
      const nats = openNatsSession(ctx.nats, {timeoutMs: ctx.timeoutMs})
      try {
        const report = await runMorningCheck(ctx, {...options, nats, snapshotFile: options.snapshotFile(ctx.name)})
        return {...report, context: siteName(ctx), score: report.health.score, worstFinding: report.status === 'OK' ? '-' : headline(report)}
      } finally {
        await nats.close()
      }
    },
    (ctx, failure) => ({...summarize([failure], failure.durationSeconds ?? 0), context: siteName(ctx), worstFinding: failure.summary}),
    2 * SITE_MARGIN_MS,
  )
}
