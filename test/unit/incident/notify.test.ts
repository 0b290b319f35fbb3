import {afterEach, describe, expect, it} from 'vitest'

import {pagerDutyBody} from '../../../src/lib/adapters/notify/pagerduty.js'
import {retryAfter} from '../../../src/lib/adapters/notify/post.js'
import {backoffDelay, DEFAULT_RETRY, NotifierHttpError, withRetry} from '../../../src/lib/adapters/notify/retry.js'
import {slackTarget} from '../../../src/lib/adapters/notify/slack.js'
import {ApiError, TimeoutError, UnreachableError} from '../../../src/lib/core/errors.js'
import {clearRegisteredSecrets, redactString} from '../../../src/lib/core/redact.js'
import {incidentEvent} from '../../../src/lib/incident/events.js'
import {foldIncident} from '../../../src/lib/incident/fold.js'
import {incidentAlerts, pagerDutyEvent, pendingDirect, slackMessage} from '../../../src/lib/incident/notify.js'

const alice = {user: 'alice', host: 'ops1'}
const ID = 'INC-20261122-3'
const t0 = new Date('2026-11-22T03:00:00Z')
const later = new Date('2026-11-22T03:20:00Z')
const declared = incidentEvent('IncidentDeclared', ID, alice, {title: 'Orders <lag> & more', severity: 'major', summary: 'lag 4m', commander: 'alice'}, t0)
const open = foldIncident([declared])!

describe('Alertmanager alert of an incident', () => {
  it('fires with incident and severity labels, title/summary/commander annotations and an explicit endsAt hours ahead', () => {
    expect(incidentAlerts(open, later)).toEqual([
      {
        labels: {alertname: 'IncidentDeclared', incident: ID, severity: 'major'},
        annotations: {title: 'Orders <lag> & more', summary: 'lag 4m', commander: 'alice'},
        startsAt: t0.toISOString(),
        endsAt: '2026-11-22T15:20:00.000Z',
      },
    ])
  })

  it('resolves the label sets of earlier severities, and everything once resolved (endsAt now)', () => {
    const changed = foldIncident([declared, incidentEvent('IncidentSeverityChanged', ID, alice, {from: 'major', to: 'critical'}, later)])!
    expect(incidentAlerts(changed, later).map((a) => [a.labels.severity, a.endsAt])).toEqual([
      ['major', later.toISOString()],
      ['critical', '2026-11-22T15:20:00.000Z'],
    ])
    const resolved = foldIncident([declared, incidentEvent('IncidentResolved', ID, alice, {}, later)])!
    expect(incidentAlerts(resolved, later).map((a) => a.endsAt)).toEqual([later.toISOString()])
  })
})

describe('direct notifications', () => {
  it('are owed until sent for the action the status calls for', () => {
    const channels = ['alertmanager', 'pagerduty', 'slack'] as const
    expect(pendingDirect(open, channels)).toEqual([
      {channel: 'pagerduty', action: 'trigger'},
      {channel: 'slack', action: 'trigger'},
    ])
    const sent = foldIncident([
      declared,
      incidentEvent('IncidentNotificationSent', ID, alice, {channel: 'pagerduty', action: 'trigger', attempts: 1}, t0),
      incidentEvent('IncidentNotificationFailed', ID, alice, {channel: 'slack', action: 'trigger', attempts: 4, error: 'HTTP 500'}, t0),
    ])!
    expect(pendingDirect(sent, channels)).toEqual([{channel: 'slack', action: 'trigger'}])
    const resolved = foldIncident([...[declared], incidentEvent('IncidentNotificationSent', ID, alice, {channel: 'pagerduty', action: 'trigger', attempts: 1}, t0), incidentEvent('IncidentResolved', ID, alice, {}, later)])!
    expect(pendingDirect(resolved, ['alertmanager', 'pagerduty'])).toEqual([{channel: 'pagerduty', action: 'resolve'}])
  })

  it('PagerDuty: trigger with the incident id as dedup key, mapped severity, summary within 1024 chars; resolve is minimal', () => {
    const body = pagerDutyBody('R0UTINGKEY', pagerDutyEvent(open, 'trigger', {source: 'cimops/prod', group: 'prod'}))
    expect(body).toMatchObject({
      routing_key: 'R0UTINGKEY',
      event_action: 'trigger',
      dedup_key: ID,
      client: 'cimops',
      payload: {summary: `[${ID}] Orders <lag> & more`, source: 'cimops/prod', severity: 'error', timestamp: t0.toISOString(), group: 'prod', class: 'incident', custom_details: {incident: ID, commander: 'alice'}},
    })
    const long = pagerDutyBody('k', {action: 'trigger', dedupKey: ID, summary: 'x'.repeat(5000), source: 's', severity: 'critical'})
    expect(Array.from((long.payload as {summary: string}).summary)).toHaveLength(1024)
    expect(pagerDutyBody('k', pagerDutyEvent(open, 'resolve', {source: 's'}))).toEqual({routing_key: 'k', event_action: 'resolve', dedup_key: ID})
  })

  it('Slack: escaped text on declare and resolve', () => {
    expect(slackMessage(open, 'trigger', later).text).toContain('*INC-20261122-3* declared, *major*: Orders &lt;lag&gt; &amp; more')
    const resolved = foldIncident([declared, incidentEvent('IncidentResolved', ID, alice, {note: 'fixed'}, later)])!
    expect(slackMessage(resolved, 'resolve', later).text).toMatch(/resolved after 20m.*\nResolution: fixed/)
  })

  describe('Slack webhook target', () => {
    afterEach(() => clearRegisteredSecrets())
    it('sends the secret path to the override origin and registers every secret part for redaction', () => {
      const url = slackTarget('https://hooks.slack.com/services/T0/B0/S3CRETPATH', 'http://127.0.0.1:9999/')
      expect(url).toBe('http://127.0.0.1:9999/services/T0/B0/S3CRETPATH')
      expect(redactString(`failed ${url} and /services/T0/B0/S3CRETPATH`)).not.toContain('S3CRETPATH')
      expect(() => slackTarget('not a url', undefined)).toThrow(/invalid Slack webhook URL/)
    })
  })
})

