import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ApiError, ParseError} from '../../../../src/lib/core/errors.js'
import {createPrometheusClient} from '../../../../src/lib/adapters/prometheus/client.js'
import {json, send, startLoopback, text, type Loopback} from '../loopback.js'

let ready: Loopback
let starting: Loopback

beforeAll(async () => {
  ready = await startLoopback({
    '/-/ready': text(200, 'Prometheus Server is Ready.\n'),
    '/api/v1/query': (req, res) => {
      const query = new URL(req.url ?? '', 'http://x').searchParams.get('query')
      send(res, 200, 'application/json', JSON.stringify(QUERY_ANSWERS[query ?? ''] ?? {status: 'error', errorType: 'bad_data', error: 'unknown test query'}))
    },
    '/api/v1/query_range': json(200, {
      status: 'success',
      data: {resultType: 'matrix', result: [{metric: {job: 'a'}, values: [[1700000000, '1'], [1700000015, '-Inf']]}]},
    }),
    '/api/v1/rules': json(422, {status: 'error', errorType: 'execution', error: 'query timed out'}),
  })
  // Before the TSDB is loaded every route answers a plain-text 503.
  starting = await startLoopback({'/-/ready': text(503, 'Service Unavailable'), '/api/v1/targets': text(503, 'Service Unavailable')})
})

afterAll(async () => {
  await ready.close()
  await starting.close()
})

const QUERY_ANSWERS: Record<string, unknown> = {
  specials: {
    status: 'success',
    data: {
      resultType: 'vector',
      result: [
        {metric: {i: 'nan'}, value: [1700000000.5, 'NaN']},
        {metric: {i: 'inf'}, value: [1700000000.5, '+Inf']},
        {metric: {i: 'neg'}, value: [1700000000.5, '-Inf']},
        {metric: {i: 'num'}, value: [1700000000.5, '1.5e+03']},
      ],
    },
    warnings: ['some warning'],
  },
  scalar: {status: 'success', data: {resultType: 'scalar', result: [1700000000, '2']}},
  garbage: {status: 'success', data: {resultType: 'vector', result: [{metric: {}, value: [1700000000, 'abc']}]}},
  errorOn200: {status: 'error', errorType: 'internal', error: 'boom'},
}

describe('createPrometheusClient', () => {
  it('ready() is true with the server text', async () => {
    await expect(createPrometheusClient({url: ready.url}, 1000).ready()).resolves.toEqual({ready: true, detail: 'Prometheus Server is Ready.'})
  })

  it('ready() is false, not an exception, on 503', async () => {
    await expect(createPrometheusClient({url: starting.url}, 1000).ready()).resolves.toEqual({ready: false, detail: 'HTTP 503: Service Unavailable'})
  })

  it('a plain-text 503 from the API is an ApiError', async () => {
    await expect(createPrometheusClient({url: starting.url}, 1000).targets()).rejects.toMatchObject({status: 503, why: 'HTTP 503: Service Unavailable'})
  })

  it('parses sample values to numbers, NaN and ±Inf included, and keeps warnings', async () => {
    const answer = await createPrometheusClient({url: ready.url}, 1000).query('specials', new Date(1_700_000_000_000))
    expect(answer.resultType).toBe('vector')
    if (answer.resultType !== 'vector') return
    expect(answer.result.map((sample) => sample.value)).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1500])
    expect(answer.result[0]).toMatchObject({metric: {i: 'nan'}, time: 1700000000.5})
    expect(answer.warnings).toEqual(['some warning'])
    const sent = new URL(ready.requests.at(-1)?.url ?? '', 'http://x').searchParams
    expect(sent.get('time')).toBe('2023-11-14T22:13:20.000Z')
    expect(sent.get('timeout')).toBe('1s')
  })

  it('types scalar results', async () => {
    await expect(createPrometheusClient({url: ready.url}, 1000).query('scalar')).resolves.toEqual({
      resultType: 'scalar',
      result: {time: 1700000000, value: 2},
      warnings: [],
      infos: [],
    })
  })

  it('queryRange returns series of {time, value}', async () => {
    const answer = await createPrometheusClient({url: ready.url}, 5000).queryRange('up', new Date(0), new Date(60_000), 15)
    expect(answer).toEqual({result: [{metric: {job: 'a'}, values: [{time: 1700000000, value: 1}, {time: 1700000015, value: Number.NEGATIVE_INFINITY}]}], warnings: [], infos: []})
    const sent = new URL(ready.requests.at(-1)?.url ?? '', 'http://x').searchParams
    expect(Object.fromEntries(sent)).toEqual({query: 'up', start: '1970-01-01T00:00:00.000Z', end: '1970-01-01T00:01:00.000Z', step: '15', timeout: '5s'})
  })

  it('an unparseable sample value is a ParseError naming the field', async () => {
    const error = await createPrometheusClient({url: ready.url}, 1000).query('garbage').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ParseError)
    expect((error as ParseError).why).toBe('result.0.value.1: not a sample value: "abc"')
  })

  it('an error envelope is an ApiError, whatever the HTTP status', async () => {
    const client = createPrometheusClient({url: ready.url}, 1000)
    await expect(client.rules()).rejects.toMatchObject({status: 422, why: 'HTTP 422: execution: query timed out'})
    const error = await client.query('errorOn200').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({why: 'internal: boom', address: `${ready.url}/api/v1/query`})
  })
})

