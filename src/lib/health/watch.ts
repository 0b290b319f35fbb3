import type {HealthReport} from './service.js'

export interface WatchOptions {
  intervalMs: number
  signal: AbortSignal
  /** Redraw in place with ink (a terminal); otherwise print each report in turn. */
  live: boolean
  /** The text of one report: the table, or a JSON line. */
  render: (report: HealthReport) => string
  /** Called after each run (exit code, textfile). */
  onReport: (report: HealthReport) => Promise<void>
}

/** Re-runs the health check until the signal aborts; returns the last report. */
export async function watchHealth(check: () => Promise<HealthReport>, options: WatchOptions): Promise<HealthReport | undefined> {
  const header = (report?: HealthReport) =>
    `cimops health-check — every ${Math.round(options.intervalMs / 1000)}s${report ? ` — ${new Date(report.checkedAt).toLocaleTimeString()}` : ''} — Ctrl-C to stop`
  const view = options.live ? await liveView() : undefined
  let last: HealthReport | undefined
  try {
    while (!options.signal.aborted) {
      try {
        last = await check()
      } catch (error) {
        if (options.signal.aborted) break
        throw error
      }
      await options.onReport(last)
      const text = options.render(last)
      if (view) view.update(header(last), text)
      else process.stdout.write(`${text}\n`)
      await sleep(options.intervalMs, options.signal)
    }
  } finally {
    view?.stop()
  }
  return last
}

async function liveView(): Promise<{update(header: string, report: string): void; stop(): void}> {
  const [{render}, {createElement}, {HealthWatchView}] = await Promise.all([import('ink'), import('react'), import('../ui/health-watch.js')])
  const instance = render(createElement(HealthWatchView, {header: 'cimops health-check', report: undefined}), {exitOnCtrlC: false, patchConsole: false})
  return {
    update: (header, report) => instance.rerender(createElement(HealthWatchView, {header, report})),
    stop: () => instance.unmount(),
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', wake)
      resolve()
    }
    const timer = setTimeout(wake, ms)
    signal.addEventListener('abort', wake, {once: true})
  })
}
