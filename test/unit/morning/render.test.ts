import {describe, expect, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import {type RunbookLookup, recommendActions, shellQuote} from '../../../src/lib/morning/actions.js'
import type {MorningReport} from '../../../src/lib/morning/model.js'
import {headline, renderMorningMarkdown, renderMorningText} from '../../../src/lib/morning/render.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const runbooks: RunbookLookup = {
  forAlert: (name) => ({HighEventProcessingLag: {id: 'high-event-lag', params: ['STREAM', 'CONSUMER', 'DOMAIN']}, DiskSpaceLow: {id: 'disk-space-low', params: ['MOUNT']}})[name],
  byId: (id) => ({'high-event-lag': {id: 'high-event-lag', params: ['STREAM', 'CONSUMER', 'DOMAIN']}, 'backup-restore': {id: 'backup-restore', params: []}, 'dr-drill': {id: 'dr-drill', params: ['STREAM']}})[id],
}

function report(): MorningReport {
  const checkedAt = '2026-11-22T08:00:00.000Z'
  const areas: Omit<MorningReport, 'status' | 'summary' | 'checks' | 'durationSeconds' | 'checkedAt' | 'window' | 'actions'> = {
    alerts: {
      status: 'CRITICAL',
      summary: '1 firing (1 critical); 1 episode resolved in the window',
      active: [{alertname: 'HighEventProcessingLag', severity: 'critical', labels: {severity: 'critical', domain: 'graph', consumer: 'graph-search'}, summary: 'graph-search is 94s behind', startsAt: '2026-11-22T07:30:00.000Z', runbook: 'high-event-lag'}],
      suppressed: 0,
      overnight: [{alertname: 'DiskSpaceLow', labels: {mountpoint: '/data'}, from: '2026-11-22T01:00:00.000Z', to: '2026-11-22T02:00:00.000Z', stillFiring: false, durationSeconds: 3600}],
    },
    events: {status: 'OK', summary: '≈437 events in 12h, 0/s now; 2 domains', source: 'jetstream', stream: 'EVENTS', domains: [{domain: 'graph', ratePerSecond: null, windowCount: null, stored: 300, lastEventAt: '2026-11-22T07:59:00.000Z'}, {domain: 'agent', ratePerSecond: null, windowCount: null, stored: 137, lastEventAt: null}], windowCount: 437, ratePerSecond: 0},
    consumers: {
      status: 'WARNING',
      summary: '2 of 3 consumers behind',
      consumers: [
        {stream: 'EVENTS', name: 'graph-search', status: 'CRITICAL', lagSeconds: 94, pending: 120, unprocessed: 100, ackPending: 20, stalled: false, summary: ''},
        {stream: 'EVENTS', name: 'workflow-analytics', status: 'WARNING', lagSeconds: 75, pending: 52, unprocessed: 40, ackPending: 12, stalled: false, summary: '', trend: {previousPending: 30, previousAt: '2026-11-21T08:00:00.000Z', deltaPending: 22, direction: 'growing'}},
        {stream: 'EVENTS', name: 'agent-projection', status: 'OK', lagSeconds: 0, pending: 0, unprocessed: 0, ackPending: 0, stalled: false, summary: ''},
      ],
      previousCheckAt: '2026-11-21T08:00:00.000Z',
    },
    gpu: {status: 'OK', summary: 'no GPU on this host; no fleet registered', local: {status: 'OK', summary: 'no GPU on this host'}, nodes: []},
    backups: {status: 'CRITICAL', summary: 'newest set s1 is 5d old (critical from 3d); 1 set', dir: '/b', sets: 1, warnSeconds: 93600, critSeconds: 259200, newest: {name: 's1', path: '/b/s1', time: '2026-11-17T08:00:00.000Z', ageSeconds: 432000, streams: ['EVENTS']}, streams: [{stream: 'EVENTS', status: 'CRITICAL', set: 's1', ageSeconds: 432000}]},
    drills: {status: 'WARNING', summary: 'never drilled: no drill in the ops log', warnSeconds: 3024000},
    health: {status: 'WARNING', summary: 'score 90/100; 1 of 10 checks not OK: disk:/data WARNING', score: 90, checks: [{name: 'disk:/data', component: 'system', status: 'WARNING', summary: '15% free'}, {name: 'nats', component: 'nats', status: 'OK', summary: 'ok'}]},
    domains: {
      status: 'WARNING',
      summary: '2 domains on EVENTS: 1 WARNING, 1 OK — workflow: workflow-analytics behind: lag 1m15s >= 10s (context)',
      domains: [
        {domain: 'workflow', status: 'WARNING', summary: 'workflow-analytics behind: lag 1m15s >= 10s (context)'},
        {domain: 'graph', status: 'OK', summary: '2/s now, newest event 1s ago, 2 projections ok'},
      ],
    },
  }
  const actions = recommendActions({...areas, checkedAt}, runbooks)
  const checks = (['alerts', 'events', 'consumers', 'gpu', 'backups', 'drills', 'health', 'domains'] as const).map((name) => ({name, component: 'morning', status: areas[name].status, summary: areas[name].summary, metrics: []}))
  return {status: 'CRITICAL', summary: 'x', checks, durationSeconds: 0.4, checkedAt, context: 'prod', window: {seconds: 43200, from: '2026-11-21T20:00:00.000Z'}, ...areas, actions}
}

