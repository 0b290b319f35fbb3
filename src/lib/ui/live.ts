/**
 * The live frame of every `--watch` and progress view: ink (loaded only here, only when a terminal
 * shows it) redraws a header and a pre-rendered body in place.
 */
/** How progress shows on stderr: redrawn in place by ink, plain lines, or not at all. */
export type ProgressMode = 'live' | 'lines' | 'quiet'

export function progressMode({quiet, json}: {quiet?: boolean; json?: boolean}): ProgressMode {
  if (quiet) return 'quiet'
  // Live redraw needs a terminal and a CI that lets ink redraw; JSON consumers get plain lines.
  return process.stderr.isTTY && !json ? 'live' : 'lines'
}

export interface LiveView {
  update(header: string, body?: string, error?: string): void
  stop(): void
}

/** What a terminal that reports no width is drawn as: a pty without a size (script(1) from cron, some `docker exec -t`) says 0 columns. */
const UNKNOWN_WIDTH_COLUMNS = 80

export async function startLiveView(header: string, options: {stream?: NodeJS.WriteStream; body?: string} = {}): Promise<LiveView> {
  const [{render}, {createElement}, {WatchView}] = await Promise.all([import('ink'), import('react'), import('./watch-view.js')])
  const stream = options.stream ?? process.stdout
  // ink lays out to `columns`: at 0 it would wrap after every character. Node sets it again on a resize.
  if (stream.isTTY && !stream.columns) stream.columns = UNKNOWN_WIDTH_COLUMNS
  const instance = render(createElement(WatchView, {header, body: options.body}), {
    stdout: stream,
    exitOnCtrlC: false,
    patchConsole: false,
  })
  return {
    update: (next, body, error) => instance.rerender(createElement(WatchView, {header: next, body, error})),
    stop: () => instance.unmount(),
  }
}
