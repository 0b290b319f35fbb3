/** The adapter methods the alerts commands added, against loopback servers answering like Prometheus 2.42 / Alertmanager 0.25. */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ApiError} from '../../../../src/lib/core/errors.js'
import {createAlertmanagerClient} from '../../../../src/lib/adapters/alertmanager/client.js'
import {createPrometheusClient} from '../../../../src/lib/adapters/prometheus/client.js'
import {parseMatcher} from '../../../../src/lib/alerts/matchers.js'
import {listAlerts} from '../../../../src/lib/alerts/list.js'
import {createSilence, expireSilences, planSilence} from '../../../../src/lib/alerts/silences.js'
import {SeveralMatcherSetsError} from '../../../../src/lib/adapters/alertmanager/client.js'
import {json, send, startLoopback, text, type Loopback} from '../loopback.js'

const SILENCE = {
  id: '0c1f9d4e-6d2a-4b8e-9a0f-3c2b1a0d9e8f',
  status: {state: 'active'},
  matchers: [{name: 'alertname', value: 'A', isRegex: false, isEqual: true}],
  startsAt: '2026-01-01T10:00:00.000Z',
  endsAt: '2026-01-01T12:00:00.000Z',
  updatedAt: '2026-01-01T10:00:00.000Z',
  createdBy: 'alice',
  comment: 'c',
}
// 0.33.1's shape: annotations always present.
const ANNOTATED = {...SILENCE, id: '7d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a', annotations: {ticket: 'INC-42'}}
const ALERT = {
  labels: {alertname: 'A'},
  annotations: {},
  startsAt: '2026-01-01T10:00:00.000Z',
  endsAt: '2026-01-01T12:00:00.000Z',
  updatedAt: '2026-01-01T10:00:00.000Z',
  fingerprint: 'abc',
  receivers: [{name: 'team'}],
  status: {state: 'active', silencedBy: [], inhibitedBy: []},
}

// Captured from Alertmanager 0.33.1 (0.28.1 answers alike), one route muted by the time interval `always`:
// GET /alerts sends an empty mutedBy and state active; only the alert groups name the interval.
const MUTED_ALERT = {
  annotations: {},
  endsAt: '2026-12-05T21:16:13.000Z',
  fingerprint: 'ffac50b2de30f977',
  receivers: [{name: 'null'}],
  startsAt: '2026-12-05T20:16:13.000Z',
  status: {inhibitedBy: [], mutedBy: [], silencedBy: [], state: 'active'},
  updatedAt: '2026-12-05T20:16:13.125Z',
  labels: {alertname: 'M', muted: 'yes'},
}
const PLAIN_ALERT = {...MUTED_ALERT, fingerprint: 'd2d0efc389e75dac', labels: {alertname: 'N'}}
const MUTED_GROUPS = [
  {alerts: [{...MUTED_ALERT, status: {inhibitedBy: [], mutedBy: ['always'], silencedBy: [], state: 'suppressed'}}], labels: {}, receiver: {name: 'null'}},
  {alerts: [PLAIN_ALERT], labels: {}, receiver: {name: 'null'}},
]

let am: Loopback
let muting: Loopback
let starting: Loopback
let orSilence: Loopback
let failing: Loopback
const OR_SILENCE_ID = '5a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d'