describe('recommended actions', () => {
  it('worst first, each with its runbook and the command to type, parameters from the alert\'s labels', () => {
    expect(report().actions).toEqual([
      {status: 'CRITICAL', area: 'alerts', text: 'Alert HighEventProcessingLag (domain=graph consumer=graph-search) firing for 30m: graph-search is 94s behind', runbook: 'high-event-lag', command: 'cimops runbook run high-event-lag --all --param DOMAIN=graph --param CONSUMER=graph-search'},
      {status: 'CRITICAL', area: 'backups', text: 'Backups are 5d old: take one and check the schedule', runbook: 'backup-restore', command: 'cimops backup create'},
      {status: 'WARNING', area: 'consumers', text: 'Consumer workflow-analytics on EVENTS is 1m15s behind with 52 events pending, backlog growing (+22 since the last check)', runbook: 'high-event-lag', command: 'cimops runbook run high-event-lag --all --param CONSUMER=workflow-analytics --param STREAM=EVENTS --param DOMAIN=workflow'},
      {status: 'WARNING', area: 'health', text: 'disk:/data: 15% free', runbook: 'disk-space-low', command: 'cimops runbook run disk-space-low --all'},
      {status: 'WARNING', area: 'drills', text: 'No DR drill on record: schedule the monthly drill', runbook: 'dr-drill', command: 'cimops runbook run dr-drill --all'},
    ])
  })

  it('quotes values for the shell', () => {
    expect(shellQuote('graph-search')).toBe('graph-search')
    expect(shellQuote("it's a; b")).toBe(`'it'\\''s a; b'`)
  })
})

describe('rendering', () => {
  it('Markdown for the team channel: verdict, areas, actions, details', () => {
    const md = renderMorningMarkdown(report())
    expect(md.split('\n').slice(0, 5)).toEqual([
      '### 🔴 CIM morning check — CRITICAL',
      '_2026-11-22 08:00 UTC · context `prod` · last 12h · 0.4s_',
      '',
      '**Needs attention: Alerts (CRITICAL), Backups (CRITICAL), Consumers (WARNING), DR drills (WARNING), Health check (WARNING), Domains (WARNING).**',
      '',
    ])
    expect(md).toContain('| 🔴 | Alerts | CRITICAL | 1 firing (1 critical); 1 episode resolved in the window |')
    expect(md).toContain('1. 🔴 Alert HighEventProcessingLag (domain=graph consumer=graph-search) firing for 30m: graph-search is 94s behind — runbook `high-event-lag`<br>`cimops runbook run high-event-lag --all --param DOMAIN=graph --param CONSUMER=graph-search`')
    expect(md).toContain('| critical | **HighEventProcessingLag** | consumer=graph-search domain=graph | 30m ago | `high-event-lag` |')
    expect(md).toContain('- DiskSpaceLow (mountpoint=/data): 7h ago, lasted 1h')
    expect(md).toContain('| workflow-analytics | 🟡 WARNING | 1m15s | 52 | backlog growing (+22 since the last check) |')
    expect(md).toContain('| agent | 137 | never |')
    expect(md).not.toContain('agent-projection')
    expect(md).toContain('#### Domains: 🟡 WARNING')
    expect(md).toContain('| workflow | 🟡 WARNING | workflow-analytics behind: lag 1m15s >= 10s (context) |')
    expect(md).not.toContain('| graph | 🟢')
  })

  it('text for the terminal', () => {
    const text = renderMorningText(report(), createStyle({noColor: true}))
    expect(text.split('\n').slice(0, 4)).toEqual([
      'CIM morning check · prod · 2026-11-22 08:00 UTC · last 12h',
      'CRITICAL  Needs attention: Alerts (CRITICAL), Backups (CRITICAL), Consumers (WARNING), DR drills (WARNING), Health check (WARNING), Domains (WARNING).',
      '',
      'AREA          STATUS    SUMMARY',
    ])
    expect(text).toContain('Recommended actions\n1. [CRITICAL] Alert HighEventProcessingLag')
    expect(text).toContain('   $ cimops backup create')
    expect(text).toMatch(/Domains \(cimops domain health\)\nDOMAIN +STATUS +SUMMARY\nworkflow +WARNING +workflow-analytics behind/)
    expect(headline({...report(), checks: report().checks.map((c) => ({...c, status: 'OK' as const}))})).toBe('All 8 areas OK.')
  })
})

describe('the terminal tables fit by the house rules', () => {
  it.each(WIDTHS)('at %d columns: areas, alerts and consumers keep their names whole', (width) => {
    const base = report()
    const long = {
      ...base,
      consumers: {
        ...base.consumers,
        consumers: [
          {...base.consumers.consumers[0], name: 'workflow-analytics-projection-eu-west-1'},
          {...base.consumers.consumers[1], stream: 'CIM_EVENTS_ARCHIVE', name: 'workflow-analytics-projection-eu-west-1'},
        ],
      },
    }
    const text = expectFits((w) => renderMorningText(long, createStyle({noColor: true}), w), width, [
      ['Alerts'],
      ['HighEventProcessingLag'],
      ['EVENTS', 'workflow-analytics-projection-eu-west-1'],
      ['CIM_EVENTS_ARCHIVE', 'workflow-analytics-projection-eu-west-1'],
    ])
    expect(text).not.toContain('…')
  })
})
