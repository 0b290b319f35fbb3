import {describe, expect, it} from 'vitest'

import {estimatePhrase, progressBar, progressLine, rangeFraction} from '../../../src/lib/replay/progress.js'

const base = {selected: 50_000, published: 48_000, lastSeq: 50_000, fromSeq: 1, toSeq: 100_000, elapsedMs: 2000}

describe('replay progress', () => {
  it('measures the way through the source range, and has no end for a file', () => {
    expect(rangeFraction(base)).toBeCloseTo(0.5, 3)
    expect(rangeFraction({...base, fromSeq: 50_001, lastSeq: 50_000})).toBe(0)
    expect(rangeFraction({...base, toSeq: Number.MAX_SAFE_INTEGER})).toBeUndefined()
  })

  it('draws a bar with percent, events, rate and time left', () => {
    expect(progressBar(base, 10)).toBe('█████░░░░░  50%  48,000 events  24,000/s  ETA 2.0s')
    expect(progressBar({...base, toSeq: Number.MAX_SAFE_INTEGER}, 10)).toBe('48,000 events  24,000/s')
  })

  it('writes a plain line for logs', () => {
    expect(progressLine(base)).toBe('replay: 48,000 events stored, at source sequence 50,000 of 100,000 (50%), 24,000 events/s, ETA 2.0s')
    expect(progressLine({...base, toSeq: Number.MAX_SAFE_INTEGER})).toBe('replay: 48,000 events stored, at line 50,000, 24,000 events/s')
  })

  it('estimates a dry run in seconds that mean something, or not at all', () => {
    expect(estimatePhrase(104, 0)).toBe('under a second')
    expect(estimatePhrase(2_000_000, 40)).toBe('about 40s')
    expect(estimatePhrase(20_000_000, 400)).toBe('about 6m40s')
    expect(estimatePhrase(0, 0)).toBeUndefined()
  })
})
