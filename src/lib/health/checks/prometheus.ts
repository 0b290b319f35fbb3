import type {CheckOutcome} from '../../core/check/result.js'
import {type Status, worstStatus} from '../../core/check/status.js'
import type {CheckContext, HealthCheck} from '../runner.js'
import {plural} from '../../core/output/units.js'

/** Prometheus: ready, its version, scrape targets down (named), rule groups with evaluation errors. */
export const prometheusCheck: HealthCheck = {
  name: 'prometheus',
  component: 'prometheus',
  target: (ctx) => ({system: 'prometheus', address: ctx.prometheus.url}),
  async run({ctx}: CheckContext): Promise<CheckOutcome> {
    const {createPrometheusClient} = await import('../../adapters/prometheus/client.js')
    const prometheus = createPrometheusClient(ctx.prometheus, ctx.timeoutMs)
    const readiness = await prometheus.ready()
    if (!readiness.ready) {
      return {name: 'prometheus', component: 'prometheus', status: 'CRITICAL', summary: `${prometheus.baseUrl} is not ready: ${readiness.detail}`, metrics: [{name: 'ready', value: 0}]}
    }
    const [build, targets, groups] = await Promise.all([prometheus.buildInfo(), prometheus.targets('active'), prometheus.rules()])
    const active = targets.activeTargets
    const down = active.filter((t) => t.health === 'down')
    // Just started (or a new target): not scraped yet, so neither up nor down.
    const unscraped = active.filter((t) => t.health === 'unknown').length
    const failingRules = groups.flatMap((g) => g.rules.filter((r) => r.health === 'err').map((r) => ({group: g.name, rule: r.name, error: r.lastError ?? ''})))
    const statuses: Status[] = [
      down.length === 0 ? 'OK' : down.length === active.length ? 'CRITICAL' : 'WARNING',
      failingRules.length > 0 ? 'WARNING' : 'OK',
    ]
    const targetName = (t: (typeof down)[number]) => `${t.labels.job ?? t.scrapePool}/${t.labels.instance ?? t.scrapeUrl}${t.lastError ? ` (${t.lastError})` : ''}`
    return {
      name: 'prometheus',
      component: 'prometheus',
      status: worstStatus(statuses),
      summary: [
        `Prometheus ${build.version} ready, ${active.length - down.length - unscraped}/${active.length} targets up${unscraped > 0 ? ` (${unscraped} not scraped yet)` : ''}`,
        ...(down.length > 0 ? [`down: ${down.map(targetName).join(', ')}`] : []),
        ...(failingRules.length > 0 ? [`${plural(failingRules.length, 'rule')} failing: ${failingRules.map((r) => `${r.group}/${r.rule}: ${r.error}`).join(', ')}`] : []),
      ].join('; '),
      metrics: [
        {name: 'ready', value: 1},
        {name: 'targets', value: active.length},
        {name: 'targets_down', value: down.length, warn: 1},
        {name: 'rules_failing', value: failingRules.length, warn: 1},
      ],
      details: {version: build.version, targetsDown: down.map(targetName), rulesFailing: failingRules},
    }
  },
}
