import {describe, expect, it} from 'vitest'

import {TimeoutError} from '../../../../src/lib/core/errors.js'
import {domainOfApiPrefix, headerValue, parseStreamSource, unansweredReason} from '../../../../src/lib/adapters/nats/replication.js'

describe('replication wire helpers', () => {
  it("reads the domain of a mirror's external API prefix", () => {
    expect(domainOfApiPrefix('$JS.primary.API')).toBe('primary')
    expect(domainOfApiPrefix('$JS.API')).toBeUndefined()
    expect(domainOfApiPrefix('acct.JS.API')).toBeUndefined()
    expect(domainOfApiPrefix(undefined)).toBeUndefined()
  })

  it('parses Nats-Stream-Source as 2.9 and 2.10+ write it: origin stream (without the hash of its API) and sequence', () => {
    expect(parseStreamSource('ORDERS 17')).toEqual({stream: 'ORDERS', seq: 17})
    expect(parseStreamSource('EVENTS:bCf2sd 42 cim.> cim.>')).toEqual({stream: 'EVENTS', seq: 42})
    expect(parseStreamSource('EVENTS')).toBeUndefined()
    expect(parseStreamSource(undefined)).toBeUndefined()
  })

  it('finds a header in a base64 header block, by any case', () => {
    const block = Buffer.from('NATS/1.0\r\nNats-Msg-Id: a1\r\nnats-stream-source: EVENTS 9\r\n\r\n').toString('base64')
    expect(headerValue(block, 'Nats-Stream-Source')).toBe('EVENTS 9')
    expect(headerValue(block, 'Missing')).toBeUndefined()
    expect(headerValue(undefined, 'Nats-Stream-Source')).toBeUndefined()
  })

  it('nobody answering is a timeout or no responders, from nats.js or already typed; other errors are not', () => {
    expect(unansweredReason(Object.assign(new Error('timeout'), {name: 'TimeoutError'}))).toBe('did not answer in time')
    expect(unansweredReason(new TimeoutError('nats', 'nats://127.0.0.1:4222', 1000))).toBe('did not answer in time')
    const noResponders = Object.assign(new Error('no responders'), {name: 'NoResponders'})
    expect(unansweredReason(Object.assign(new Error('no responders'), {name: 'RequestError', cause: noResponders}))).toBe('no responders (no route to it)')
    expect(unansweredReason(new Error('permissions violation'))).toBeUndefined()
  })
})
