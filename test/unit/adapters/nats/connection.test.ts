import {createServer, type Server, type Socket} from 'node:net'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ConfigError, TimeoutError, UnreachableError} from '../../../../src/lib/core/errors.js'
import {connectNats, reconnectBackoff} from '../../../../src/lib/adapters/nats/connection.js'
import {joinAddresses, stripUserinfo} from '../../../../src/lib/adapters/redact.js'
import {closedPort} from '../loopback.js'

describe('stripUserinfo', () => {
  it.each([
    ['nats://alice:s3cret@n1:4222', 'nats://n1:4222'],
    ['nats://TOKEN@n1:4222', 'nats://n1:4222'],
    ['http://u:p@ss@prom:9090/prefix?x=a@b', 'http://prom:9090/prefix?x=a@b'],
    ['alice:s3cret@127.0.0.1:4222', '127.0.0.1:4222'],
    ['http://prom:9090/a@b', 'http://prom:9090/a@b'],
    ['127.0.0.1:4222', '127.0.0.1:4222'],
  ])('%s -> %s', (input, expected) => {
    expect(stripUserinfo(input)).toBe(expected)
  })

  it('joins several servers', () => {
    expect(joinAddresses(['nats://a:b@n1:4222', 'nats://n2:4222'])).toBe('nats://n1:4222,nats://n2:4222')
  })
})

describe('connectNats failures without a server', () => {
  let silent: Server
  let silentPort: number
  const sockets: Socket[] = []

  beforeAll(async () => {
    // Accepts TCP and never sends INFO: the connect timeout has to fire.
    silent = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    silentPort = (silent.address() as AddressInfo).port
  })

  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => silent.close(() => resolve()))
  })

  it('a closed port is UnreachableError with the servers, userinfo stripped', async () => {
    const port = await closedPort()
    const started = performance.now()
    const error = await connectNats({servers: [`nats://ops:pa55word@127.0.0.1:${port}`]}, {timeoutMs: 2000}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UnreachableError)
    expect(error).toMatchObject({system: 'nats', address: `nats://127.0.0.1:${port}`, why: 'connection refused (ECONNREFUSED)'})
    expect(String(error)).not.toContain('pa55word')
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('a server that never says hello is a TimeoutError within the timeout', async () => {
    const started = performance.now()
    const error = await connectNats({servers: [`nats://127.0.0.1:${silentPort}`]}, {timeoutMs: 400}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({address: `nats://127.0.0.1:${silentPort}`, why: 'timed out after 400ms'})
    expect(performance.now() - started).toBeLessThan(1500)
  })

  it('an unknown host is UnreachableError', async () => {
    const error = await connectNats({servers: ['nats://no-such-host.invalid:4222']}, {timeoutMs: 3000}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UnreachableError)
    expect((error as UnreachableError).why).toMatch(/\((ENOTFOUND|EAI_AGAIN)\)$/)
  })

  it.each([
    [{creds: '/no/such/ops.creds'}, 'cannot read the NATS credentials file /no/such/ops.creds'],
    [{nkey: '/no/such/ops.nk'}, 'cannot read the NATS nkey seed file /no/such/ops.nk'],
    [{tls: {caFile: '/no/such/ca.pem'}}, 'cannot read the NATS TLS CA file /no/such/ca.pem'],
    [{tls: {certFile: '/no/such/cert.pem', keyFile: '/no/such/key.pem'}}, 'cannot read the NATS TLS certificate file /no/such/cert.pem'],
  ])('a missing file is a ConfigError naming it: %o', async (files, what) => {
    const error = await connectNats({servers: [`nats://127.0.0.1:${silentPort}`], ...files}, {timeoutMs: 400}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({what, why: 'no such file'})
  })

  it('an empty server list is a ConfigError', async () => {
    await expect(connectNats({servers: []}, {timeoutMs: 400})).rejects.toBeInstanceOf(ConfigError)
  })
})

/*
 * The monitor's reconnect backoff (connection.ts reconnectBackoff), driven the way nats.js 3.4's dial
 * loop drives it: asked for the delay before each dial and again while waiting, dialling once
 * lastConnect + delay has passed.
 */

/** Replays nats.js's dodialLoop against a server that stays down; returns when each dial happened. */
function dialTimes(backoff: () => number, clock: {now: number}, until: number): number[] {
  const dials: number[] = []
  let lastConnect = -1_000_000 // connected long ago
  while (clock.now < until) {
    const wait = backoff()
    if (lastConnect + wait <= clock.now) {
      lastConnect = clock.now
      dials.push(clock.now)
      clock.now += 1 // the dial fails at once (connection refused)
    } else {
      clock.now = lastConnect + wait
    }
  }
  return dials
}

describe('reconnectBackoff', () => {
  it('retries at once, then waits twice as long each time, up to the cap, for as long as the outage lasts', () => {
    const clock = {now: 0}
    const backoff = reconnectBackoff({baseMs: 250, maxMs: 5000, random: () => 0, now: () => clock.now})
    const dials = dialTimes(backoff, clock, 60_000)
    const gaps = dials.slice(1).map((t, i) => t - dials[i]!)
    expect(dials[0]).toBe(0)
    expect(gaps.slice(0, 5)).toEqual([500, 1000, 2000, 4000, 5000])
    expect(new Set(gaps.slice(4))).toEqual(new Set([5000]))
    expect(dials.length).toBeGreaterThan(12) // never gives up
  })

  it('jitter shortens a wait by at most a quarter and never exceeds the cap', () => {
    const clock = {now: 0}
    const backoff = reconnectBackoff({baseMs: 250, maxMs: 5000, random: () => 0.999, now: () => clock.now})
    const dials = dialTimes(backoff, clock, 60_000)
    const gaps = dials.slice(1).map((t, i) => t - dials[i]!)
    for (const gap of gaps) {
      expect(gap).toBeLessThanOrEqual(5000)
      expect(gap).toBeGreaterThanOrEqual(Math.floor(250 * 0.75))
    }
  })

  it('starts from the base again after a spell of being connected', () => {
    const clock = {now: 0}
    const backoff = reconnectBackoff({baseMs: 250, maxMs: 5000, random: () => 0, now: () => clock.now})
    dialTimes(backoff, clock, 30_000)
    clock.now += 60_000 // connected for a minute: nats.js does not ask meanwhile
    const start = clock.now
    const dials = dialTimes(backoff, clock, start + 2000)
    expect(dials.map((t) => t - start)).toEqual([0, 500, 1500])
  })
})
