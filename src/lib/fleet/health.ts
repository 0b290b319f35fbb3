import type {ResolvedContext} from '../core/context-types.js'
import {type CheckResult, sortWorstFirst, summarize} from '../core/check/result.js'
import {healthScore} from '../health/score.js'
import {type HealthOptions, type HealthReport, runHealthCheck} from '../health/service.js'
import {type FleetReport, runSites, siteName, type SiteVerdict} from './sites.js'

/** One site of a fleet health check: its verdict plus its report as a single-site health-check gives it. */
export interface HealthSite extends SiteVerdict {
  score: number
  summary: string
  checks: CheckResult[]
  durationSeconds: number
}

export type HealthFleetReport = FleetReport<HealthSite> & {checkedAt: string}

/** `health-check` on every site at once; never throws for a sick or unreachable site. */
export async function runHealthFleet(contexts: ResolvedContext[], options: Omit<HealthOptions, 'nats'>): Promise<HealthFleetReport> {
  const checkedAt = (options.now ?? (() => new Date()))().toISOString()
  const fleet = await runSites(
    contexts,
    async (ctx) => healthSite(await runHealthCheck(ctx, options), siteName(ctx)),
    (ctx, failure) => {
      const report = summarize([failure], failure.durationSeconds ?? 0)
      return healthSite({...report, score: healthScore(report.checks, ctx.scoreWeights).score, scoreGroups: {}, checkedAt}, siteName(ctx))
    },
  )
  return {...fleet, checkedAt}
}

function healthSite(report: HealthReport, context: string): HealthSite {
  const worst = sortWorstFirst(report.checks).find((check) => check.status !== 'OK')
  return {
    context,
    status: report.status,
    score: report.score,
    worstFinding: worst ? `${worst.name}: ${worst.summary}` : '-',
    summary: report.summary,
    checks: report.checks,
    durationSeconds: report.durationSeconds,
  }
}
