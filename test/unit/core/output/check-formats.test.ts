import {describe, expect, it} from 'vitest'

import {formatNagios, formatPrometheus} from '../../../../src/lib/core/output/check-formats.js'
import type {CheckReport} from '../../../../src/lib/core/check/result.js'

const report: CheckReport = {
  status: 'WARNING',
  summary: 'consumer:graph-projection: lag 12s | odd',
  durationSeconds: 0.21,
  checks: [
    {name: 'nats', component: 'nats', status: 'OK', summary: 'ok', metrics: [{name: 'rtt', value: 0.00042, unit: 's', warn: 0.5, crit: 1}]},
    {name: 'consumer:graph-projection', component: 'consumers', status: 'WARNING', summary: 'lag 12s', metrics: [{name: 'lag', value: 12.5, unit: 's', warn: 10, crit: 60}, {name: 'unprocessed', value: 3}]},
    {name: 'disk:/', component: 'system', status: 'OK', summary: '31% free', metrics: [{name: 'disk_free', value: 31.4, unit: '%', warn: 20, crit: 10, lowIsBad: true}]},
    {name: 'memory', component: 'system', status: 'OK', summary: '', metrics: [{name: 'memory_used', value: 2e-7, unit: '%', warn: 80, crit: 90}]},
  ],
}

describe('formatNagios', () => {
  it('prints one line: status, summary without pipes, perfdata with units and threshold ranges', () => {
    expect(formatNagios(report)).toBe(
      'WARNING consumer:graph-projection: lag 12s / odd | nats_rtt=0.00042s;0.5;1 consumer:graph-projection_lag=12.5s;10;60 consumer:graph-projection_unprocessed=3 disk:/_disk_free=31.4%;20:;10: memory_used=0%;80;90',
    )
  })
})

describe('formatPrometheus', () => {
  const text = formatPrometheus(report)

  it('carries the Nagios code per check and overall, and one gauge per metric named with its unit', () => {
    expect(text).toContain('cimops_health_status 1\n')
    expect(text).toContain('cimops_check_status{check="consumer:graph-projection",component="consumers"} 1\n')
    expect(text).toContain('cimops_consumers_lag_seconds{check="consumer:graph-projection"} 12.5\n')
    expect(text).toContain('cimops_system_disk_free_percent{check="disk:/"} 31.4\n')
    expect(text.endsWith('\n')).toBe(true)
  })

  it('keeps each metric family contiguous with one HELP and TYPE', () => {
    const names = text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0])
    const seen = new Set<string>()
    for (let i = 0; i < names.length; i++) {
      if (names[i] !== names[i - 1]) {
        expect(seen.has(names[i]), `${names[i]} is split`).toBe(false)
        seen.add(names[i])
      }
    }
    expect(text.match(/^# TYPE cimops_check_status gauge$/gm)).toHaveLength(1)
  })
})
