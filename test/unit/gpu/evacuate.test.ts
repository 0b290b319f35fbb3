import {describe, expect, it} from 'vitest'

import {DataError} from '../../../src/lib/core/errors.js'
import {emergencyGpuEvacuate, mapBounded} from '../../../src/lib/gpu/emergency.js'
import {EvacuationConflictError, type EvacuateOptions, evacuateNode, uncordonNode} from '../../../src/lib/gpu/evacuate.js'
import {forgetNode} from '../../../src/lib/gpu/forget.js'
import {listFleet} from '../../../src/lib/gpu/nodes.js'
import {allocate, cooperativeAgent, memoryFleet, type MemoryFleet} from './memory-fleet.js'

const base = (node: string, extra: Partial<EvacuateOptions> = {}): EvacuateOptions => ({node, reason: 'Xid 79 on GPU 2', by: 'alice@ops-1', timeoutMs: 2000, pollMs: 20, ...extra})
const subjects = (fleet: MemoryFleet) => fleet.published.map((p) => p.subject.replace(/^cim\.ops\.gpu\.[^.]+\./, ''))

describe('evacuateNode: the drain protocol', () => {
  it('draining -> evacuate -> workloads leave -> drained, every step an event', async () => {
    const fleet = memoryFleet()
    await allocate(fleet, 'gpu-07', 'train-a', 'infer-b')
    await allocate(fleet, 'gpu-08', 'other')
    cooperativeAgent(fleet, 'gpu-07')
    const result = await evacuateNode(fleet, base('gpu-07'))
    expect(result).toMatchObject({node: 'gpu-07', outcome: 'drained', state: 'drained', dryRun: false, reason: 'Xid 79 on GPU 2', by: 'alice@ops-1'})
    expect(result.previous).toBeUndefined()
    expect(result.workloads.initial.map((a) => a.workload)).toEqual(['infer-b', 'train-a'])
    expect(result.workloads.left.sort()).toEqual(['infer-b', 'train-a'])
    expect(result.workloads.remaining).toEqual([])
    expect(subjects(fleet)).toEqual(['draining', 'evacuate', 'workload-left', 'workload-left', 'drained'])
    const evacuate = fleet.published[1]
    expect(evacuate.subject).toBe('cim.ops.gpu.gpu-07.evacuate')
    expect(evacuate.body).toMatchObject({type: 'GpuEvacuationRequested', node: 'gpu-07', reason: 'Xid 79 on GPU 2', deadline: result.deadline, evacuationId: result.evacuationId})
    const node = await fleet.store.nodes.get('gpu-07')
    expect(node?.value).toMatchObject({state: 'drained', reason: 'Xid 79 on GPU 2', by: 'alice@ops-1', evacuationId: result.evacuationId})
    // Another node's allocations are not this node's.
    expect(await fleet.store.allocations.keys()).toEqual(['gpu-08.other'])
    expect(result.message).toMatch(/^gpu-07 drained in .*: 2 workloads left/)
  })

  it('a node with no workloads drains at once', async () => {
    const fleet = memoryFleet()
    await fleet.store.nodes.put('gpu-09', {state: 'active', since: '2026-11-01T00:00:00Z', by: 'bob'})
    const result = await evacuateNode(fleet, base('gpu-09'))
    expect(result).toMatchObject({outcome: 'drained', previous: {state: 'active', by: 'bob'}})
    expect(subjects(fleet)).toEqual(['draining', 'evacuate', 'drained'])
  })

  it('at the deadline: stuck workloads reported, node left draining, timed-out event', async () => {
    const fleet = memoryFleet()
    await allocate(fleet, 'gpu-07', 'ckpt-job')
    const result = await evacuateNode(fleet, base('gpu-07', {timeoutMs: 150}))
    expect(result).toMatchObject({outcome: 'timed-out', state: 'draining'})
    expect(result.workloads.remaining).toEqual([{key: 'gpu-07.ckpt-job', workload: 'ckpt-job', gpu: 0, since: '2026-11-21T03:00:00Z'}])
    expect(subjects(fleet)).toEqual(['draining', 'evacuate', 'evacuation-timed-out'])
    expect(fleet.published[2].body).toMatchObject({stuck: ['ckpt-job']})
    expect((await fleet.store.nodes.get('gpu-07'))?.value?.state).toBe('draining')
  })

  it('a workload placed on the draining node is waited for too', async () => {
    const fleet = memoryFleet()
    await allocate(fleet, 'gpu-07', 'a')
    fleet.onPublish = (subject) => {
      if (subject.endsWith('.evacuate')) void allocate(fleet, 'gpu-07', 'late').then(() => fleet.store.allocations.delete('gpu-07.a'))
    }
    const result = await evacuateNode(fleet, base('gpu-07', {timeoutMs: 200}))
    expect(result.outcome).toBe('timed-out')
    expect(result.workloads.arrived).toEqual(['late'])
    expect(result.workloads.left).toEqual(['a'])
  })

  it('progress reports what is left and the deadline', async () => {
    const fleet = memoryFleet()
    await allocate(fleet, 'gpu-07', 'a', 'b')
    cooperativeAgent(fleet, 'gpu-07', 30)
    const seen: string[] = []
    await evacuateNode(fleet, base('gpu-07', {onProgress: (p) => seen.push(`${p.phase}:${p.remaining.join(',')}`)}))
    expect(seen[0]).toBe('waiting:a,b')
    expect(seen).toContain('waiting:b')
    expect(seen.at(-1)).toBe('drained:')
  })

  it('the signal stops the wait: interrupted, node left draining', async () => {
    const fleet = memoryFleet()
    await allocate(fleet, 'gpu-07', 'a')
    const abort = new AbortController()
    setTimeout(() => abort.abort(), 50)
    const result = await evacuateNode(fleet, base('gpu-07', {signal: abort.signal, timeoutMs: 60_000}))
    expect(result).toMatchObject({outcome: 'interrupted', state: 'draining'})
    expect(subjects(fleet).at(-1)).toBe('evacuation-interrupted')
  })
})