// Answers of Prometheus 2.54+ and 3.x, captured from a 3.5.3 server (trimmed): `infos`, native
// histograms, paged rule groups, `scrapePool` on targets. The client must read them all.

const HISTOGRAM = {
  count: '3',
  sum: '0.0009362299999999999',
  buckets: [
    [0, '0.00018825815739843027', '0.00020529697638030136', '1'],
    [0, '0.00048828125', '0.0005324744788404579', '2'],
  ],
}
const HISTOGRAM_LABELS = {__name__: 'prometheus_http_request_duration_seconds', handler: '/api/v1/query', instance: '127.0.0.1:19390', job: 'self'}

const V3_QUERY_ANSWERS: Record<string, unknown> = {
  'rate(go_goroutines[10s])': {
    status: 'success',
    data: {resultType: 'vector', result: [{metric: {instance: '127.0.0.1:19390', job: 'self'}, value: [1796501594.408, '0']}]},
    infos: ['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "go_goroutines" (1:6)'],
  },
  'histogram_quantile(0.9,up)': {
    status: 'success',
    data: {resultType: 'vector', result: []},
    warnings: ['PromQL warning: bucket label "le" is missing or has a malformed value of "" for metric name "up" (1:24)'],
  },
  mixed: {
    status: 'success',
    data: {
      resultType: 'vector',
      result: [
        {metric: HISTOGRAM_LABELS, histogram: [1796501607.399, HISTOGRAM]},
        {metric: {job: 'self'}, value: [1796501607.399, '1']},
      ],
    },
  },
  'mixed[3s]': {
    status: 'success',
    data: {
      resultType: 'matrix',
      result: [
        {metric: HISTOGRAM_LABELS, histograms: [[1796501605, HISTOGRAM], [1796501606, HISTOGRAM]]},
        {metric: {job: 'both'}, values: [[1796501605, '1']], histograms: [[1796501606, HISTOGRAM]]},
      ],
    },
  },
}

const RANGE_ANSWER = {
  status: 'success',
  data: {
    resultType: 'matrix',
    result: [
      {metric: HISTOGRAM_LABELS, histograms: [[1796501605, HISTOGRAM]]},
      {metric: {instance: '127.0.0.1:19390', job: 'self'}, values: [[1796501589, '0'], [1796501590, '0']]},
    ],
  },
  infos: ['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "go_goroutines" (1:6)'],
}

function ruleGroup(name: string) {
  return {
    name,
    file: 'r.yml',
    rules: [{name: `${name}:up`, query: 'up', health: 'ok', evaluationTime: 0.0007, lastEvaluation: '2026-12-05T20:13:06.720803258Z', type: 'recording'}],
    interval: 1,
    limit: 0,
    evaluationTime: 0.0008,
    lastEvaluation: '2026-12-05T20:13:06.720649666Z',
  }
}

/** Three pages, as 3.5.3 hands out groups with group_limit; a client that ignores the token sees only g1. */
const RULE_PAGES: Record<string, unknown> = {
  '': {status: 'success', data: {groups: [ruleGroup('g1')], groupNextToken: 'token-g2'}},
  'token-g2': {status: 'success', data: {groups: [ruleGroup('g2')], groupNextToken: 'token-g3'}},
  'token-g3': {status: 'success', data: {groups: [ruleGroup('g3')]}},
}

const TARGETS = {
  status: 'success',
  data: {
    activeTargets: [
      {
        discoveredLabels: {__address__: '127.0.0.1:19390', __metrics_path__: '/metrics', __scheme__: 'http', job: 'self'},
        labels: {instance: '127.0.0.1:19390', job: 'self'},
        scrapePool: 'self',
        scrapeUrl: 'http://127.0.0.1:19390/metrics',
        globalUrl: 'http://vm:19390/metrics',
        lastError: '',
        lastScrape: '2026-12-05T20:13:06.534507149Z',
        lastScrapeDuration: 0.017843217,
        health: 'up',
        scrapeInterval: '1s',
        scrapeTimeout: '1s',
      },
    ],
    droppedTargets: [],
    droppedTargetCounts: {self: 0},
  },
}