beforeAll(async () => {
  am = await startLoopback({
    [`/api/v2/silence/${SILENCE.id}`]: json(200, SILENCE),
    [`/api/v2/silence/${ANNOTATED.id}`]: json(200, ANNOTATED),
    '/api/v2/silence/0c1f9d4e-0000-4000-8000-000000000000': text(404, ''),
    '/api/v2/silence/not-a-uuid': json(422, {code: 601, message: 'silenceID in path must be of type uuid: "not-a-uuid"'}),
    '/api/v2/silence/0c1f9d4e-0000-4000-8000-000000000500': text(500, 'boom'),
    '/api/v2/silences': (req, res) => (req.method === 'POST' ? send(res, 200, 'application/json', JSON.stringify({silenceID: 'new-id'})) : json(200, [SILENCE])(req, res, '')),
    '/api/v2/alerts': json(200, [ALERT]),
    '/api/v2/alerts/groups': json(200, [{labels: {alertname: 'A'}, receiver: {name: 'team'}, alerts: [ALERT]}]),
  })
  muting = await startLoopback({'/api/v2/alerts': json(200, [PLAIN_ALERT, MUTED_ALERT]), '/api/v2/alerts/groups': json(200, MUTED_GROUPS)})
  starting = await startLoopback({'/api/v1/query_range': text(503, 'Service Unavailable')})
  // What 0.33 answers when one silence has several matcher sets (a go-swagger string payload).
  orSilence = await startLoopback({'/api/v2/silences': json(500, `silence '${OR_SILENCE_ID}' has multiple matcher sets which is not supported by this API version`)})
  failing = await startLoopback({'/api/v2/silences': text(500, 'boom')})
})

afterAll(async () => {
  await am.close()
  await muting.close()
  await starting.close()
  await orSilence.close()
  await failing.close()
})

describe('alertmanager adapter: silence(id)', () => {
  const client = () => createAlertmanagerClient({url: am.url}, 1000)

  it('returns the silence; annotations {} where the server sends none (before 0.32), else as sent', async () => {
    await expect(client().silence(SILENCE.id)).resolves.toMatchObject({id: SILENCE.id, createdBy: 'alice', annotations: {}})
    await expect(client().silence(ANNOTATED.id)).resolves.toMatchObject({annotations: {ticket: 'INC-42'}})
  })

  it('is undefined for an unknown id (404) and for an id that is not a UUID (422)', async () => {
    await expect(client().silence('0c1f9d4e-0000-4000-8000-000000000000')).resolves.toBeUndefined()
    await expect(client().silence('not-a-uuid')).resolves.toBeUndefined()
  })

  it('other errors still throw', async () => {
    await expect(client().silence('0c1f9d4e-0000-4000-8000-000000000500')).rejects.toBeInstanceOf(ApiError)
  })
})

describe('alertmanager adapter: silences(filter) and alertGroups()', () => {
  it('sends filters as repeated parameters', async () => {
    await createAlertmanagerClient({url: am.url}, 1000).silences(['a="1"', 'b=~"2"'])
    expect(am.requests.at(-1)?.url).toBe('/api/v2/silences?filter=a%3D%221%22&filter=b%3D%7E%222%22')
  })

  it('alertGroups() parses groups and passes the state filters', async () => {
    const groups = await createAlertmanagerClient({url: am.url}, 1000).alertGroups({filter: ['alertname="A"'], active: true, silenced: false})
    expect(groups).toEqual([{labels: {alertname: 'A'}, receiver: {name: 'team'}, alerts: [expect.objectContaining({fingerprint: 'abc'})]}])
    expect(am.requests.at(-1)?.url).toBe('/api/v2/alerts/groups?filter=alertname%3D%22A%22&active=true&silenced=false')
  })
})

