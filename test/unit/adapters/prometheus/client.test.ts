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
