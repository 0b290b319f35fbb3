/**
 * Answers of Prometheus 2.54+ and 3.x, captured from a 3.5.3 server (trimmed): `infos`, native
 * histograms, paged rule groups, `scrapePool` on targets. The client must read them all.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createPrometheusClient} from '../../../../src/lib/adapters/prometheus/client.js'
import {json, send, startLoopback, type Loopback} from '../loopback.js'

const HISTOGRAM = {
  count: '3',
  sum: '0.0009362299999999999',
  buckets: [
    [0, '0.00018825815739843027', '0.00020529697638030136', '1'],
    [0, '0.00048828125', '0.0005324744788404579', '2'],
  ],
}
const HISTOGRAM_LABELS = {__name__: 'prometheus_http_request_duration_seconds', handler: '/api/v1/query', instance: '127.0.0.1:19390', job: 'self'}

const QUERY_ANSWERS: Record<string, unknown> = {
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

let server: Loopback
let endless: Loopback

beforeAll(async () => {
  server = await startLoopback({
    '/api/v1/query': (req, res) => {
      const query = new URL(req.url ?? '', 'http://x').searchParams.get('query') ?? ''
      send(res, 200, 'application/json', JSON.stringify(QUERY_ANSWERS[query] ?? {status: 'error', errorType: 'bad_data', error: 'unknown test query'}))
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
  await server.close()
  await endless.close()
})

describe('Prometheus client on 2.54+ and 3.x answers', () => {
  it('keeps infos apart from warnings', async () => {
    const client = createPrometheusClient({url: server.url}, 1000)
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
    const client = createPrometheusClient({url: server.url}, 1000)
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
    const groups = await createPrometheusClient({url: server.url}, 1000).rules('record')
    expect(groups.map((group) => group.name)).toEqual(['g1', 'g2', 'g3'])
    const sent = server.requests.filter((request) => request.url.startsWith('/api/v1/rules')).map((request) => Object.fromEntries(new URL(request.url, 'http://x').searchParams))
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
    const {activeTargets} = await createPrometheusClient({url: server.url}, 1000).targets()
    expect(activeTargets).toEqual([expect.objectContaining({scrapePool: 'self', scrapeUrl: 'http://127.0.0.1:19390/metrics', health: 'up', lastScrapeDuration: 0.017843217})])
  })
})
