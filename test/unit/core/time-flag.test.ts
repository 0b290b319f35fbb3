import {describe, expect, it} from 'vitest'

import {UsageError} from '../../../src/lib/core/errors.js'
import {parseTimeFlag} from '../../../src/lib/core/time-flag.js'

const NOW = new Date('2026-11-22T03:00:00Z')

describe('parseTimeFlag (--since of events view, --since/--until of replay)', () => {
  it('takes a duration back from now, or an RFC 3339 time with a zone', () => {
    expect(parseTimeFlag('--since', '90s', NOW).toISOString()).toBe('2026-11-22T02:58:30.000Z')
    expect(parseTimeFlag('--since', '1h30m', NOW).toISOString()).toBe('2026-11-22T01:30:00.000Z')
    expect(parseTimeFlag('--since', '2026-11-22T01:00:00+01:00', NOW).toISOString()).toBe('2026-11-22T00:00:00.000Z')
    expect(() => parseTimeFlag('--since', '2026-11-22T01:00:00', NOW)).toThrow('RFC 3339')
    expect(() => parseTimeFlag('--since', 'yesterday', NOW)).toThrow(UsageError)
  })

  it('parses --since/--until as RFC 3339 or a duration back', () => {
    const now = new Date('2026-11-22T08:00:00Z')
    expect(parseTimeFlag('--until', '2026-11-22T03:00:00Z', now).toISOString()).toBe('2026-11-22T03:00:00.000Z')
    expect(parseTimeFlag('--since', '2h', now).toISOString()).toBe('2026-11-22T06:00:00.000Z')
    expect(() => parseTimeFlag('--until', '2026-11-22T03:00:00', now)).toThrow(/invalid --until/)
  })

  it('takes a space between date and time, and answers a bare date with both forms', () => {
    expect(parseTimeFlag('--since', '2026-11-22 01:00:00Z', NOW).toISOString()).toBe('2026-11-22T01:00:00.000Z')
    for (const text of ['2026-11-22', '2026-11-22Z', '2026-11-22 01:00']) {
      expect(() => parseTimeFlag('--since', text, NOW), text).toThrow('an RFC 3339 time with a zone, such as 2026-11-22T03:00:00Z, or a duration back from now')
    }
  })
})
