import type {NatsConnection} from '@nats-io/transport-node'
import {describe, expect, it} from 'vitest'

import {withBackpressureRetry} from '../../../../src/lib/adapters/nats/backpressure.js'
import {ReplayPublisher} from '../../../../src/lib/adapters/nats/replay-publish.js'

const TOO_MANY = new TextEncoder().encode('{"error":{"code":429,"description":"too many requests"}}')
const STORED = new TextEncoder().encode('{"stream":"T","seq":1}')

/** A connection whose stream answers 429 to the first `refusals` publishes (backpressure, nats-server 2.11+), then stores. */
function backpressuredConnection(refusals: number) {
  let callback: ((error: unknown, msg: {subject: string; data: Uint8Array; headers?: {code: number}}) => void) | undefined
  const sent: number[] = []
  const nc = {
    subscribe: (_subject: string, options: {callback: typeof callback}) => {
      callback = options.callback
      return {unsubscribe: () => undefined}
    },
    publish: (_subject: string, _data: Uint8Array, {reply}: {reply: string}) => {
      sent.push(Date.now())
      const data = sent.length <= refusals ? TOO_MANY : STORED
      setTimeout(() => callback?.(null, {subject: reply, data}), 1)
    },
    isClosed: () => false,
  }
  return {nc: nc as unknown as NatsConnection, sent}
}

const message = {seq: 7, subject: 'cim.graph.x', data: new Uint8Array([123, 125]), headers: new Uint8Array()}

describe('replay publishing under 429 backpressure', () => {
  it('sends the message again after a growing pause until the stream takes it', async () => {
    const {nc, sent} = backpressuredConnection(3)
    const publisher = new ReplayPublisher({nc, address: 'nats://127.0.0.1:4222', stream: 'T', maxInFlight: 4, timeoutMs: 2000, retryForMs: 10_000})
    await publisher.open()
    publisher.publish(message)
    await publisher.drain()
    publisher.close()
    expect(publisher.stats).toMatchObject({stored: 1, retries: 3, doneSeq: 7})
    const pauses = sent.slice(1).map((at, i) => at - sent[i])
    expect(pauses[0]).toBeGreaterThanOrEqual(150)
    expect(pauses[2]).toBeGreaterThan(pauses[0])
  })

  it('fails with the 429 and a hint once the retry budget is spent', async () => {
    const {nc, sent} = backpressuredConnection(Number.POSITIVE_INFINITY)
    const publisher = new ReplayPublisher({nc, address: 'nats://127.0.0.1:4222', stream: 'T', maxInFlight: 4, timeoutMs: 2000, retryForMs: 500})
    await publisher.open()
    publisher.publish(message)
    await expect(publisher.drain()).rejects.toMatchObject({why: expect.stringMatching(/^the stream kept answering 429 too many requests for \ds$/), hint: expect.stringContaining('lower --rate')})
    publisher.close()
    expect(sent.length).toBeGreaterThan(1)
    expect(sent.length).toBeLessThan(10)
  })
})

describe('withBackpressureRetry (the ops log and the seeder)', () => {
  const tooMany = () => Object.assign(new Error('too many requests'), {name: 'JetStreamApiError', status: 429})

  it('sends again while the stream answers 429, then returns its ack', async () => {
    let calls = 0
    const ack = await withBackpressureRetry(async () => {
      calls++
      if (calls < 3) throw tooMany()
      return {seq: 9}
    }, 5000)
    expect(ack).toEqual({seq: 9})
    expect(calls).toBe(3)
  })

  it('throws the 429 once the budget is spent, and any other refusal at once', async () => {
    let calls = 0
    await expect(withBackpressureRetry(async () => {
      calls++
      throw tooMany()
    }, 700)).rejects.toMatchObject({status: 429})
    expect(calls).toBeGreaterThan(1)
    expect(calls).toBeLessThan(5)
    calls = 0
    await expect(withBackpressureRetry(async () => {
      calls++
      throw Object.assign(new Error('wrong last sequence'), {status: 400})
    })).rejects.toThrow('wrong last sequence')
    expect(calls).toBe(1)
  })
})
