/**
 * Replay progress: reported from a timer while the replay runs (nothing per event), and shown on
 * stderr as an ink bar redrawn in place on a terminal (events, rate, ETA), a plain line every few
 * seconds otherwise, nothing with --quiet. stdout stays for the result.
 */
import {formatDuration} from '../core/duration.js'
import {type ProgressMode, startLiveView} from '../ui/live.js'
import type {ReplayProgress, ReplayRun} from './model.js'

const BAR_WIDTH = 28

export interface ReplayProgressView {
  update(progress: ReplayProgress): void
  stop(): void
}

/**
 * The dry run's time estimate: a rough rate (ESTIMATED_RATE) says nothing useful below a second, where connecting and
 * checking the target take longer than the events; no estimate for nothing selected.
 */
export function estimatePhrase(selected: number, estimatedSeconds: number | undefined): string | undefined {
  if (selected === 0 || estimatedSeconds === undefined) return undefined
  return estimatedSeconds < 1 ? 'under a second' : `about ${formatDuration(estimatedSeconds * 1000)}`
}

/** How far through the source range the replay is (0..1); undefined for a file source (no known end). */
export function rangeFraction(p: ReplayProgress): number | undefined {
  if (!Number.isSafeInteger(p.toSeq) || p.toSeq >= Number.MAX_SAFE_INTEGER) return undefined
  const total = p.toSeq - p.fromSeq + 1
  if (total <= 0) return 1
  return Math.min(1, Math.max(0, (p.lastSeq - p.fromSeq + 1) / total))
}

function numbers(p: ReplayProgress): {rate: number; eta?: number; fraction?: number} {
  const seconds = p.elapsedMs / 1000
  const fraction = rangeFraction(p)
  const rate = seconds > 0 ? Math.round(p.published / seconds) : 0
  const eta = fraction !== undefined && fraction > 0 && fraction < 1 ? (p.elapsedMs * (1 - fraction)) / fraction : undefined
  return {rate, eta, fraction}
}

/** Reports a run's progress every few seconds from a timer (nothing per event); returns the stop function. */
export function reportProgress(run: ReplayRun, counts: () => Pick<ReplayProgress, 'selected' | 'published' | 'lastSeq'>): () => void {
  const {onProgress, progressEveryMs = 2000} = run.options
  if (!onProgress) return () => undefined
  const timer = setInterval(() => onProgress({...counts(), fromSeq: run.startSeq, toSeq: run.plan.toSeq, elapsedMs: Date.now() - run.startedAt}), progressEveryMs)
  timer.unref()
  return () => clearInterval(timer)
}

const count = (n: number) => n.toLocaleString('en-US')

/** `[██████░░░░] 52%  156,000 events  48,200/s  ETA 3.1s` */
export function progressBar(p: ReplayProgress, width = BAR_WIDTH): string {
  const {rate, eta, fraction} = numbers(p)
  const parts: string[] = []
  if (fraction !== undefined) {
    const filled = Math.round(fraction * width)
    parts.push(`${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${String(Math.floor(fraction * 100)).padStart(3)}%`)
  }
  parts.push(`${count(p.published)} events`, `${count(rate)}/s`)
  if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`)
  return parts.join('  ')
}

/** `replay: 156,000 events stored, at source sequence 160,000 of 300,000 (52%), 48,200 events/s, ETA 3.1s` */
export function progressLine(p: ReplayProgress): string {
  const {rate, eta, fraction} = numbers(p)
  const where = fraction === undefined ? `line ${count(p.lastSeq)}` : `source sequence ${count(p.lastSeq)} of ${count(p.toSeq)} (${Math.floor(fraction * 100)}%)`
  return `replay: ${count(p.published)} events stored, at ${where}, ${count(rate)} events/s${eta === undefined ? '' : `, ETA ${formatDuration(eta)}`}`
}

export async function createReplayProgress(mode: ProgressMode, title: string, write = (line: string) => process.stderr.write(`${line}\n`)): Promise<ReplayProgressView> {
  if (mode === 'quiet') return {update: () => undefined, stop: () => undefined}
  if (mode === 'lines') return {update: (p) => write(progressLine(p)), stop: () => undefined}
  const view = await startLiveView(title, {stream: process.stderr, body: 'starting…'})
  return {
    update: (p) => view.update(title, progressBar(p)),
    stop: () => view.stop(),
  }
}
