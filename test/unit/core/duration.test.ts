import {describe, expect, it} from 'vitest'

import {formatDuration, MAX_TIMER_MS, parseDuration} from '../../../src/lib/core/duration.js'
import {UsageError} from '../../../src/lib/core/errors.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1.5s', 1500],
    ['30', 30_000],
  ])('%s is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms)
  })

  it.each(['', 'abc', '10x', '5s garbage', 's10', '1h-2m'])('rejects %j as a usage error naming the flag', (input) => {
    expect(() => parseDuration(input, '--timeout')).toThrowError(UsageError)
    expect(() => parseDuration(input, '--timeout')).toThrowError(/--timeout/)
  })
})

describe('parseDuration bounds', () => {
  it('refuses a timer of 2^31 ms or more, naming the flag and the maximum', () => {
    expect(parseDuration('24d20h', '--interval', {max: MAX_TIMER_MS})).toBe(2_145_600_000)
    for (const input of ['30d', '24d21h', '2147484s']) {
      expect(() => parseDuration(input, '--interval', {max: MAX_TIMER_MS})).toThrowError(UsageError)
      expect(() => parseDuration(input, '--interval', {max: MAX_TIMER_MS})).toThrowError(`invalid --interval "${input}": must be at most 24d20h (the longest timer Node.js can set)`)
    }
  })

  it('keeps long windows that are not timers, but not ones past any valid date', () => {
    expect(parseDuration('30d', '--since')).toBe(2_592_000_000)
    expect(parseDuration('3650d', '--since')).toBe(315_360_000_000)
    expect(() => parseDuration('99999999999999999999d', '--since')).toThrowError(/--since.*must be at most 36500d/)
    expect(() => parseDuration('1e400', '--since')).toThrowError(UsageError)
  })
})

describe('formatDuration', () => {
  it.each([
    [850, '850ms'],
    [1500, '1.5s'],
    [75_000, '1m15s'],
    [7_500_000, '2h5m'],
    [273_600_000, '3d4h'],
  ])('%d ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})
