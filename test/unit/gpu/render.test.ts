import {describe, expect, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import {createProgress} from '../../../src/lib/gpu/progress.js'
import {progressLine, renderEvacuation, renderFleet} from '../../../src/lib/gpu/render.js'
import {evacuateNode} from '../../../src/lib/gpu/evacuate.js'
import {listFleet} from '../../../src/lib/gpu/nodes.js'
import {allocate, memoryFleet} from './memory-fleet.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})

describe('gpu renderers', () => {
  it('progress line: what is left, of how many, and the time to the deadline', () => {
    const deadline = new Date(Date.now() + 95_000).toISOString()
    expect(progressLine({node: 'gpu-07', phase: 'waiting', total: 7, remaining: ['a', 'b', 'c', 'd', 'e', 'f'], deadline, elapsedMs: 1000}, Date.parse(deadline) - 95_000)).toBe(
      'gpu-07: waiting for 6 of 7 workloads (a, b, c, d, e, +1), 1m35s left',
    )
    expect(progressLine({node: 'gpu-07', phase: 'drained', total: 1, remaining: [], deadline, elapsedMs: 7600})).toBe('gpu-07: drained after 7.6s')
  })

  it('plain progress prints on change, not on every poll; quiet prints nothing', async () => {
    const lines: string[] = []
    const progress = await createProgress('lines', {title: 't', write: (l) => lines.push(l)})
    const p = {node: 'n', phase: 'waiting' as const, total: 2, remaining: ['a', 'b'], deadline: new Date(Date.now() + 60_000).toISOString(), elapsedMs: 0}
    progress.update(p)
    progress.update(p)
    progress.update({...p, remaining: ['b']})
    await progress.stop()
    expect(lines).toHaveLength(2)
    const quiet = await createProgress('quiet', {title: 't', write: (l) => lines.push(l)})
    quiet.update(p)
    expect(lines).toHaveLength(2)
  })

  it('the dry-run plan and the fleet table', async () => {
    const fleet = memoryFleet()
    await allocate(fleet, 'gpu-07', 'train')
    const plan = renderEvacuation(await evacuateNode(fleet, {node: 'gpu-07', reason: 'ECC', by: 'alice@h', timeoutMs: 600_000, dryRun: true}), {style})
    expect(plan).toContain('  1. compare-and-set cim_gpu_nodes/gpu-07: active (no record) -> draining {reason: "ECC", by: alice@h}')
    expect(plan).toMatch(/WORKLOAD\s+GPU\s+SINCE\s+KEY\ntrain\s+0\s+2026-11-21T03:00:00Z\s+gpu-07\.train/)
    const table = renderFleet(await listFleet(fleet, {staleAfterSeconds: 600}), {style})
    expect(table).toMatch(/^NODE\s+STATE\s+SINCE\s+BY\s+HEALTH\s+GPUS\s+WORKLOADS\s+CHECKED\s+REASON \/ HEALTH\ngpu-07\s+active\s+-\s+-\s+-\s+-\s+1\s+-\s+-\n/)
    expect(renderFleet(await listFleet(memoryFleet(), {staleAfterSeconds: 600}), {style})).toMatch(/^No GPU nodes known/)
  })
})

describe('gpu tables fit by the house rules', () => {
  it.each(WIDTHS)('at %d columns: node and workload names whole, --verbose too', async (width) => {
    const fleet = memoryFleet()
    for (const node of ['gpu-a100-eu-west-1-rack07-node03', 'gpu-a100-eu-west-1-rack07-node04']) await allocate(fleet, node, 'workflow-analytics-projection-training-eu-west-1')
    const view = await listFleet(fleet, {staleAfterSeconds: 600})
    const keys = view.nodes.map((n) => [n.node])
    expectFits((w) => renderFleet(view, {style, width: w, verbose: true}), width, [...keys, ...keys.map(([node]) => [node, 'workflow-analytics-projection-training-eu-west-1'])])
  })
})