describe('evacuateNode: one evacuation at a time', () => {
  it('two evacuations that read the same revision: the compare-and-set lets exactly one through', async () => {
    const fleet = memoryFleet()
    await fleet.store.nodes.put('gpu-07', {state: 'active', since: '2026-11-01T00:00:00Z'})
    await allocate(fleet, 'gpu-07', 'a')
    cooperativeAgent(fleet, 'gpu-07', 20)
    const results = await Promise.allSettled([evacuateNode(fleet, base('gpu-07', {by: 'alice'})), evacuateNode(fleet, base('gpu-07', {by: 'bob'}))])
    const won = results.filter((r) => r.status === 'fulfilled')
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    expect(lost[0].reason).toBeInstanceOf(EvacuationConflictError)
    expect(lost[0].reason.exit).toBe(2)
    expect(lost[0].reason.message).toMatch(/^node gpu-07 is already being evacuated: another operator changed it first: it is (draining|drained) by (alice|bob)/)
    // Only the winner's steps are on the log.
    expect(subjects(fleet).filter((s) => s === 'draining')).toHaveLength(1)
  })

  it('a node another operator is draining is refused, nothing changed; --resume takes it over', async () => {
    const fleet = memoryFleet()
    await fleet.store.nodes.put('gpu-07', {state: 'draining', reason: 'ECC', since: '2026-11-21T03:00:00Z', by: 'carol'})
    const before = (await fleet.store.nodes.get('gpu-07'))!.revision
    await expect(evacuateNode(fleet, base('gpu-07'))).rejects.toThrowError('node gpu-07 is already being evacuated: it is draining by carol since 2026-11-21T03:00:00Z (reason: ECC)')
    expect((await fleet.store.nodes.get('gpu-07'))!.revision).toBe(before)
    expect(fleet.published).toEqual([])
    const resumed = await evacuateNode(fleet, base('gpu-07', {resume: true}))
    expect(resumed).toMatchObject({outcome: 'drained', previous: {state: 'draining', by: 'carol'}})
  })

  it('uncordoned during the wait: the evacuation stops, the uncordon stands', async () => {
    const fleet = memoryFleet()
    await allocate(fleet, 'gpu-07', 'a')
    fleet.onPublish = (subject) => {
      if (subject.endsWith('.evacuate')) setTimeout(() => void uncordonNode(fleet, {node: 'gpu-07', by: 'dave', reason: 'false alarm'}), 30)
    }
    const result = await evacuateNode(fleet, base('gpu-07', {timeoutMs: 5000}))
    expect(result).toMatchObject({outcome: 'superseded', state: 'active'})
    expect(result.workloads.remaining.map((a) => a.workload)).toEqual(['a'])
    expect((await fleet.store.nodes.get('gpu-07'))?.value).toMatchObject({state: 'active', by: 'dave', reason: 'false alarm'})
  })

  it('already drained: nothing to do; dry run: the plan, nothing changed; unreadable record: refused', async () => {
    const fleet = memoryFleet()
    await fleet.store.nodes.put('gpu-07', {state: 'drained', since: '2026-11-21T03:00:00Z', by: 'erin'})
    expect(await evacuateNode(fleet, base('gpu-07'))).toMatchObject({outcome: 'already-drained', state: 'drained'})
    // Drained, but work is on it again: it is drained again, not declared done.
    await allocate(fleet, 'gpu-07', 'came-back')
    cooperativeAgent(fleet, 'gpu-07')
    const again = await evacuateNode(fleet, base('gpu-07'))
    expect(again).toMatchObject({outcome: 'drained', previous: {state: 'drained', by: 'erin'}, workloads: {left: ['came-back']}})
    fleet.onPublish = undefined
    fleet.published.length = 0
    await allocate(fleet, 'gpu-08', 'a', 'b')
    const plan = await evacuateNode(fleet, base('gpu-08', {dryRun: true}))
    expect(plan).toMatchObject({outcome: 'dry-run', dryRun: true, state: 'active'})
    expect(plan.workloads.remaining.map((a) => a.workload)).toEqual(['a', 'b'])
    expect(plan.message).toMatch(/^Would mark gpu-08 draining \(now active\), publish cim\.ops\.gpu\.gpu-08\.evacuate and wait up to 2\.0s for 2 workloads to leave: a, b$/)
    expect(await fleet.store.nodes.get('gpu-08')).toBeUndefined()
    expect(fleet.published).toEqual([])
    fleet.store.nodes.putRaw('gpu-09', '{"state": "broken"}')
    await expect(evacuateNode(fleet, base('gpu-09'))).rejects.toBeInstanceOf(DataError)
  })
})

