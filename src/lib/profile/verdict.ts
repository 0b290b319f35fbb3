/**
 * The verdict on a process's resident memory over the profile window:
 * - unknown: fewer than MIN_SAMPLES samples, no trend to speak of;
 * - leaking: what the process frees does not bring its memory back: a leak survives a garbage collection. A
 *   collection cannot be seen from outside, but its effect can: a drop of at least DROP_FRACTION from the peak before
 *   it. At least MIN_TROUGHS such low points, each higher than the one before, the last above the first by the growth
 *   threshold below; the growth reported is the line through these low points;
 * - growing: the least-squares line rises, with confidence >= GROWTH_CONFIDENCE, r² >= GROWTH_R2, and by at least
 *   MIN_GROWTH_FRACTION of the mean RSS (and MIN_GROWTH_BYTES) across the window: smaller drifts are allocator noise;
 * - stable: otherwise.
 * Growth without any drop stays "growing": whether a collection would free it cannot be told from the window.
 */
import type {Status} from '../core/check/status.js'
import {fitLine} from './fit.js'

export type Verdict = 'stable' | 'growing' | 'leaking' | 'unknown'

export const VERDICT_STATUS: Record<Verdict, Status> = {stable: 'OK', growing: 'WARNING', leaking: 'CRITICAL', unknown: 'UNKNOWN'}

export const MIN_SAMPLES = 5
const GROWTH_CONFIDENCE = 0.95
const GROWTH_R2 = 0.5
const MIN_GROWTH_FRACTION = 0.01
const MIN_GROWTH_BYTES = 256 * 1024
const DROP_FRACTION = 0.01
const MIN_TROUGHS = 3

export interface Growth {
  bytesPerHour: number
  r2: number
  /** 0..1: how likely the memory really grows (the slope is above zero). */
  confidence: number
}

export interface MemoryVerdict {
  verdict: Verdict
  /** Undefined with too few samples. */
  growth?: Growth
  /** Why, in one line. */
  why: string
}

export interface MemoryPoint {
  /** Seconds since the first sample. */
  seconds: number
  rssBytes: number
}

export function judgeMemory(points: readonly MemoryPoint[]): MemoryVerdict {
  const fit = points.length >= MIN_SAMPLES ? fitLine(points.map((p) => ({x: p.seconds, y: p.rssBytes}))) : undefined
  if (!fit) return {verdict: 'unknown', why: `${points.length} sample${points.length === 1 ? '' : 's'}: at least ${MIN_SAMPLES} are needed for a trend`}
  const growth = {bytesPerHour: fit.slope * 3600, r2: fit.r2, confidence: fit.confidence}
  const windowSeconds = points.at(-1)!.seconds - points[0].seconds
  const meanRss = points.reduce((sum, p) => sum + p.rssBytes, 0) / points.length
  const grown = fit.slope * windowSeconds
  const threshold = Math.max(MIN_GROWTH_BYTES, MIN_GROWTH_FRACTION * meanRss)
  // A sawtooth hides its trend from the line through every sample: a leak is told by its low points, and its growth
  // is theirs, what survives the collections.
  const troughs = lowPoints(points.map((p) => p.rssBytes)).map((i) => points[i])
  const rising = troughs.length >= MIN_TROUGHS && troughs.every((p, i) => i === 0 || p.rssBytes > troughs[i - 1].rssBytes) && troughs.at(-1)!.rssBytes - troughs[0].rssBytes >= threshold
  const troughFit = rising ? fitLine(troughs.map((p) => ({x: p.seconds, y: p.rssBytes}))) : undefined
  if (troughFit) {
    return {
      verdict: 'leaking',
      growth: {bytesPerHour: troughFit.slope * 3600, r2: troughFit.r2, confidence: troughFit.confidence},
      why: `each of ${troughs.length} drops (a collection, a cache trimmed) leaves more behind than the one before; the growth is that of these low points`,
    }
  }
  if (fit.confidence < GROWTH_CONFIDENCE || fit.r2 < GROWTH_R2 || grown < threshold) {
    return {verdict: 'stable', growth, why: `no lasting growth: ${trend(grown, threshold, fit.confidence, fit.r2)}`}
  }
  const drops = troughs.length === 0 ? 'no drop in the window shows whether a collection would free it' : `but ${troughs.length === 1 ? 'its one drop' : 'its drops'} do not show memory kept`
  return {verdict: 'growing', growth, why: `grows steadily; ${drops}`}
}

function trend(grown: number, threshold: number, confidence: number, r2: number): string {
  if (grown < threshold) return `the fitted change over the window (${Math.round(grown / 1024)} KiB) is under ${Math.round(threshold / 1024)} KiB`
  if (confidence < GROWTH_CONFIDENCE) return `growth confidence ${Math.round(confidence * 100)}% is under ${GROWTH_CONFIDENCE * 100}%`
  return `r² ${r2.toFixed(2)} is under ${GROWTH_R2}: the line explains too little`
}

/** Where the series is lowest after each drop of at least DROP_FRACTION from the peak before it: indexes, in order. */
export function lowPoints(values: readonly number[]): number[] {
  const lows: number[] = []
  let peak = values[0]
  let low: number | undefined
  for (let i = 1; i < values.length; i++) {
    const value = values[i]
    if (low === undefined) {
      if (value >= peak) peak = value
      else if (peak - value >= DROP_FRACTION * peak) low = i
    } else if (value <= values[low]) {
      low = i
    } else if (value - values[low] >= DROP_FRACTION * peak) {
      // Risen again: the drop is over.
      lows.push(low)
      low = undefined
      peak = value
    }
  }
  if (low !== undefined) lows.push(low)
  return lows
}