describe('notifier retries', () => {
  const fast = {attempts: 4, baseDelayMs: 1, maxDelayMs: 5}
  const http = (status: number) => new NotifierHttpError('pagerduty', 'x', `HTTP ${status}`, {status})

  it('retry 429 and 5xx until success, bounded', async () => {
    const answers = [http(429), http(500), undefined]
    let calls = 0
    const result = await withRetry(async () => {
      const answer = answers[calls++]
      if (answer) throw answer
      return 'ok'
    }, fast)
    expect(result).toEqual({ok: true, value: 'ok', attempts: 3})

    let always = 0
    const failed = await withRetry(async () => {
      always++
      throw http(503)
    }, fast)
    expect(failed).toMatchObject({ok: false, attempts: 4})
    expect(always).toBe(4)
  })

  it('never retry other 4xx; retry unreachable', async () => {
    let calls = 0
    const result = await withRetry(async () => {
      calls++
      throw new ApiError('slack', 'x', 'HTTP 400: invalid_payload', {status: 400})
    }, fast)
    expect(result).toMatchObject({ok: false, attempts: 1})
    expect(calls).toBe(1)
    let down = 0
    await withRetry(async () => {
      down++
      throw new UnreachableError('alertmanager', 'x', 'connection refused')
    }, fast)
    expect(down).toBe(4)
  })

  it('back off exponentially with jitter, honour Retry-After, cap each delay', () => {
    expect(backoffDelay(1, DEFAULT_RETRY, undefined, () => 0)).toBe(125)
    expect(backoffDelay(3, DEFAULT_RETRY, undefined, () => 1)).toBe(1000)
    expect(backoffDelay(1, DEFAULT_RETRY, 3000, () => 0)).toBe(3000)
    expect(backoffDelay(10, DEFAULT_RETRY, 60_000, () => 1)).toBe(DEFAULT_RETRY.maxDelayMs)
    expect(retryAfter('2')).toBe(2000)
    expect(retryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000)
    expect(retryAfter('soon')).toBeUndefined()
  })

  it('share one deadline: each attempt gets what is left, and none starts without time for it', async () => {
    let clock = 0
    const budgets: number[] = []
    const result = await withRetry(
      async (_attempt, budgetMs) => {
        budgets.push(budgetMs)
        clock += Math.min(budgetMs, 5000) // a hung endpoint: each attempt waits out its timeout (5s) or the budget
        throw new TimeoutError('alertmanager', 'x', Math.min(budgetMs, 5000))
      },
      {attempts: 4, baseDelayMs: 250, maxDelayMs: 4000, totalMs: 10_000},
      {now: () => clock, random: () => 1, sleep: async (ms) => void (clock += ms)},
    )
    expect(result).toMatchObject({ok: false, attempts: 2})
    expect(budgets).toEqual([10_000, 4750])
    expect(clock).toBe(10_000)
    // Without a deadline: every attempt, unbounded.
    const unbounded: number[] = []
    await withRetry(async (_attempt, budgetMs) => {
      unbounded.push(budgetMs)
      throw http(503)
    }, fast)
    expect(unbounded).toEqual([Infinity, Infinity, Infinity, Infinity])
  })

  it('stop waiting on a hung call as soon as aborted', async () => {
    const controller = new AbortController()
    const started = performance.now()
    const pending = withRetry(() => new Promise<never>(() => undefined), {attempts: 4, baseDelayMs: 1, maxDelayMs: 1, totalMs: 60_000}, {signal: controller.signal})
    setTimeout(() => controller.abort(new Error('interrupted')), 20)
    await expect(pending).rejects.toThrow('interrupted')
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it('stop waiting when aborted', async () => {
    const controller = new AbortController()
    const pending = withRetry(async () => {
      throw http(500)
    }, {attempts: 3, baseDelayMs: 10_000, maxDelayMs: 10_000}, {signal: controller.signal})
    setTimeout(() => controller.abort(new Error('stop')), 20)
    await expect(pending).rejects.toThrow('stop')
  })
})