describe('uncordonNode', () => {
  it('drained -> active with an event; active stays; unknown nodes are an error', async () => {
    const fleet = memoryFleet()
    await fleet.store.nodes.put('gpu-07', {state: 'drained', since: '2026-11-21T03:00:00Z', by: 'erin'})
    const dry = await uncordonNode(fleet, {node: 'gpu-07', by: 'frank', dryRun: true})
    expect(dry).toMatchObject({outcome: 'dry-run', state: 'drained'})
    const done = await uncordonNode(fleet, {node: 'gpu-07', by: 'frank', reason: 'GPU replaced'})
    expect(done).toMatchObject({outcome: 'uncordoned', state: 'active', previous: {state: 'drained'}, message: 'gpu-07 is active again (was drained by erin)'})
    expect(fleet.published.map((p) => [p.subject, p.body.type, p.body.previousState])).toEqual([['cim.ops.gpu.gpu-07.active', 'GpuNodeUncordoned', 'drained']])
    expect((await uncordonNode(fleet, {node: 'gpu-07', by: 'frank'})).outcome).toBe('already-active')
    await expect(uncordonNode(fleet, {node: 'gpu-99', by: 'frank'})).rejects.toMatchObject({exit: 64, line: 'unknown GPU node "gpu-99": known nodes: gpu-07 (check the spelling (`cimops gpu nodes`))'})
    await fleet.store.health.put('gpu-10', {node: 'gpu-10', status: 'OK', summary: '8 GPUs OK', checkedAt: new Date().toISOString()})
    expect((await uncordonNode(fleet, {node: 'gpu-10', by: 'frank'})).outcome).toBe('already-active')
  })
})

