import {describe, expect, it} from 'vitest'

import {judgeMemory, lowPoints} from '../../../src/lib/profile/verdict.js'

const MiB = 1024 * 1024
const series = (values: number[], everySeconds = 5) => values.map((rssBytes, i) => ({seconds: i * everySeconds, rssBytes}))

describe('judgeMemory', () => {
  it('stable: a flat series with allocator noise', () => {
    const noise = [0, 40, -30, 10, -20, 30, -10, 20, -40, 0, 10, -20]
    const verdict = judgeMemory(series(noise.map((kib) => 100 * MiB + kib * 1024)))
    expect(verdict.verdict).toBe('stable')
    expect(verdict.growth!.r2).toBeLessThan(0.5)
  })

  it('stable: a significant rise smaller than 1% of the memory over the window', () => {
    const verdict = judgeMemory(series(Array.from({length: 12}, (_, i) => 500 * MiB + i * 64 * 1024)))
    expect(verdict).toMatchObject({verdict: 'stable'})
    expect(verdict.why).toMatch(/\(704 KiB\) is under 51\d\d KiB/)
  })

  it('growing: a steady rise, with its rate per hour; no drop to tell a leak', () => {
    // 1 MiB per 5 s sample = 720 MiB/h.
    const verdict = judgeMemory(series(Array.from({length: 12}, (_, i) => 100 * MiB + i * MiB)))
    expect(verdict.verdict).toBe('growing')
    expect(verdict.growth).toEqual({bytesPerHour: 720 * MiB, r2: 1, confidence: 1})
    expect(verdict.why).toContain('no drop')
  })

  it('leaking: a sawtooth whose low points after each collection keep rising', () => {
    const sawtooth = [100, 110, 120, 102, 112, 122, 104, 114, 124, 106, 116, 126].map((m) => m * MiB)
    expect(lowPoints(sawtooth)).toEqual([3, 6, 9])
    const verdict = judgeMemory(series(sawtooth))
    expect(verdict.verdict).toBe('leaking')
    // 2 MiB every 15 s, as the low points rise.
    expect(verdict.growth).toMatchObject({bytesPerHour: 480 * MiB, r2: 1, confidence: 1})
  })

  it('growing, not leaking: collections bring it back to where it was, the rise is since', () => {
    const values = [100, 110, 120, 100, 110, 120, 100, 112, 124, 136, 148, 160].map((m) => m * MiB)
    expect(lowPoints(values)).toEqual([3, 6])
    expect(judgeMemory(series(values)).verdict).toBe('growing')
  })

  it('stable: a sawtooth that returns to the same floor', () => {
    const values = [100, 110, 120, 100, 110, 120, 100, 110, 120, 100, 110, 120].map((m) => m * MiB)
    expect(judgeMemory(series(values)).verdict).toBe('stable')
  })

  it('unknown with fewer than 5 samples', () => {
    expect(judgeMemory(series([1, 2, 3, 4].map((m) => m * MiB)))).toEqual({verdict: 'unknown', why: '4 samples: at least 5 are needed for a trend'})
  })
})

describe('lowPoints', () => {
  it('ignores dips under 1% of the peak: page noise is no collection', () => {
    expect(lowPoints([1000, 1005, 998, 1010, 1002, 1020].map((k) => k * 1024))).toEqual([])
  })

  it('a drop still going at the end of the window counts at its lowest', () => {
    expect(lowPoints([100, 120, 90, 80])).toEqual([3])
  })
})
