/**
 * The monitor's reconnect backoff (connection.ts reconnectBackoff), driven the way nats.js 3.4's dial
 * loop drives it: asked for the delay before each dial and again while waiting, dialling once
 * lastConnect + delay has passed.
 */
import {describe, expect, it} from 'vitest'

import {reconnectBackoff} from '../../src/lib/adapters/nats/connection.js'

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
