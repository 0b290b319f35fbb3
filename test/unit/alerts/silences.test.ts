import {describe, expect, it} from 'vitest'

import {OperationError, UsageError} from '../../../src/lib/core/errors.js'
import {parseMatcher} from '../../../src/lib/alerts/matchers.js'
import {checkSilenceInput, expireFailure, expireSilences, listSilences, parseAnnotations, planSilence, toSilenceView} from '../../../src/lib/alerts/silences.js'
import type {AlertmanagerClient} from '../../../src/lib/adapters/alertmanager/client.js'
import type {Alert, Silence} from '../../../src/lib/adapters/alertmanager/schema.js'

const base = {matchers: [parseMatcher('alertname=A')], durationMs: 7_200_000, author: 'alice', comment: 'maintenance'}

function apiAlert(fingerprint: string, labels: Record<string, string>): Alert {
  return {
    fingerprint,
    labels,
    annotations: {},
    startsAt: '2026-01-01T10:00:00Z',
    endsAt: '2030-01-01T00:00:00Z',
    updatedAt: '2026-01-01T10:00:00Z',
    receivers: [{name: 'null'}],
    status: {state: 'active', silencedBy: [], inhibitedBy: [], mutedBy: []},
  }
}

function silence(id: string, state: Silence['status']['state'], endsAt = '2026-01-01T12:00:00Z'): Silence {
  return {id, status: {state}, matchers: [{name: 'alertname', value: 'A', isRegex: false, isEqual: true}], startsAt: '2026-01-01T10:00:00Z', endsAt, updatedAt: '2026-01-01T10:00:00Z', createdBy: 'bob', comment: 'c', annotations: {}}
}

describe('checkSilenceInput', () => {
  it('accepts a complete silence', () => {
    expect(() => checkSilenceInput(base)).not.toThrow()
  })

  it.each([
    ['no matchers', {matchers: []}, /no matchers/],
    ['only matchers matching the empty string', {matchers: [parseMatcher('foo=~".*"'), parseMatcher('bar!=x')]}, /must not match the empty string/],
    ['a zero duration', {durationMs: 0}, /longer than 0s/],
    ['a negative duration', {durationMs: -1000}, /longer than 0s/],
    ['no comment', {comment: '  '}, /comment is required/],
    ['no author', {author: ''}, /author is required/],
  ])('refuses %s as a usage error', (_what, change, message) => {
    expect(() => checkSilenceInput({...base, ...change})).toThrowError(UsageError)
    expect(() => checkSilenceInput({...base, ...change})).toThrowError(message)
  })
})

describe('planSilence', () => {
  const alerts = [apiAlert('1', {alertname: 'A', severity: 'warning'}), apiAlert('2', {alertname: 'A', severity: 'critical'}), apiAlert('3', {alertname: 'B'})]
  const client = (list: Alert[]) => ({alerts: async () => list}) as unknown as AlertmanagerClient

  it('lists the current alerts it would match, most severe first, with start and end', async () => {
    const now = new Date('2026-01-01T10:00:00Z')
    const plan = await planSilence(client(alerts), {...base, now})
    expect(plan).toMatchObject({startsAt: '2026-01-01T10:00:00.000Z', endsAt: '2026-01-01T12:00:00.000Z', durationSeconds: 7200, createdBy: 'alice', totalAlerts: 3, matchesEveryAlert: false})
    expect(plan.matchedAlerts.map((a) => a.fingerprint)).toEqual(['2', '1'])
  })

  it('knows when it would match every current alert, but not when there are none', async () => {
    expect((await planSilence(client(alerts), {...base, matchers: [parseMatcher('alertname=~"A|B"')]})).matchesEveryAlert).toBe(true)
    expect((await planSilence(client([]), {...base, matchers: [parseMatcher('alertname=~".+"')]})).matchesEveryAlert).toBe(false)
  })
})

describe('--annotation', () => {
  it('parses NAME=VALUE at the first =, and refuses a value without a name or a name twice', () => {
    expect(parseAnnotations(['ticket=INC-42', 'url=https://x/y?a=b', 'empty='])).toEqual({ticket: 'INC-42', url: 'https://x/y?a=b', empty: ''})
    expect(() => parseAnnotations(['ticket'])).toThrowError(UsageError)
    expect(() => parseAnnotations(['=x'])).toThrowError(/invalid --annotation "=x": expected NAME=VALUE/)
    expect(() => parseAnnotations(['a=1', 'a=2'])).toThrowError(/--annotation a given twice/)
  })

  const server = (version: string) => {
    const asked: string[] = []
    const client = {
      baseUrl: 'http://am:9093',
      status: async () => (asked.push('status'), {versionInfo: {version}}),
      alerts: async () => (asked.push('alerts'), []),
    } as unknown as AlertmanagerClient
    return {client, asked}
  }

  it('needs Alertmanager 0.32+, by the version the server reports: older ones are a one-line usage error before anything else', async () => {
    for (const version of ['0.25.0', '0.31.9', 'devel', '']) {
      const {client, asked} = server(version)
      const error = await planSilence(client, {...base, annotations: {ticket: 'INC-42'}}).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(UsageError)
      expect((error as UsageError).exit).toBe(64)
      expect((error as UsageError).line).toBe(
        `--annotation needs Alertmanager 0.32.0 or newer: the one at http://am:9093 is ${version || 'of an unknown version'} (put the note in --comment instead)`,
      )
      expect(asked).toEqual(['status'])
    }
    for (const version of ['0.32.0', '0.33.1', '1.0.0-rc.1']) {
      expect((await planSilence(server(version).client, {...base, annotations: {ticket: 'INC-42'}})).annotations).toEqual({ticket: 'INC-42'})
    }
  })

  it('without annotations the version is not asked', async () => {
    const {client, asked} = server('0.25.0')
    expect((await planSilence(client, base)).annotations).toEqual({})
    expect(asked).toEqual(['alerts'])
  })
})

