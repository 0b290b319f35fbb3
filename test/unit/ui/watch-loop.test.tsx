import {describe, expect, it} from 'vitest'

import {watchLoop} from '../../../src/lib/ui/watch-loop.js'

describe('watchLoop without a terminal', () => {
  it('prints each result, passes the previous one to the next refresh, reports failures on stderr and goes on until aborted', async () => {
    const abort = new AbortController()
    const out: string[] = []
    const err: string[] = []
    let n = 0
    const seen: Array<number | undefined> = []
    const last = await watchLoop<number>(
      async (previous) => {
        seen.push(previous)
        n++
        if (n === 2) throw new Error('server gone')
        if (n === 4) abort.abort()
        return n
      },
      {intervalMs: 1, signal: abort.signal, live: false, header: () => '', render: (r) => `report ${r}`, write: (t) => out.push(t), warn: (t) => err.push(t)},
    )
    expect(out).toEqual(['report 1', 'report 3'])
    expect(err).toEqual(['cimops: refresh failed: server gone'])
    expect(seen).toEqual([undefined, 1, 1, 3])
    expect(last).toBe(3)
  })

  it('a first refresh that fails ends the watch with that error', async () => {
    const abort = new AbortController()
    await expect(
      watchLoop(async () => Promise.reject(new Error('stream NOPE not found')), {intervalMs: 1, signal: abort.signal, live: false, header: () => '', render: String, write: () => {}}),
    ).rejects.toThrow('stream NOPE not found')
  })
})
