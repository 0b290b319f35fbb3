import {describe, expect, it} from 'vitest'

import {toAlertView, type ApiAlertLike} from '../../../src/lib/alerts/model.js'
import {renderAlertTable, stateText} from '../../../src/lib/alerts/render.js'
import {createStyle} from '../../../src/lib/core/output/style.js'

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
