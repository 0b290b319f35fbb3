/** Re-run a report until Ctrl-C (every --watch): redrawn in place with ink on a terminal, printed one after another otherwise, each under a timestamped line. */
import {sleep} from '../core/sleep.js'
import {startLiveView} from './live.js'

export interface WatchOptions<T> {
  intervalMs: number
  signal: AbortSignal
  /** Redraw in place with ink (a terminal, not --json); otherwise print each result in turn. */
  live: boolean
  /** Header line of the live view. */
  header: (last: T | undefined) => string
  /** Text of one result: a table, or a JSON line. */
  render: (result: T) => string
  /** Results are JSON lines: printed bare, without the timestamped line that separates text reports. */
  json?: boolean
  /** After each successful refresh (e.g. the exit code). */
  onResult?: (result: T) => void | Promise<void>
  /** Plain mode: where a result goes (default stdout) and where a failed refresh is told (default stderr). */
  write?: (text: string) => void
  warn?: (text: string) => void
  /** The clock of the separator lines. */
  now?: () => Date
}

/** `── 2026-12-05 21:04:05 ──`, local time: where one text report ends and the next begins in a log. */
export function separatorLine(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`
  return `── ${date} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())} ──`
}

/**
 * The first refresh must succeed (a missing stream or an unreachable server ends the command as
 * usual). After that a failed refresh does not end the watch (the server may come back): the live
 * view keeps the last report and shows the error under it; plain mode tells it on stderr.
 * Returns the last result.
 */
export async function watchLoop<T>(refresh: (previous: T | undefined) => Promise<T>, options: WatchOptions<T>): Promise<T | undefined> {
  const write = options.write ?? ((text: string) => void process.stdout.write(`${text}\n`))
  const warn = options.warn ?? ((text: string) => void process.stderr.write(`${text}\n`))
  const view = options.live ? await startLiveView(options.header(undefined)) : undefined
  let last: T | undefined
  let body: string | undefined
  try {
    while (!options.signal.aborted) {
      let error: string | undefined
      try {
        const result = await refresh(last)
        if (options.signal.aborted) break
        last = result
        await options.onResult?.(result)
        body = options.render(result)
      } catch (caught) {
        if (options.signal.aborted) break
        if (last === undefined) throw caught
        error = caught instanceof Error ? caught.message : String(caught)
      }
      if (options.signal.aborted) break
      if (view) view.update(options.header(last), body, error)
      else if (error) warn(`cimops: refresh failed: ${error}`)
      else if (body !== undefined) write(options.json ? body : `${separatorLine(options.now?.() ?? new Date())}\n${body}`)
      await sleep(options.intervalMs, options.signal)
    }
  } finally {
    view?.stop()
  }
  return last
}
