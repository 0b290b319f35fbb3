import {describe, expect, it} from 'vitest'

import {ago, groupAlerts, humanSeconds, keyLabels, severityRank, sortAlerts, toAlertView, type ApiAlertLike} from '../../../src/lib/alerts/model.js'
import {alertQuery, escapeRegex} from '../../../src/lib/alerts/list.js'
import {compileRegex, parseMatcher} from '../../../src/lib/alerts/matchers.js'

function alert(fingerprint: string, labels: Record<string, string>, startsAt: string, status: Partial<ApiAlertLike['status']> = {}): ApiAlertLike {
  return {
    fingerprint,
    labels,
    annotations: {},
    startsAt,
    endsAt: '2030-01-01T00:00:00Z',
    updatedAt: startsAt,
    receivers: [{name: 'null'}],
    status: {state: 'active', silencedBy: [], inhibitedBy: [], ...status},
  }
}

describe('severity order and sorting', () => {
  it('critical > warning > info > anything else, case-insensitive', () => {
    expect(['info', 'page', 'critical', null, 'WARNING'].sort((a, b) => severityRank(a) - severityRank(b))).toEqual(['critical', 'WARNING', 'info', 'page', null])
  })

  it('sorts by severity, then oldest first, then alertname', () => {
    const views = [
      alert('1', {alertname: 'B', severity: 'warning'}, '2026-01-01T10:00:00Z'),
      alert('2', {alertname: 'A', severity: 'critical'}, '2026-01-01T11:00:00Z'),
      alert('3', {alertname: 'C', severity: 'warning'}, '2026-01-01T09:00:00Z'),
      alert('4', {alertname: 'D'}, '2026-01-01T08:00:00Z'),
      alert('5', {alertname: 'E', severity: 'page'}, '2026-01-01T07:00:00Z'),
      alert('6', {alertname: 'A', severity: 'warning'}, '2026-01-01T10:00:00Z'),
      alert('7', {alertname: 'F', severity: 'info'}, '2026-01-01T12:00:00Z'),
    ].map((a) => toAlertView(a))
    expect(sortAlerts(views).map((v) => v.fingerprint)).toEqual(['2', '3', '6', '1', '7', '5', '4'])
  })
})

describe('groupAlerts', () => {
  it('groups sorted alerts by a label, groups in the order of their first alert; a missing label is null', () => {
    const sorted = sortAlerts(
      [
        alert('1', {alertname: 'A', severity: 'warning', domain: 'graph'}, '2026-01-01T10:00:00Z'),
        alert('2', {alertname: 'B', severity: 'critical', domain: 'workflow'}, '2026-01-01T11:00:00Z'),
        alert('3', {alertname: 'C', severity: 'info'}, '2026-01-01T09:00:00Z'),
        alert('4', {alertname: 'D', severity: 'critical', domain: 'graph'}, '2026-01-01T12:00:00Z'),
      ].map((a) => toAlertView(a)),
    )
    expect(groupAlerts(sorted, 'domain').map((g) => [g.value, g.alerts.map((a) => a.fingerprint)])).toEqual([
      ['workflow', ['2']],
      ['graph', ['4', '1']],
      [null, ['3']],
    ])
    expect(groupAlerts(sorted, 'severity').map((g) => g.value)).toEqual(['critical', 'warning', 'info'])
  })
})

describe('toAlertView', () => {
  it('derives alertname, severity and state', () => {
    expect(toAlertView(alert('1', {alertname: 'A'}, '2026-01-01T10:00:00Z'))).toMatchObject({alertname: 'A', severity: null, state: 'active', receivers: ['null'], runbook: null})
    expect(toAlertView(alert('1', {}, 'x', {state: 'suppressed', silencedBy: ['s'], inhibitedBy: ['f']})).state).toBe('silenced')
    expect(toAlertView(alert('1', {}, 'x', {state: 'suppressed', inhibitedBy: ['f']})).state).toBe('inhibited')
    expect(toAlertView(alert('1', {}, 'x', {state: 'unprocessed'})).state).toBe('unprocessed')
  })
})

describe('alertQuery', () => {
  it('only active alerts by default, like amtool', () => {
    expect(alertQuery({matchers: []})).toEqual({filter: [], active: true, silenced: false, inhibited: false, receiver: undefined})
    expect(alertQuery({matchers: [], silenced: true})).toMatchObject({active: true, silenced: true, inhibited: false})
    expect(alertQuery({matchers: [], inhibited: true})).toMatchObject({active: true, silenced: false, inhibited: true})
  })

  it('--all leaves the server defaults (everything)', () => {
    expect(alertQuery({matchers: [], all: true, receiver: 'team-.*'})).toEqual({filter: [], receiver: 'team-.*'})
  })

  it('matchers become filters; severities one escaped regex filter', () => {
    expect(alertQuery({matchers: [parseMatcher('domain=graph')], severities: ['critical', 'p.1']}).filter).toEqual(['domain="graph"', 'severity=~"critical|p\\\\.1"'])
    expect(compileRegex(escapeRegex('a.b(c)|[d]*')).test('a.b(c)|[d]*')).toBe(true)
  })
})

describe('text helpers', () => {
  it('keyLabels leaves out alertname, severity and the given labels, sorted', () => {
    expect(keyLabels({alertname: 'A', severity: 'x', zone: 'b', domain: 'g'}, ['zone'])).toBe('domain=g')
    expect(keyLabels({b: '2', a: '1'})).toBe('a=1 b=2')
  })

  it('humanSeconds and ago', () => {
    expect([0, 42, 60, 200, 3600, 7260, 86_400, 97_200].map(humanSeconds)).toEqual(['0s', '42s', '1m', '3m20s', '1h', '2h1m', '1d', '1d3h'])
    expect([5, 2430, 7201].map(ago)).toEqual(['5s ago', '40m ago', '2h ago'])
  })
})
