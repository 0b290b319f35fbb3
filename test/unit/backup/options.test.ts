import {describe, expect, it} from 'vitest'

import {defaultSetName} from '../../../src/lib/backup/create.js'
import {parseSize} from '../../../src/lib/backup/options.js'
import {rfc3339Nanos} from '../../../src/lib/backup/logical.js'

describe('backup option values', () => {
  it('parses sizes', () => {
    expect(parseSize('128KiB', '--chunk-size')).toBe(131072)
    expect(parseSize('64k', '--chunk-size')).toBe(65536)
    expect(parseSize('1MiB', '--chunk-size')).toBe(1048576)
    expect(parseSize('4096', '--chunk-size')).toBe(4096)
    expect(() => parseSize('lots', '--chunk-size')).toThrow(/invalid --chunk-size "lots"/)
    expect(() => parseSize('2MiB', '--chunk-size', {max: 1048576})).toThrow(/between/)
  })

  it('names sets by UTC time, sortable', () => {
    expect(defaultSetName(new Date('2026-11-22T03:00:05.123Z'))).toBe('20261122T030005Z')
  })

  it('writes storage times with all nine digits of the nanoseconds', () => {
    expect(rfc3339Nanos(1_763_780_405_123_456_789n)).toBe('2025-11-22T03:00:05.123456789Z')
    expect(rfc3339Nanos(1_763_780_405_000_000_001n)).toBe('2025-11-22T03:00:05.000000001Z')
  })
})