describe('alerts list: mutedBy (Alertmanager 0.28+)', () => {
  it('the schema reads mutedBy where the server sends it and makes it [] where it does not (0.25)', async () => {
    const [group] = await createAlertmanagerClient({url: muting.url}, 1000).alertGroups()
    expect(group.alerts[0].status.mutedBy).toEqual(['always'])
    const [alert] = await createAlertmanagerClient({url: am.url}, 1000).alerts()
    expect(alert.status.mutedBy).toEqual([])
  })

  it('takes mutedBy from the alert groups, asked with the same filters, and keeps a muted alert active', async () => {
    const result = await listAlerts(createAlertmanagerClient({url: muting.url}, 1000), {matchers: [parseMatcher('alertname=~"M|N"')], silenced: true})
    expect(result.alerts.map((a) => [a.alertname, a.state, a.mutedBy])).toEqual([
      ['M', 'active', ['always']],
      ['N', 'active', []],
    ])
    const [alerts, groups] = muting.requests.slice(-2).map((request) => request.url)
    expect(groups).toBe(alerts.replace('/api/v2/alerts?', '/api/v2/alerts/groups?'))
    expect(groups).toContain('silenced=true')
  })

  it('an alert in several groups gets the intervals of all; 0.25 (no mutedBy) and no alerts ask nothing more', async () => {
    const twice = await startLoopback({
      '/api/v2/alerts': json(200, [MUTED_ALERT]),
      '/api/v2/alerts/groups': json(200, [
        {...MUTED_GROUPS[0], receiver: {name: 'night'}, alerts: [{...MUTED_ALERT, status: {...MUTED_ALERT.status, mutedBy: ['weekend', 'night']}}]},
        MUTED_GROUPS[0],
      ]),
    })
    try {
      expect((await listAlerts(createAlertmanagerClient({url: twice.url}, 1000), {matchers: []})).alerts[0].mutedBy).toEqual(['always', 'night', 'weekend'])
    } finally {
      await twice.close()
    }
    expect((await listAlerts(createAlertmanagerClient({url: am.url}, 1000), {matchers: []})).alerts[0].mutedBy).toEqual([])
    const empty = await startLoopback({'/api/v2/alerts': json(200, [])})
    try {
      await expect(listAlerts(createAlertmanagerClient({url: empty.url}, 1000), {matchers: []})).resolves.toMatchObject({alerts: []})
      expect(empty.requests.map((request) => new URL(request.url, 'http://x').pathname)).toEqual(['/api/v2/alerts'])
    } finally {
      await empty.close()
    }
  })
})

describe('alertmanager adapter: a 500 from GET silences', () => {
  const failure = (loopback: Loopback) => createAlertmanagerClient({url: loopback.url}, 1000).silences().catch((caught: unknown) => caught)

  it('names the silence with several matcher sets that 0.33 cannot show, in one line', async () => {
    const error = await failure(orSilence)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({status: 500, exit: 2})
    expect((error as ApiError).line).toBe(
      `alertmanager at ${orSilence.url}/api/v2/silences refused the request: HTTP 500: silence ${OR_SILENCE_ID} has several matcher sets, which API v2 cannot show, so Alertmanager lists no silence (\`cimops alerts silence expire ${OR_SILENCE_ID}\` stops it silencing, but Alertmanager keeps it, and this error, until its --data.retention (120h by default) has passed; other silences still apply)`,
    )
  })

  it('GET of that silence fails alike, yet expire goes through: DELETE works on 0.33.1, and the result says what could not be read', async () => {
    const message = `silence '${OR_SILENCE_ID}' has multiple matcher sets which is not supported by this API version`
    const server = await startLoopback({[`/api/v2/silence/${OR_SILENCE_ID}`]: (req, res, body) => (req.method === 'DELETE' ? send(res, 200, 'application/json', '') : json(500, message)(req, res, body))})
    try {
      const client = createAlertmanagerClient({url: server.url}, 1000)
      const error = await client.silence(OR_SILENCE_ID).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(SeveralMatcherSetsError)
      expect(error).toMatchObject({silenceId: OR_SILENCE_ID, status: 500, why: `HTTP 500: silence ${OR_SILENCE_ID} has several matcher sets, which API v2 cannot show`})
      const [result] = await expireSilences(client, [OR_SILENCE_ID])
      expect(result).toMatchObject({id: OR_SILENCE_ID, outcome: 'expired', note: expect.stringMatching(/^it has several matcher sets, which API v2 cannot show: whether it was still active could not be read/)})
      expect(server.requests.map((request) => request.method)).toEqual(['GET', 'GET', 'DELETE'])
    } finally {
      await server.close()
    }
  })

  it('any other 500 keeps the server words and names that likely cause', async () => {
    expect((await failure(failing)) as ApiError).toMatchObject({status: 500, why: 'HTTP 500: boom; the likely cause is a silence with several matcher sets, which API v2 cannot show (Alertmanager 0.33+)'})
  })
})

