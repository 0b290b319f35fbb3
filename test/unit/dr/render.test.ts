import {describe, expect, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import {formatDrNagios, renderDrStatus} from '../../../src/lib/dr/render.js'
import type {DrStatusReport, ReplicationLink} from '../../../src/lib/dr/status.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const thresholds = {rpoWarnSeconds: 30, rpoCritSeconds: 300, sources: {rpoWarnSeconds: 'default' as const, rpoCritSeconds: 'default' as const}}
const link = (stream: string, fields: Partial<ReplicationLink> = {}): ReplicationLink => ({
  context: 'prod-dr',
  stream,
  kind: 'mirror',
  origin: stream.replace(/_DR$/, ''),
  originDomain: 'primary',
  apiPrefix: '$JS.primary.API',
  messagesBehind: 0,
  secondsBehind: 0,
  secondsBehindIsBound: false,
  lag: 0,
  activeSeconds: 0.4,
  originReachable: true,
  status: 'OK',
  summary: `mirror of ${stream.replace(/_DR$/, '')}@primary: in sync`,
  ...fields,
})

const report: DrStatusReport = {
  status: 'CRITICAL',
  summary: 'prod-dr ORDERS_DR: mirror of ORDERS@primary: origin unreachable, last contact 6m ago; up to 6m1s behind >= 5m',
  checkedAt: '2025-01-01T00:00:00.000Z',
  durationSeconds: 0.08,
  contexts: [{context: 'prod-dr', domain: 'dr', status: 'CRITICAL', thresholds}],
  links: [
    link('EVENTS_DR'),
    link('ORDERS_DR', {
      messagesBehind: undefined,
      secondsBehind: 361,
      secondsBehindIsBound: true,
      activeSeconds: 360,
      originReachable: false,
      status: 'CRITICAL',
      summary: 'mirror of ORDERS@primary: origin unreachable, last contact 6m ago; up to 6m1s behind >= 5m',
    }),
    link('PAYMENTS_DR', {activeSeconds: undefined, secondsBehind: undefined, status: 'CRITICAL', summary: 'mirror of PAYMENTS@primary: never heard from PAYMENTS'}),
  ],
  primaries: [{context: 'prod-dr', stream: 'AUDIT_DR', subjects: ['audit.>'], promotedFrom: {stream: 'AUDIT', domain: 'primary', at: '2025-01-01T00:00:00.000Z'}, summary: 'primary (promoted from AUDIT@primary at 2025-01-01T00:00:00.000Z)'}],
  splitBrain: [],
}

describe('dr status rendering', () => {
  const style = createStyle({noColor: true})

  it.each(WIDTHS)('fits %i columns with every context and stream whole', (width) => {
    const text = expectFits((w) => renderDrStatus(report, style, {width: w}), width, [
      ['prod-dr', 'ORDERS_DR'],
      ['prod-dr', 'PAYMENTS_DR'],
      ['prod-dr', 'EVENTS_DR'],
      ['prod-dr', 'AUDIT_DR'],
    ])
    expect(text).toContain('CRITICAL  prod-dr ORDERS_DR')
  })

  it('worst first; a bound marked ≤, a mirror never heard from "never", a promoted stream as the primary it is', () => {
    const lines = renderDrStatus(report, style).split('\n')
    expect(lines[0]).toMatch(/^CONTEXT +STREAM +ROLE +ORIGIN +MSGS BEHIND +SECONDS BEHIND +LAST CONTACT +STATUS +NOTE$/)
    expect(lines[1]).toMatch(/^prod-dr +ORDERS_DR +mirror +ORDERS@primary +- +≤6m1s +6m ago +CRITICAL +origin unreachable, last contact 6m ago; up to 6m1s behind >= 5m$/)
    expect(lines[2]).toMatch(/^prod-dr +PAYMENTS_DR +mirror +PAYMENTS@primary +0 +\? +never +CRITICAL +never heard from PAYMENTS$/)
    expect(lines.find((l) => l.includes('AUDIT_DR'))).toMatch(/^prod-dr +AUDIT_DR +primary +- +- +- +- +OK +primary \(promoted from AUDIT@primary at 2025-01-01T00:00:00.000Z\)$/)
    expect(lines.find((l) => l.includes('EVENTS_DR'))).toMatch(/^prod-dr +EVENTS_DR +mirror +EVENTS@primary +0 +0s +400ms ago +OK +-$/)
  })

  it('split brains and sites that could not be read are spelled out under the table', () => {
    const text = renderDrStatus(
      {
        ...report,
        links: [],
        primaries: [],
        contexts: [...report.contexts, {context: 'prod', status: 'CRITICAL', error: 'cannot reach nats at nats://10.0.0.1:4222', thresholds}],
        splitBrain: [{subjects: ['cim.>'], a: {site: 'prod', stream: 'EVENTS'}, b: {site: 'prod-dr', stream: 'EVENTS_DR'}, why: 'promoted', summary: 'split brain: EVENTS at prod and EVENTS_DR at prod-dr both take cim.>'}],
      },
      style,
    )
    expect(text.split('\n')).toEqual([
      'CRITICAL split brain: EVENTS at prod and EVENTS_DR at prod-dr both take cim.>',
      'CRITICAL prod: cannot reach nats at nats://10.0.0.1:4222',
      '',
      expect.stringMatching(/^CRITICAL {2}prod-dr ORDERS_DR: .* {2}\(2 sites in 0\.08s\)$/),
    ])
  })

  it("nagios: one line, natscli's lag and active per link plus seconds_behind with the RPO thresholds", () => {
    expect(formatDrNagios({...report, links: [report.links[0], report.links[1]]})).toBe(
      `CRITICAL ${report.summary} | EVENTS_DR_lag=0 EVENTS_DR_active=0.4s EVENTS_DR_seconds_behind=0s;30;300 EVENTS_DR_messages_behind=0 ORDERS_DR_lag=0 ORDERS_DR_active=360s ORDERS_DR_seconds_behind=361s;30;300 split_brain=0`,
    )
  })
})
