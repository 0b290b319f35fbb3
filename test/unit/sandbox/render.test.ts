import {describe, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import {renderProcesses, renderSeededConsumers} from '../../../src/lib/sandbox/render.js'
import type {ProcessStatus} from '../../../src/lib/sandbox/types.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})
const LONG = 'workflow-analytics-projection-eu-west-1'

describe.each(WIDTHS)('tables at %d columns: the house rules (core/output/table.ts) with long real names', (width) => {
  it('sandbox status and seed: process and consumer names whole', () => {
    const processes: ProcessStatus[] = [1, 2, 3].map((n) => ({name: `nats-${n}`, component: 'nats', pid: 41_000 + n, url: `nats://127.0.0.1:${4221 + n}`, port: 4221 + n, version: '2.10.27', configFile: `/tmp/sandbox/nats-${n}.conf`, dataDir: `/tmp/sandbox/nats-${n}`, logFile: `/tmp/sandbox/nats-${n}.log`, argv: [], alive: true, healthy: n !== 3, detail: n === 3 ? 'healthz: JetStream is not current with the meta leader (catching up after restart)' : 'ready, routed to 2 peers'}))
    expectFits((w) => renderProcesses(processes, style, w), width, processes.map((p) => [p.name]))
    const consumers = [{name: LONG, stream: 'EVENTS', pending: 41, ackPending: 12}, {name: 'workflow-analytics-projection-eu-west-2', stream: 'EVENTS', pending: 0, ackPending: 0}]
    expectFits((w) => renderSeededConsumers(consumers, style, w), width, consumers.map((c) => [c.name, c.stream]))
  })
})
