import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {loadReplayState} from '../../../src/lib/replay/checkpoint.js'

describe('loadReplayState', () => {
  let dir: string
  const saved = {replayId: 'rp-1', createdAt: '2026-01-01T00:00:00.000Z', source: {stream: 'EVENTS'}, filters: [], eventTypes: [], target: {kind: 'prefix', prefix: 'p'}, maps: [], maxInFlight: 1024, rate: 0, status: 'interrupted', doneSeq: 40, updatedAt: '2026-01-01T00:00:01.000Z'}
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'cimops-replay-state-'))))
  afterEach(() => rm(dir, {recursive: true, force: true}))

  it('reads the range under the names of --from-seq/--to-seq', async () => {
    await writeFile(join(dir, 'rp-1.json'), JSON.stringify({...saved, fromSeq: 7, toSeq: 300}))
    expect(await loadReplayState('rp-1', dir)).toEqual({...saved, fromSeq: 7, toSeq: 300})
  })

  it('resumes a state file that still names the range startSeq/endSeq', async () => {
    await writeFile(join(dir, 'rp-1.json'), JSON.stringify({...saved, startSeq: 7, endSeq: 300}))
    expect(await loadReplayState('rp-1', dir)).toEqual({...saved, fromSeq: 7, toSeq: 300})
  })
})
