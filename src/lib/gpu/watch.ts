/**
 * `gpu status --watch`: re-run until Ctrl-C, redrawing in place with ink on a terminal (the health-check --watch
 * pattern and frame), or printing each report in turn (a JSON line each with --json).
 */
export interface WatchOptions<T> {
  intervalMs: number
  signal: AbortSignal
  live: boolean
  title: (report?: T) => string
  render: (report: T) => string
  /** After each run: exit code, publishing. */
  onReport: (report: T) => Promise<void>
}

export async function watchLoop<T>(run: () => Promise<T>, options: WatchOptions<T>): Promise<T | undefined> {
  const view = options.live ? await liveView(options.title()) : undefined
  let last: T | undefined
  try {
    while (!options.signal.aborted) {
      try {
        last = await run()
      } catch (error) {
        if (options.signal.aborted) break
        throw error
      }
      await options.onReport(last)
      const text = options.render(last)
      if (view) view.update(options.title(last), text)
      else process.stdout.write(`${text}\n`)
      await sleep(options.intervalMs, options.signal)
    }
  } finally {
    view?.stop()
  }
  return last
}

async function liveView(title: string): Promise<{update(header: string, text: string): void; stop(): void}> {
  const [{render}, {createElement}, {HealthWatchView}] = await Promise.all([import('ink'), import('react'), import('../ui/health-watch.js')])
  const instance = render(createElement(HealthWatchView, {header: title, report: undefined}), {exitOnCtrlC: false, patchConsole: false})
  return {
    update: (header, text) => instance.rerender(createElement(HealthWatchView, {header, report: text})),
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
