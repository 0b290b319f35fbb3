/**
 * Evacuation progress on stderr (DESIGN.md "Output"): a live ink frame on a terminal (one line per node), a plain
 * line when something changes or every few seconds otherwise, nothing with --quiet. stdout stays for the result.
 */
import type {EvacuationProgress} from './evacuate.js'
import {progressLine} from './render.js'
import {type ProgressMode, startLiveView} from '../ui/live.js'

export {type ProgressMode, progressMode} from '../ui/live.js'

export interface ProgressReporter {
  update(progress: EvacuationProgress): void
  stop(): Promise<void>
}

export async function createProgress(mode: ProgressMode, {title, everyMs = 5000, write = (line: string) => process.stderr.write(`${line}\n`)}: {title: string; everyMs?: number; write?: (line: string) => void}): Promise<ProgressReporter> {
  if (mode === 'quiet') return {update: () => {}, stop: async () => {}}
  const latest = new Map<string, EvacuationProgress>()
  if (mode === 'lines') {
    const lastShown = new Map<string, {at: number; key: string}>()
    return {
      update(progress) {
        latest.set(progress.node, progress)
        const key = `${progress.phase}:${progress.remaining.length}`
        const shown = lastShown.get(progress.node)
        if (shown && shown.key === key && Date.now() - shown.at < everyMs) return
        lastShown.set(progress.node, {at: Date.now(), key})
        write(progressLine(progress))
      },
      stop: async () => {},
    }
  }
  const frame = () => [...latest.values()].map((p) => progressLine(p)).join('\n') || 'starting…'
  const view = await startLiveView(title, {stream: process.stderr, body: frame()})
  // Redraw every second so the time left counts down between changes.
  const timer = setInterval(() => view.update(title, frame()), 1000)
  return {
    update(progress) {
      latest.set(progress.node, progress)
      view.update(title, frame())
    },
    async stop() {
      clearInterval(timer)
      view.update(title, frame())
      view.stop()
    },
  }
}
