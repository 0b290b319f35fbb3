import {describe, expect, it} from 'vitest'

import {toAlertView, type ApiAlertLike} from '../../../src/lib/alerts/model.js'
import {renderAlertTable, renderSilenceTable, stateText} from '../../../src/lib/alerts/render.js'
import {createStyle} from '../../../src/lib/core/output/style.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})

function view(fingerprint: string, alertname: string, status: Partial<ApiAlertLike['status']> = {}) {
  return toAlertView({
    fingerprint,
    labels: {alertname},
    annotations: {},
    startsAt: '2026-01-01T10:00:00Z',
    endsAt: '2030-01-01T00:00:00Z',
    updatedAt: '2026-01-01T10:00:00Z',
    receivers: [{name: 'null'}],
    status: {state: 'active', silencedBy: [], inhibitedBy: [], ...status},
  })
}

describe('the STATE of an alert says what holds it back', () => {
  it('the state alone when nothing does', () => {
    expect(stateText(view('a', 'A'))).toBe('active')
    expect(stateText(view('a', 'A', {state: 'unprocessed'}))).toBe('unprocessed')
  })

  it('silences by ID, inhibiting alerts by alertname when listed (else fingerprint), time intervals by name', () => {
    const held = view('a', 'A', {state: 'suppressed', silencedBy: ['s-1', 's-2'], inhibitedBy: ['f-src', 'f-gone'], mutedBy: ['night']})
    expect(stateText(held, new Map([['f-src', 'DiskFull']]))).toBe('silenced by s-1, s-2; inhibited by DiskFull, f-gone; muted by night')
    expect(stateText(view('b', 'B', {mutedBy: ['weekend', 'night']}))).toBe('muted by weekend, night')
  })

  it('the table names an inhibiting alert it lists', () => {
    const source = view('f-src', 'DiskFull')
    const target = view('f-tgt', 'Backup', {state: 'suppressed', inhibitedBy: ['f-src']})
    const table = renderAlertTable([source, target], {style: createStyle({noColor: true}), now: Date.parse('2026-01-01T10:05:00Z'), runbook: false})
    expect(table).toMatch(/Backup .* inhibited by DiskFull$/m)
  })
})

describe.each(WIDTHS)('alert and silence tables at %d columns: the house rules with long real names', (width) => {
  const LONG = 'workflow-analytics-projection-eu-west-1'
  const now = Date.parse('2026-12-05T03:00:00Z')

  it('alerts list: alert names whole, labels wrapped so two alerts of one name stay apart', () => {
    const alert = (fingerprint: string, region: string) =>
      toAlertView({
        fingerprint,
        labels: {alertname: 'HighEventProcessingLag', severity: 'critical', domain: 'workflow', consumer: LONG, stream: 'EVENTS', region, team: 'cim-platform', instance: 'monitor-1.internal:9091'},
        annotations: {summary: `${LONG} is 94s behind the head of EVENTS since the analytics deploy`, runbook_url: 'https://runbooks.cim.example/high-event-processing-lag'},
        startsAt: '2026-12-05T02:00:00Z',
        endsAt: '2030-01-01T00:00:00Z',
        updatedAt: '2026-12-05T02:00:00Z',
        receivers: [{name: 'pagerduty'}],
        status: {state: 'active', silencedBy: [], inhibitedBy: []},
      })
    const alerts = [alert('f1', 'eu-west-1'), alert('f2', 'eu-west-2')]
    const text = expectFits((w) => renderAlertTable(alerts, {style, width: w, now}), width, [['HighEventProcessingLag'], ['HighEventProcessingLag']])
    expect(text).toContain('region=eu-west-1')
    expect(text).toContain('region=eu-west-2')
  })

  it('silence list: IDs whole, matchers and comments wrapped', () => {
    const silence = (id: string, region: string) => ({
      id,
      state: 'active' as const,
      matchers: [
        {name: 'consumer', op: '=' as const, value: LONG},
        {name: 'region', op: '=' as const, value: region},
      ],
      startsAt: '2026-12-05T02:00:00Z',
      endsAt: '2026-12-05T05:00:00Z',
      updatedAt: '2026-12-05T02:00:00Z',
      createdBy: 'alice@cim.example',
      comment: 'replaying the analytics projection after the schema change, INC-20261205-1',
      annotations: {ticket: 'INC-20261205-1'},
      remainingSeconds: 7200,
      matchingAlerts: 2,
    })
    const silences = [silence('8d0c4f5e-2a4b-4c8e-9a51-0c6f1f8e2d11', 'eu-west-1'), silence('f3b1a9d2-7c6e-4e0a-b1d4-55e0c2a9f7a3', 'eu-west-2')]
    const text = expectFits((w) => renderSilenceTable(silences, {style, width: w, now}), width, silences.map((s) => [s.id]))
    expect(text).toContain('region="eu-west-2"')
  })
})
