import {describe, expect, it} from 'vitest'

import {toAlertView} from '../../../src/lib/alerts/model.js'
import {renderAlertList} from '../../../src/lib/alerts/render.js'
import {createStyle} from '../../../src/lib/core/output/style.js'
import type {AlertsSite} from '../../../src/lib/fleet/alerts.js'
import {fleetReport} from '../../../src/lib/fleet/sites.js'
import type {HealthSite} from '../../../src/lib/fleet/health.js'
import {formatFleetNagios, formatFleetPrometheus, renderFleetTable} from '../../../src/lib/fleet/render.js'
import {renderAlertSites} from '../../../src/lib/fleet/render-alerts.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

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

describe.each(WIDTHS)('alerts list --verbose on several contexts at %d columns: each site its own table', (width) => {
  const style = createStyle({noColor: true})
  const now = Date.parse('2026-12-05T03:00:00Z')
  const LONG = 'workflow-analytics-projection-eu-west-1'
  const alert = (fingerprint: string, alertname: string, severity: string) =>
    toAlertView({
      fingerprint,
      labels: {alertname, severity, consumer: LONG, stream: 'EVENTS', team: 'cim-platform'},
      annotations: {summary: `${LONG} is 94s behind the head of EVENTS`, runbook_url: 'https://runbooks.cim.example/high-event-processing-lag'},
      startsAt: '2026-12-05T02:00:00Z',
      endsAt: '2030-01-01T00:00:00Z',
      updatedAt: '2026-12-05T02:00:00Z',
      receivers: [{name: 'pagerduty'}],
      status: {state: 'active', silencedBy: [], inhibitedBy: []},
    })
  const lag = alert('f1', 'HighEventProcessingLag', 'critical')
  const disk = alert('f2', 'JetStreamDiskFilling', 'warning')
  const site = (context: string, alerts: AlertsSite['alerts'], error?: string): AlertsSite => ({context, status: error ? 'CRITICAL' : 'OK', worstFinding: '-', alerts, warnings: [], error})
  const sites = [site('prod-eu-west-1', [lag, disk]), site('prod-us-east-1', [disk]), site('staging', []), site('dr', [], 'cannot reach alertmanager at http://127.0.0.1:9093')]
  const render = (w: number | undefined) => renderAlertSites(sites, {style, width: w, now, matching: ' matching team=cim-platform', none: 'No active alerts matching team=cim-platform.'})

  it('every site under its heading, in the order given, with the table one context alone shows', () => {
    const text = expectFits(render, width, [['HighEventProcessingLag'], ['JetStreamDiskFilling'], ['JetStreamDiskFilling']])
    const sections = text.split(/^── (\S+) ──\n/m).slice(1)
    expect(sections.filter((_, i) => i % 2 === 0)).toEqual(['prod-eu-west-1', 'prod-us-east-1', 'staging', 'dr'])
    const body = (context: string) => sections[sections.indexOf(context) + 1].trimEnd()
    expect(body('prod-eu-west-1')).toBe(renderAlertList([lag, disk], {style, width, now, matching: ' matching team=cim-platform'}))
    expect(body('prod-eu-west-1')).toMatch(/^SEVERITY +ALERTNAME +LABELS/)
    expect(body('prod-eu-west-1')).not.toContain('CONTEXTS')
    expect(body('prod-eu-west-1')).toMatch(/\n\n2 alerts: 1 critical, 1 warning matching team=cim-platform$/)
    expect(body('prod-us-east-1')).toMatch(/\n\n1 alert: 1 warning matching team=cim-platform$/)
    expect(body('staging')).toBe('No active alerts matching team=cim-platform.')
    expect(body('dr')).toBe('cannot reach alertmanager at http://127.0.0.1:9093')
  })
})