let v3: Loopback
let endless: Loopback

beforeAll(async () => {
  v3 = await startLoopback({
    '/api/v1/query': (req, res) => {
      const query = new URL(req.url ?? '', 'http://x').searchParams.get('query') ?? ''
      send(res, 200, 'application/json', JSON.stringify(V3_QUERY_ANSWERS[query] ?? {status: 'error', errorType: 'bad_data', error: 'unknown test query'}))
    },
    '/api/v1/query_range': json(200, RANGE_ANSWER),
    '/api/v1/rules': (req, res) => {
      const token = new URL(req.url ?? '', 'http://x').searchParams.get('group_next_token') ?? ''
      const page = RULE_PAGES[token]
      if (page) send(res, 200, 'application/json', JSON.stringify(page))
      else send(res, 400, 'application/json', JSON.stringify({status: 'error', errorType: 'bad_data', error: `invalid parameter "group_next_token": invalid group_next_token '${token}'. were rule groups changed?`}))
    },
    '/api/v1/targets': json(200, TARGETS),
  })
  // A server that always has a next page: the client must stop.
  let served = 0
  endless = await startLoopback({
    '/api/v1/rules': (_req, res) => send(res, 200, 'application/json', JSON.stringify({status: 'success', data: {groups: [ruleGroup(`g${++served}`)], groupNextToken: `t${served}`}})),
  })
})

afterAll(async () => {
  await v3.close()
  await endless.close()
})

describe('Prometheus client on 2.54+ and 3.x answers', () => {
  it('keeps infos apart from warnings', async () => {
    const client = createPrometheusClient({url: v3.url}, 1000)
    await expect(client.query('rate(go_goroutines[10s])')).resolves.toMatchObject({
      warnings: [],
      infos: ['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "go_goroutines" (1:6)'],
    })
    await expect(client.query('histogram_quantile(0.9,up)')).resolves.toMatchObject({
      warnings: ['PromQL warning: bucket label "le" is missing or has a malformed value of "" for metric name "up" (1:24)'],
      infos: [],
    })
    await expect(client.queryRange('rate(go_goroutines[10s])', new Date(0), new Date(60_000), 1)).resolves.toMatchObject({infos: [expect.stringContaining('might not be a counter')]})
  })

  it('skips native histogram samples and keeps the float ones', async () => {
    const client = createPrometheusClient({url: v3.url}, 1000)
    await expect(client.query('mixed')).resolves.toEqual({resultType: 'vector', result: [{metric: {job: 'self'}, time: 1796501607.399, value: 1}], warnings: [], infos: []})
    await expect(client.query('mixed[3s]')).resolves.toEqual({
      resultType: 'matrix',
      result: [{metric: {job: 'both'}, values: [{time: 1796501605, value: 1}]}],
      warnings: [],
      infos: [],
    })
    const range = await client.queryRange('rate(go_goroutines[10s])', new Date(0), new Date(60_000), 1)
    expect(range.result).toEqual([{metric: {instance: '127.0.0.1:19390', job: 'self'}, values: [{time: 1796501589, value: 0}, {time: 1796501590, value: 0}]}])
  })

  it('follows groupNextToken to the last page, asking for pages with group_limit', async () => {
    const groups = await createPrometheusClient({url: v3.url}, 1000).rules('record')
    expect(groups.map((group) => group.name)).toEqual(['g1', 'g2', 'g3'])
    const sent = v3.requests.filter((request) => request.url.startsWith('/api/v1/rules')).map((request) => Object.fromEntries(new URL(request.url, 'http://x').searchParams))
    expect(sent).toEqual([
      {type: 'record', group_limit: '1000'},
      {type: 'record', group_limit: '1000', group_next_token: 'token-g2'},
      {type: 'record', group_limit: '1000', group_next_token: 'token-g3'},
    ])
  })

  it('stops following tokens after a bounded number of pages', async () => {
    await expect(createPrometheusClient({url: endless.url}, 1000).rules()).rejects.toMatchObject({why: 'still more rule groups after 100 pages of 1000'})
    expect(endless.requests).toHaveLength(100)
  })

  it('keeps scrapePool on a target', async () => {
    const {activeTargets} = await createPrometheusClient({url: v3.url}, 1000).targets()
    expect(activeTargets).toEqual([expect.objectContaining({scrapePool: 'self', scrapeUrl: 'http://127.0.0.1:19390/metrics', health: 'up', lastScrapeDuration: 0.017843217})])
  })
})
