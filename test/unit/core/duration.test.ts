import {describe, expect, it} from 'vitest'

import {formatDuration, parseDuration} from '../../../src/lib/core/duration.js'
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
