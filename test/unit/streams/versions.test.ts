import {describe, expect, it} from 'vitest'

import {compareVersions, parseServerVersion, SERVER_FEATURES, serverFeatures} from '../../../src/lib/adapters/nats/versions.js'

describe('server version gates', () => {
  it('parses release, v-prefixed and pre-release versions', () => {
    expect(parseServerVersion('2.9.10')).toEqual([2, 9, 10])
    expect(parseServerVersion('v2.10.4')).toEqual([2, 10, 4])
    expect(parseServerVersion('2.11.0-beta.2')).toEqual([2, 11, 0])
    expect(parseServerVersion('garbage')).toBeUndefined()
    expect(compareVersions([2, 9, 10], [2, 10, 0])).toBeLessThan(0)
  })

  it('2.9.10 has direct get and next_by_subj but not multiple filters, metadata, ts or batch direct get', () => {
    const f = serverFeatures('2.9.10')
    expect(f.has('directGet')).toBe(true)
    expect(f.has('nextBySubject')).toBe(true)
    expect(f.has('consumersApi')).toBe(true)
    expect(f.has('multipleFilters')).toBe(false)
    expect(f.has('metadata')).toBe(false)
    expect(f.has('infoTimestamp')).toBe(false)
    expect(f.has('batchDirectGet')).toBe(false)
    expect(f.requires('multipleFilters')).toBe('2.10.0')
  })

  it('2.10 adds filters and metadata; 2.11 batch direct get', () => {
    expect(serverFeatures('2.10.0').has('multipleFilters')).toBe(true)
    expect(serverFeatures('2.10.22').has('batchDirectGet')).toBe(false)
    expect(serverFeatures('2.11.0').has('batchDirectGet')).toBe(true)
    expect(serverFeatures('3.0.0').has('metadata')).toBe(true)
  })

  it('an unreadable version is treated as 2.9.0 (nothing newer is assumed)', () => {
    const f = serverFeatures(undefined)
    expect(f.version).toBe('unknown')
    expect(f.has('directGet')).toBe(true)
    expect(f.has('consumersApi')).toBe(false)
    expect(f.has('multipleFilters')).toBe(false)
  })

  it('every gate is a plain x.y.z version', () => {
    for (const version of Object.values(SERVER_FEATURES)) expect(version).toMatch(/^\d+\.\d+\.\d+$/)
  })
})
