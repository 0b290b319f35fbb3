import {describe, expect, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import {fleetReport} from '../../../src/lib/fleet/sites.js'
import type {HealthSite} from '../../../src/lib/fleet/health.js'
import {formatFleetNagios, formatFleetPrometheus, renderFleetTable} from '../../../src/lib/fleet/render.js'

describe('fleet rendering', () => {
  const health = (context: string, status: HealthSite['status'], score: number, worstFinding = '-'): HealthSite => ({
    context,
    status,
    score,
    worstFinding,
    summary: worstFinding,
    durationSeconds: 0.1,
    checks: [{name: 'nats', component: 'nats', status, summary: worstFinding, metrics: [{name: 'rtt', value: 0.002, unit: 's'}]}],
  })
  const fleet = fleetReport([health('sandbox', 'OK', 100), health('sandbox-dr', 'CRITICAL', 70, 'nats: cannot reach nats at nats://127.0.0.1:4333')], 1.2)

  it('the table puts the worst site first, the context whole however narrow the terminal', () => {
    const text = renderFleetTable(fleet, createStyle({noColor: true}), {width: 40})
    const lines = text.split('\n')
    // Too narrow for the finding beside them: it moves under its row, whole.
    expect(lines.slice(0, 3)).toEqual([expect.stringMatching(/^CONTEXT +STATUS +SCORE$/), expect.stringMatching(/^sandbox-dr +CRITICAL +70$/), '  worst finding: nats: cannot reach nats'])
    expect(text).toMatch(/^sandbox +OK +100$/m)
    expect(text).toMatch(/^CRITICAL +1 of 2 sites not OK: sandbox-dr CRITICAL +\(2 sites in 1\.20s\)$/m)

    const wide = renderFleetTable(fleet, createStyle({noColor: true}), {width: 100}).split('\n')
    expect(wide[0]).toMatch(/^CONTEXT +STATUS +SCORE +WORST FINDING$/)
    expect(wide[1]).toMatch(/^sandbox-dr +CRITICAL +70 +nats: cannot reach nats at nats:\/\/127\.0\.0\.1:4333$/)
  })

  it('a table of sites without scores has no SCORE column', () => {
    const text = renderFleetTable(fleetReport([{context: 'a', status: 'OK', worstFinding: '-'}], 0.1), createStyle({noColor: true}))
    expect(text.split('\n')[0]).toMatch(/^CONTEXT +STATUS +WORST FINDING$/)
  })

  it('nagios: one line for the fleet with a score per site', () => {
    expect(formatFleetNagios(fleet)).toBe("CRITICAL 1 of 2 sites not OK: sandbox-dr CRITICAL | 'sandbox_score'=100;;;0;100 'sandbox-dr_score'=70;;;0;100")
  })

  it('prometheus: every sample carries its context, each family once', () => {
    const text = formatFleetPrometheus(fleet)
    expect(text).toContain('cimops_health_status{context="sandbox"} 0\ncimops_health_status{context="sandbox-dr"} 2\n')
    expect(text).toContain('cimops_nats_rtt_seconds{context="sandbox-dr",check="nats"} 0.002')
    expect(text.match(/^# TYPE /gm)).toHaveLength(new Set(text.match(/^# TYPE \S+/gm)).size)
  })
})