describe('forgetNode', () => {
  it('removes a phantom node\'s records with an event; refuses unknown, busy and draining nodes, changing nothing', async () => {
    const fleet = memoryFleet()
    await fleet.store.nodes.put('gpu-99', {state: 'drained', since: '2026-11-21T03:00:00Z', by: 'erin'})
    await fleet.store.nodes.put('gpu-12', {state: 'draining', since: '2026-11-21T03:00:00Z', by: 'erin'})
    await allocate(fleet, 'gpu-08', 'train')
    await expect(forgetNode(fleet, {node: 'gpu-98', by: 'frank'})).rejects.toMatchObject({exit: 64, why: 'known nodes: gpu-08, gpu-12, gpu-99'})
    await expect(forgetNode(fleet, {node: 'gpu-08', by: 'frank'})).rejects.toMatchObject({exit: 2, why: '1 workload still allocated on it (train)'})
    await expect(forgetNode(fleet, {node: 'gpu-12', by: 'frank'})).rejects.toMatchObject({exit: 2, why: 'it is being evacuated by erin'})
    expect(await forgetNode(fleet, {node: 'gpu-99', by: 'frank', dryRun: true})).toMatchObject({outcome: 'dry-run', message: 'Would remove gpu-99: its drained state in cim_gpu_nodes'})
    expect(fleet.published).toEqual([])
    expect(await forgetNode(fleet, {node: 'gpu-99', by: 'frank', reason: 'typo'})).toMatchObject({outcome: 'forgotten', removed: {state: 'drained', health: false}})
    expect(await fleet.store.nodes.keys()).toEqual(['gpu-12'])
    expect(fleet.published.map((p) => [p.subject, p.body.type, p.body.reason])).toEqual([['cim.ops.gpu.gpu-99.forgotten', 'GpuNodeForgotten', 'typo']])
  })
})

describe('emergency GPU evacuation', () => {
  it('mapBounded never runs more than the limit at once, and keeps the order', async () => {
    let running = 0
    let peak = 0
    const out = await mapBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++
      peak = Math.max(peak, running)
      await new Promise((resolve) => setTimeout(resolve, 5 + (n % 3) * 5))
      running--
      return n * 10
    })
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70])
    expect(peak).toBe(3)
  })

  it('evacuates exactly the CRITICAL nodes, at most --parallel at once, one summary', async () => {
    const fleet = memoryFleet()
    const now = new Date().toISOString()
    for (const [node, status] of [['n1', 'CRITICAL'], ['n2', 'CRITICAL'], ['n3', 'CRITICAL'], ['n4', 'OK'], ['n5', 'WARNING']] as const) {
      await fleet.store.health.put(node, {node, status, summary: `${node} is ${status}`, checkedAt: now})
      await allocate(fleet, node, 'job')
    }
    fleet.store.health.putRaw('n6', 'not json')
    cooperativeAgent(fleet, 'n1')
    cooperativeAgent(fleet, 'n2')
    await fleet.store.nodes.put('n3', {state: 'draining', since: now, by: 'someone-else'})
    let active = 0
    let peak = 0
    const result = await emergencyGpuEvacuate(fleet, {
      by: 'oncall',
      timeoutMs: 1000,
      parallel: 2,
      staleAfterSeconds: 600,
      onProgress: (p) => {
        if (p.phase === 'waiting') peak = Math.max(peak, ++active)
        else active = Math.max(0, active - 1)
      },
    })
    expect(result.nodes.map((n) => [n.node, n.outcome, n.stuck])).toEqual([
      ['n1', 'drained', []],
      ['n2', 'drained', []],
      ['n3', 'refused', ['job']],
    ])
    expect(result).toMatchObject({drained: 2, failed: 1, unreadable: ['n6 (not JSON)']})
    expect(result.nodes[0].evacuation?.reason).toBe('GPU health CRITICAL: n1 is CRITICAL')
    expect(result.message).toBe('2 of 3 nodes with CRITICAL GPU health drained; NOT drained: n3 (refused: job)')
    expect(fleet.published[0]).toMatchObject({subject: 'cim.ops.emergency.gpu-evacuate', body: {type: 'GpuEmergencyEvacuationRequested', nodes: ['n1', 'n2', 'n3']}})
    expect(peak).toBeLessThanOrEqual(2)
    // The OK and WARNING nodes were not touched.
    expect(await fleet.store.nodes.get('n4')).toBeUndefined()
    const view = await listFleet(fleet, {staleAfterSeconds: 600})
    expect(view.counts).toMatchObject({nodes: 6, drained: 2, draining: 1, critical: 3})
  })

  it('nothing CRITICAL: nothing done, no event', async () => {
    const fleet = memoryFleet()
    const result = await emergencyGpuEvacuate(fleet, {by: 'oncall', timeoutMs: 1000, parallel: 4, staleAfterSeconds: 600})
    expect(result).toMatchObject({nodes: [], drained: 0, failed: 0, message: 'No node reports CRITICAL GPU health; nothing to evacuate'})
    expect(fleet.published).toEqual([])
  })
})