describe('listSilences', () => {
  const made = (id: string, state: Silence['status']['state'], createdBy: string, comment: string, startsAt: string, endsAt: string): Silence => ({
    ...silence(id, state, endsAt),
    startsAt,
    createdBy,
    comment,
  })
  const all = [
    made('exp-old', 'expired', 'alice', 'Old drain', '2026-01-01T06:00:00Z', '2026-01-01T07:00:00Z'),
    made('act-late', 'active', 'alice', 'GPU maintenance, INC-311', '2026-01-01T10:00:00Z', '2026-01-01T14:00:00Z'),
    made('pend', 'pending', 'bob', 'deploy window inc-311', '2026-01-01T13:00:00Z', '2026-01-01T15:00:00Z'),
    made('act-soon', 'active', 'alice@example.com', 'queue drain', '2026-01-01T10:00:00Z', '2026-01-01T12:00:00Z'),
    made('exp-new', 'expired', 'bob', 'GPU swap INC-311', '2026-01-01T08:00:00Z', '2026-01-01T09:00:00Z'),
  ]
  const client = {silences: async () => all, alerts: async () => [apiAlert('1', {alertname: 'A'})]} as unknown as AlertmanagerClient
  const ids = async (options: Parameters<typeof listSilences>[1]) => (await listSilences(client, {now: new Date('2026-01-01T11:00:00Z'), ...options})).silences.map((s) => s.id)

  it('lists active and pending silences by default, active soonest to end first', async () => {
    expect(await ids({})).toEqual(['act-soon', 'act-late', 'pend'])
    expect(await ids({states: []})).toEqual(['act-soon', 'act-late', 'pend'])
  })

  it('--state picks the states; expired ones come last, most recently ended first', async () => {
    expect(await ids({states: ['expired']})).toEqual(['exp-new', 'exp-old'])
    expect(await ids({states: ['pending']})).toEqual(['pend'])
    expect(await ids({states: ['expired', 'active', 'pending']})).toEqual(['act-soon', 'act-late', 'pend', 'exp-new', 'exp-old'])
  })

  it('--created-by is the exact author; --comment a substring, ignoring case; filters AND', async () => {
    expect(await ids({states: ['active', 'pending', 'expired'], createdBy: 'alice'})).toEqual(['act-late', 'exp-old'])
    expect(await ids({states: ['active', 'pending', 'expired'], comment: 'inc-311'})).toEqual(['act-late', 'pend', 'exp-new'])
    expect(await ids({comment: 'INC-311', createdBy: 'bob'})).toEqual(['pend'])
    expect(await ids({comment: 'nothing like it'})).toEqual([])
  })
})

describe('toSilenceView', () => {
  it('time remaining and the number of current alerts matched', () => {
    const now = Date.parse('2026-01-01T11:00:00Z')
    const alerts: Array<{labels: Record<string, string>}> = [{labels: {alertname: 'A'}}, {labels: {alertname: 'A', x: '1'}}, {labels: {alertname: 'B'}}]
    expect(toSilenceView(silence('s1', 'active'), alerts, now)).toMatchObject({remainingSeconds: 3600, matchingAlerts: 2, matchers: [{name: 'alertname', op: '=', value: 'A'}]})
    expect(toSilenceView(silence('s2', 'expired', '2026-01-01T10:30:00Z'), alerts, now).remainingSeconds).toBe(0)
  })

  it('keeps the annotations (0.32+)', () => {
    expect(toSilenceView({...silence('s1', 'active'), annotations: {ticket: 'INC-42'}}, [], 0).annotations).toEqual({ticket: 'INC-42'})
  })
})

describe('expireSilences / expireFailure', () => {
  const known = new Map([
    ['active-1', silence('active-1', 'active')],
    ['old-1', silence('old-1', 'expired', '2026-01-01T10:30:00Z')],
  ])
  const expired: string[] = []
  const client = {
    silence: async (id: string) => known.get(id),
    expireSilence: async (id: string) => void expired.push(id),
  } as unknown as AlertmanagerClient

  it('expires known active silences and reports unknown and already expired ones', async () => {
    const results = await expireSilences(client, ['active-1', 'nope', 'old-1'])
    expect(results).toEqual([
      {id: 'active-1', outcome: 'expired'},
      {id: 'nope', outcome: 'not-found'},
      {id: 'old-1', outcome: 'already-expired', endedAt: '2026-01-01T10:30:00Z'},
    ])
    expect(expired).toEqual(['active-1'])
    const failure = expireFailure(results, 'http://am:9093')
    expect(failure).toBeInstanceOf(OperationError)
    expect(failure?.exit).toBe(2)
    expect(failure?.line).toMatch(/^expired 1 of 3 silences: no such silence nope; silence old-1 is already expired \(ended 2026-01-01T10:30:00Z\)/)
  })

  it('one unknown id: "no such silence <id>"', async () => {
    const failure = expireFailure(await expireSilences(client, ['nope']), 'http://am:9093')
    expect(failure?.what).toBe('no such silence nope')
    expect(failure?.why).toBe('Alertmanager at http://am:9093 does not know it')
  })

  it('no failure when all were expired', () => {
    expect(expireFailure([{id: 'a', outcome: 'expired'}], 'x')).toBeUndefined()
  })
})
