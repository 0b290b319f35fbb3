import {render} from 'ink-testing-library'
import {createElement} from 'react'
import {afterEach, describe, expect, it} from 'vitest'

import {WatchView} from '../../../src/lib/ui/watch-view.js'

describe('WatchView', () => {
  let view: ReturnType<typeof render> | undefined
  afterEach(() => view?.cleanup())

  it('shows a placeholder until the first report, then the report under the header, and a failed refresh under it', () => {
    view = render(createElement(WatchView, {header: 'cimops health-check — every 5s'}))
    expect(view.lastFrame()).toBe('cimops health-check — every 5s\nreading…')
    view.rerender(createElement(WatchView, {header: 'cimops health-check — every 5s — 03:00:05', body: 'STATUS  CHECK\nOK      nats'}))
    expect(view.lastFrame()).toBe('cimops health-check — every 5s — 03:00:05\nSTATUS  CHECK\nOK      nats')
    view.rerender(createElement(WatchView, {header: 'h', body: 'last report', error: 'nats at nats://n1:4222 did not answer'}))
    expect(view.lastFrame()).toBe('h\nlast report\nrefresh failed: nats at nats://n1:4222 did not answer')
  })
})
