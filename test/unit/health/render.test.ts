import {describe, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import {renderReport as renderHealth} from '../../../src/lib/health/render.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})

describe.each(WIDTHS)('tables at %d columns: the house rules (core/output/table.ts) with long real names', (width) => {
  it('health-check: check names whole, summaries wrapped (--verbose metrics too)', () => {
    const checks = [
      {name: 'consumer:EVENTS/workflow-analytics-projection-eu-west-1', component: 'jetstream', status: 'CRITICAL' as const, summary: 'lag 15m4s >= 1m (default), 12345 pending, no delivery for 6m1s (stalled)', metrics: [{name: 'lag_seconds', value: 904}, {name: 'pending', value: 12_345}]},
      {name: 'consumer:EVENTS/workflow-analytics-projection-eu-west-2', component: 'jetstream', status: 'OK' as const, summary: 'lag 0s', metrics: [{name: 'lag_seconds', value: 0}]},
    ]
    const report = {status: 'CRITICAL' as const, summary: '1 of 2 checks CRITICAL', checks, durationSeconds: 0.4, score: 50}
    expectFits((w) => renderHealth(report, style, {width: w}), width, checks.map((c) => [c.name]))
    expectFits((w) => renderHealth(report, style, {width: w, verbose: true}), width, checks.map((c) => [c.name]))
  })
})