describe('alertmanager adapter: createSilence()', () => {
  it('sends isEqual explicitly in every matcher, true for = and =~, false for != and !~', async () => {
    const client = createAlertmanagerClient({url: am.url}, 1000)
    const matchers = ['alertname=A', 'env!=dev', 'node=~"gpu-.*"', 'team!~"ops|sre"'].map((text) => parseMatcher(text))
    const plan = await planSilence(client, {matchers, durationMs: 60_000, author: 'alice', comment: 'c', now: new Date('2026-01-01T10:00:00Z')})
    await expect(createSilence(client, plan)).resolves.toBe('new-id')
    const post = am.requests.findLast((request) => request.method === 'POST' && request.url === '/api/v2/silences')
    expect(JSON.parse(post?.body ?? '{}').matchers).toStrictEqual([
      {name: 'alertname', value: 'A', isRegex: false, isEqual: true},
      {name: 'env', value: 'dev', isRegex: false, isEqual: false},
      {name: 'node', value: 'gpu-.*', isRegex: true, isEqual: true},
      {name: 'team', value: 'ops|sre', isRegex: true, isEqual: false},
    ])
  })

  it('sends annotations only when there are some', async () => {
    const client = createAlertmanagerClient({url: am.url}, 1000)
    const lastBody = () => JSON.parse(am.requests.findLast((request) => request.method === 'POST')?.body ?? '{}') as Record<string, unknown>
    const input = {matchers: [parseMatcher('alertname=A')], durationMs: 60_000, author: 'alice', comment: 'c'}
    await createSilence(client, await planSilence(client, input))
    expect(lastBody()).not.toHaveProperty('annotations')
    await createSilence(client, {...(await planSilence(client, input)), annotations: {ticket: 'INC-42'}})
    expect(lastBody().annotations).toEqual({ticket: 'INC-42'})
  })
})

describe('alertmanager adapter: the silence limits of 0.28+', () => {
  // The bodies 0.28.1 and 0.33.1 answer, started with --silences.max-silences=2 / --silences.max-silence-size-bytes=400.
  const refusal = async (body: string) => {
    const server = await startLoopback({'/api/v2/silences': json(400, body)})
    try {
      const client = createAlertmanagerClient({url: server.url}, 1000)
      return {url: server.url, error: await client.createSilence({matchers: [], startsAt: '', endsAt: '', createdBy: 'a', comment: 'c'}).catch((caught: unknown) => caught)}
    } finally {
      await server.close()
    }
  }

  it('too many silences: one line naming the flag, that expired ones count, and the way out', async () => {
    const {url, error} = await refusal('exceeded maximum number of silences: 2 (limit: 2)')
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({status: 400, exit: 2})
    expect((error as ApiError).line).toBe(
      `alertmanager at ${url}/api/v2/silences refused the request: HTTP 400: it holds 2 silences, expired ones included, and --silences.max-silences=2 caps them (expiring silences frees nothing: they count until its --data.retention (120h by default) drops them; raise --silences.max-silences or shorten --data.retention)`,
    )
  })

  it('a silence too large: its size and the limit', async () => {
    const {error} = await refusal('silence exceeded maximum size: 707 bytes (limit: 400 bytes)')
    expect(error).toMatchObject({status: 400, why: 'HTTP 400: the silence is 707 bytes, over --silences.max-silence-size-bytes=400', hint: expect.stringMatching(/^shorten the comment/)})
  })

  it('any other 400 keeps the server words', async () => {
    const {error} = await refusal('start time must be before end time')
    expect(error).toMatchObject({status: 400, why: 'HTTP 400: start time must be before end time', hint: undefined})
  })
})

describe('prometheus adapter: plain-text 503 before ready', () => {
  it('is an ApiError with the server words and a hint to retry', async () => {
    const error = await createPrometheusClient({url: starting.url}, 1000)
      .queryRange('up', new Date(0), new Date(60_000), 15)
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({status: 503, why: 'HTTP 503: Service Unavailable', hint: expect.stringMatching(/not ready yet.*retry/)})
  })
})
