import {render} from 'ink-testing-library'
import {createElement} from 'react'
import {afterEach, describe, expect, it} from 'vitest'

import {HealthWatchView} from '../../../src/lib/ui/health-watch.js'

describe('HealthWatchView', () => {
  let view: ReturnType<typeof render> | undefined
  afterEach(() => view?.cleanup())

  it('shows a placeholder until the first report, then the report under the header', () => {
    view = render(createElement(HealthWatchView, {header: 'cimops health-check — every 5s'}))
    expect(view.lastFrame()).toBe('cimops health-check — every 5s\nchecking…')
    view.rerender(createElement(HealthWatchView, {header: 'cimops health-check — every 5s — 03:00:05', report: 'STATUS  CHECK\nOK      nats'}))
    expect(view.lastFrame()).toBe('cimops health-check — every 5s — 03:00:05\nSTATUS  CHECK\nOK      nats')
  })
})
