/**
 * The live frame of every `--watch` and progress view: ink (loaded only here, only when a terminal
 * shows it) redraws a header and a pre-rendered body in place.
 */
export interface LiveView {
  update(header: string, body?: string, error?: string): void
  stop(): void
}

export async function startLiveView(header: string, options: {stream?: NodeJS.WriteStream; body?: string} = {}): Promise<LiveView> {
  const [{render}, {createElement}, {WatchView}] = await Promise.all([import('ink'), import('react'), import('./watch-view.js')])
  const instance = render(createElement(WatchView, {header, body: options.body}), {
    ...(options.stream ? {stdout: options.stream} : {}),
    exitOnCtrlC: false,
    patchConsole: false,
  })
  return {
    update: (next, body, error) => instance.rerender(createElement(WatchView, {header: next, body, error})),
    stop: () => instance.unmount(),
  }
}
