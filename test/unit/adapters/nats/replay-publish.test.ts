import {describe, expect, it} from 'vitest'

import {parseDeliveryReply} from '../../../../src/lib/adapters/nats/range-reader.js'
import {encodeHeaders, parseAck} from '../../../../src/lib/adapters/nats/replay-publish.js'

const bytes = (text: string) => new TextEncoder().encode(text)

describe('parseAck: a PubAck read without JSON.parse', () => {
  it('tells stored from duplicate, in every field order Go writes', () => {
    expect(parseAck(bytes('{"stream":"T","seq":12}'))).toBe('stored')
    expect(parseAck(bytes('{"stream":"T","seq":12,"duplicate":true}'))).toBe('duplicate')
    expect(parseAck(bytes('{"stream":"T","domain":"hub","seq":12}'))).toBe('stored')
    expect(parseAck(bytes('{"stream":"T","domain":"hub","seq":12,"duplicate":true}'))).toBe('duplicate')
  })

  it('returns the error of a refused publish, and flags what is not a PubAck', () => {
    expect(parseAck(bytes('{"error":{"code":400,"err_code":10060,"description":"expected stream does not match"}}'))).toEqual({status: 400, code: 10060, description: 'expected stream does not match'})
    expect(parseAck(bytes('{"error":{"code":503,"description":"jetstream not enabled"}}'))).toEqual({status: 503, code: 503, description: 'jetstream not enabled'})
    expect(parseAck(bytes('{"error":{"code":429,"description":"too many requests"}}'))).toMatchObject({status: 429, description: 'too many requests'})
    expect(parseAck(bytes('+OK'))).toBe('invalid')
    expect(parseAck(bytes('{"type":"io.nats.unknown"}'))).toBe('invalid')
    expect(parseAck(bytes('{"error":'))).toBe('invalid')
  })
})

describe('parseDeliveryReply', () => {
  it('reads v1 reply subjects (nats-server 2.9)', () => {
    expect(parseDeliveryReply('$JS.ACK.EVENTS.Xyz12.1.4711.42.1763800000123456789.99')).toEqual({consumer: 'Xyz12', seq: 4711, deliverySeq: 42, timeMs: 1763800000123, pending: 99})
  })

  it('reads v2 reply subjects (domain and account hash, trailing token)', () => {
    expect(parseDeliveryReply('$JS.ACK.hub.ACCHASH.EVENTS.Xyz12.2.4711.42.1763800000123456789.0.rnd')).toEqual({consumer: 'Xyz12', seq: 4711, deliverySeq: 42, timeMs: 1763800000123, pending: 0})
  })

  it('rejects anything else', () => {
    expect(parseDeliveryReply('_INBOX.abc.1')).toBeUndefined()
    expect(parseDeliveryReply('$JS.API.CONSUMER.INFO.A.B.C.D.E')).toBeUndefined()
  })
})

describe('encodeHeaders', () => {
  it('writes a NATS/1.0 block, every value of every key, and keeps line breaks out of values', () => {
    const text = new TextDecoder().decode(encodeHeaders([['Nats-Msg-Id', ['rp-1:7']], ['Cim-Tag', ['a', 'b\r\nInjected: x']]]))
    expect(text).toBe('NATS/1.0\r\nNats-Msg-Id: rp-1:7\r\nCim-Tag: a\r\nCim-Tag: b Injected: x\r\n\r\n')
  })
})
