import {describe, expect, it} from 'vitest'

import {compareVersions, FEATURE_API_LEVELS, parseServerVersion, SERVER_FEATURES, serverApiLevel, serverFeatures} from '../../../../src/lib/adapters/nats/versions.js'

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

  it('an API level, where the server reports one, decides over the version string', () => {
    // A build that calls itself 2.10 but implements level 1 (2.11's API) can pause consumers.
    expect(serverFeatures('2.10.99', 1).has('consumerPause')).toBe(true)
    expect(serverFeatures('2.15.1', 4).has('backupArchiveV2')).toBe(false)
    expect(serverFeatures('2.15.1', 5).has('backupArchiveV2')).toBe(true)
    expect(serverFeatures(undefined, 1)).toMatchObject({version: 'unknown', apiLevel: 1})
    expect(serverFeatures(undefined, 1).has('multipleFilters')).toBe(true)
    expect(serverFeatures('2.9.10').apiLevel).toBeUndefined()
  })

  it('fast batch publishing needs API level 4 (2.14); servers without a level by their version', () => {
    expect(serverFeatures('2.15.1', 5).has('fastBatch')).toBe(true)
    expect(serverFeatures('2.14.0', 4).has('fastBatch')).toBe(true)
    expect(serverFeatures('2.12.3', 2).has('fastBatch')).toBe(false)
    expect(serverFeatures('2.10.27').has('fastBatch')).toBe(false)
    expect(serverFeatures('2.9.10').has('fastBatch')).toBe(false)
  })

  it('reads api.level from $JS.API.INFO; without one (before 2.11) or without an answer, none', async () => {
    expect(await serverApiLevel({getAccountInfo: async () => ({api: {level: 5}})})).toBe(5)
    expect(await serverApiLevel({getAccountInfo: async () => ({api: {}})})).toBeUndefined()
    expect(await serverApiLevel({getAccountInfo: () => Promise.reject(new Error('timeout'))})).toBeUndefined()
  })

  it('a feature older than API levels needs level 0; a newer one the level of its release', () => {
    for (const [feature, level] of Object.entries(FEATURE_API_LEVELS)) {
      const release = parseServerVersion(SERVER_FEATURES[feature as keyof typeof SERVER_FEATURES])!
      expect(level === 0).toBe(compareVersions(release, [2, 11, 0]) < 0)
    }
  })

  it('every gate is a plain x.y.z version', () => {
    for (const version of Object.values(SERVER_FEATURES)) expect(version).toMatch(/^\d+\.\d+\.\d+$/)
  })
})
