import type {NatsConnection} from '@nats-io/transport-node'
import {describe, expect, it} from 'vitest'

import {isNoResponders, listStreamsReporting, parseListPage} from '../../../../src/lib/adapters/nats/jetstream.js'

/** A STREAM.LIST reply captured from nats-server 2.15.1 (one stream, S). */
const CAPTURED_PAGE = {
  type: 'io.nats.jetstream.api.v1.stream_list_response',
  total: 1,
  offset: 0,
  limit: 256,
  streams: [
    {
      config: {
        name: 'S', subjects: ['s.>'], retention: 'limits', max_consumers: -1, max_msgs: -1, max_bytes: -1, max_age: 0, max_msgs_per_subject: -1, max_msg_size: -1, discard: 'old',
        storage: 'file', num_replicas: 1, duplicate_window: 120000000000, compression: 'none', allow_direct: false, mirror_direct: false, sealed: false, deny_delete: false,
        deny_purge: false, allow_rollup_hdrs: false, consumer_limits: {}, allow_msg_ttl: false, metadata: {'_nats.req.level': '0'},
      },
      created: '2026-12-05T16:53:39.62608265Z',
      state: {messages: 0, bytes: 0, first_seq: 0, first_ts: '0001-01-01T00:00:00Z', last_seq: 0, last_ts: '0001-01-01T00:00:00Z', consumer_count: 1},
      ts: '2026-12-05T17:10:17.547246373Z',
    },
  ],
}

/** The error reply 2.15.1 sends for CONSUMER.LIST of a stream that does not exist. */
const CAPTURED_ERROR = {type: 'io.nats.jetstream.api.v1.consumer_list_response', error: {code: 404, err_code: 10059, description: 'stream not found'}, total: 0, offset: 0, limit: 0, consumers: []}

/** A fake connection answering STREAM.LIST from `all` names, 256 a page, some of them offline or missing, as the server does. */
function listingServer(all: string[], offline: Record<string, string>, missing: string[]) {
  const offsets: number[] = []
  const nc = {
    getServer: () => '127.0.0.1:4222',
    request: async (subject: string, body: string) => {
      expect(subject).toBe('$JS.API.STREAM.LIST')
      const {offset} = JSON.parse(body) as {offset: number}
      offsets.push(offset)
      const page = all.slice(offset, offset + 256)
      const described = page.filter((name) => !(name in offline) && !missing.includes(name))
      const reply = {
        ...CAPTURED_PAGE,
        total: all.length,
        offset,
        streams: described.map((name) => ({...CAPTURED_PAGE.streams[0], config: {...CAPTURED_PAGE.streams[0].config, name}})),
        ...(page.some((name) => name in offline) ? {offline: Object.fromEntries(page.filter((name) => name in offline).map((name) => [name, offline[name]]))} : {}),
        ...(page.some((name) => missing.includes(name)) ? {missing: page.filter((name) => missing.includes(name))} : {}),
      }
      return {json: () => reply}
    },
  }
  return {nc: nc as unknown as NatsConnection, offsets}
}

describe('LIST replies read raw: offline and missing entries are kept', () => {
  it('parses a captured 2.15 page, and the offline map and missing list nats.js drops', () => {
    expect(parseListPage(CAPTURED_PAGE, 'streams')).toMatchObject({total: 1, items: [{config: {name: 'S'}}], unlisted: []})
    const page = parseListPage({...CAPTURED_PAGE, total: 3, offline: {ORDERS: 'unsupported - required API level: 6, current API level: 5'}, missing: ['AUDIT']}, 'streams')
    expect(page.unlisted).toEqual([
      {name: 'ORDERS', state: 'offline', reason: 'unsupported - required API level: 6, current API level: 5'},
      {name: 'AUDIT', state: 'missing', reason: 'did not answer the listing in time'},
    ])
  })

  it('an error reply throws the server description with its codes', () => {
    expect(() => parseListPage(CAPTURED_ERROR, 'consumers')).toThrow(expect.objectContaining({message: 'stream not found', errCode: 10059}))
  })

  it('pages through 600 streams (256 a page) and reports the offline and missing ones instead of dropping them', async () => {
    const names = Array.from({length: 600}, (_, i) => `S${String(i).padStart(3, '0')}`)
    const {nc, offsets} = listingServer(names, {S100: 'stream is offline', S500: 'unsupported - required API level: 6, current API level: 5'}, ['S300'])
    const listing = await listStreamsReporting(nc, {timeoutMs: 1000})
    expect(offsets).toEqual([0, 256, 512])
    expect(listing.items).toHaveLength(597)
    expect(listing.items.map((s) => s.name)).not.toContain('S100')
    expect(listing.unlisted).toEqual([
      {name: 'S100', state: 'offline', reason: 'stream is offline'},
      {name: 'S300', state: 'missing', reason: 'did not answer the listing in time'},
      {name: 'S500', state: 'offline', reason: 'unsupported - required API level: 6, current API level: 5'},
    ])
  })
})

describe('isNoResponders', () => {
  // The shapes nats.js 3.4 gave on a 3-node nats-server 2.15.1 cluster right after a stream and a consumer were created.
  const requestError = Object.assign(new Error('no responders: \'fault.workflow.wf.wf-0.Updated\''), {name: 'RequestError', isNoResponders: () => true})

  it('is a pull answered with status 503, or a publish nats.js calls "not enabled" because nobody answered', () => {
    expect(isNoResponders(Object.assign(new Error('no responders'), {name: 'JetStreamStatusError', code: 503}))).toBe(true)
    expect(isNoResponders(Object.assign(new Error('jetstream is not enabled', {cause: requestError}), {name: 'JetStreamNotEnabled'}))).toBe(true)
  })

  it('is not another status, a real "not enabled", or a timeout', () => {
    expect(isNoResponders(Object.assign(new Error('request timeout'), {name: 'JetStreamStatusError', code: 408}))).toBe(false)
    expect(isNoResponders(Object.assign(new Error('jetstream is not enabled'), {name: 'JetStreamNotEnabled'}))).toBe(false)
    const timeout = Object.assign(new Error('timeout'), {name: 'RequestError', isNoResponders: () => false})
    expect(isNoResponders(new Error('request failed', {cause: timeout}))).toBe(false)
    expect(isNoResponders('no responders')).toBe(false)
  })
})
