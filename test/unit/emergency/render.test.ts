import {describe, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import {renderEmergency} from '../../../src/lib/emergency/render.js'
import type {EmergencyResult} from '../../../src/lib/emergency/service.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})
const LONG = 'workflow-analytics-projection-eu-west-1'

describe.each(WIDTHS)('tables at %d columns: the house rules (core/output/table.ts) with long real names', (width) => {
  it('emergency stop: stream and consumer whole', () => {
    const consumers = [
      {stream: 'EVENTS', name: LONG, outcome: 'paused', pauseUntil: '2026-12-05T06:00:00.000Z'},
      {stream: 'EVENTS', name: 'workflow-analytics-projection-eu-west-2', outcome: 'failed', error: 'consumer pause answered 503: JetStream not enabled for account on nats-eu-west-1-c'},
    ]
    const result = {action: 'stop', domain: 'workflow', subject: 'cim.ops.emergency.stop', dryRun: false, broadcastOnly: false, consumers, message: ''} as unknown as EmergencyResult
    expectFits((w) => renderEmergency(result, {style, width: w}), width, consumers.map((c) => [c.stream, c.name]))
  })
})
