import {describe, expect, it} from 'vitest'

import {separatorLine, watchLoop} from '../../../src/lib/ui/watch-loop.js'

describe('watchLoop without a terminal', () => {
  it('prints each text report under a line with the local time of its refresh', async () => {
    const abort = new AbortController()
    const out: string[] = []
    const clock = [new Date(2026, 11, 5, 21, 4, 5), new Date(2026, 11, 5, 21, 4, 10)]
    let n = 0
    await watchLoop<number>(
      async () => {
        n++
        if (n === 2) abort.abort()
        return n
      },
      {intervalMs: 1, signal: abort.signal, live: false, header: () => '', render: (r) => `report ${r}\nline 2`, write: (t) => out.push(t), now: () => clock.shift()!},
    )
    expect(out).toEqual(['── 2026-12-05 21:04:05 ──\nreport 1\nline 2'])
    expect(separatorLine(new Date(2027, 0, 2, 3, 4, 5))).toBe('── 2027-01-02 03:04:05 ──')
  })

  it('JSON lines stay bare: one object per line, no separator', async () => {
    const abort = new AbortController()
    const out: string[] = []
    let n = 0
    await watchLoop<number>(
      async () => {
        n++
        if (n === 3) abort.abort()
        return n
      },
      {intervalMs: 1, signal: abort.signal, live: false, json: true, header: () => '', render: (r) => JSON.stringify({n: r}), write: (t) => out.push(t)},
    )
    expect(out).toEqual(['{"n":1}', '{"n":2}'])
  })

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
      {intervalMs: 1, signal: abort.signal, live: false, header: () => '', render: (r) => `report ${r}`, write: (t) => out.push(t), warn: (t) => err.push(t), now: () => new Date(2026, 11, 5, 21, 4, 5)},
    )
    expect(out).toEqual(['── 2026-12-05 21:04:05 ──\nreport 1', '── 2026-12-05 21:04:05 ──\nreport 3'])
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
