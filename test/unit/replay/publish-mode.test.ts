import {describe, expect, it} from 'vitest'

import {requestedFlow} from '../../../src/lib/adapters/nats/fast-batch.js'
import {serverFeatures} from '../../../src/lib/adapters/nats/versions.js'
import {UsageError} from '../../../src/lib/core/errors.js'
import {choosePublishMode} from '../../../src/lib/replay/publish-mode.js'

const current = serverFeatures('2.15.1', 5)
const old = serverFeatures('2.9.10')

describe('choosePublishMode', () => {
  it('auto takes fast batches only when the server has them and the target allows them', () => {
    expect(choosePublishMode('auto', current, {stream: 'T', allowBatched: true})).toEqual({mode: 'batch', reason: 'target stream T allows batched publishing and nats-server 2.15.1 (API level 5) supports it'})
    expect(choosePublishMode('auto', current, {stream: 'T', allowBatched: false})).toMatchObject({mode: 'async', reason: expect.stringContaining('--allow-batched-target')})
    // 2.9 drops allow_batched silently; even an echo claiming it would not be trusted without the server's level.
    expect(choosePublishMode('auto', old, {stream: 'T', allowBatched: true})).toEqual({mode: 'async', reason: 'nats-server 2.9.10 has no fast batch publishing (it needs 2.14.0 or newer)'})
    expect(choosePublishMode('auto', serverFeatures('2.12.1', 2), {stream: 'T', allowBatched: true}).mode).toBe('async')
  })

  it('batch refuses with a usage error where it cannot run; async always pipelines', () => {
    expect(() => choosePublishMode('batch', old, {stream: 'T', allowBatched: true})).toThrow(UsageError)
    expect(() => choosePublishMode('batch', current, {stream: 'T', allowBatched: false})).toThrow(/does not allow batched publishing/)
    expect(choosePublishMode('batch', current, {stream: 'T', allowBatched: true}).mode).toBe('batch')
    expect(choosePublishMode('async', current, {stream: 'T', allowBatched: true})).toEqual({mode: 'async', reason: 'asked for with --publish-mode async'})
  })
})

describe('requestedFlow', () => {
  it('asks for half of --max-in-flight (two windows outstanding), 1 to 500', () => {
    expect(requestedFlow(1024)).toBe(500)
    expect(requestedFlow(400)).toBe(200)
    expect(requestedFlow(8)).toBe(4)
    expect(requestedFlow(1)).toBe(1)
  })
})
