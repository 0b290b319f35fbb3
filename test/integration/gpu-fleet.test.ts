/**
 * The GPU fleet against a real nats-server (the chosen server set) (sandbox): the KV buckets, `gpu status --publish` and
 * `gpu nodes`, the drain protocol with simulated workload agents (one that leaves when told, one that never does),
 * concurrent evacuations, uncordon and `emergency gpu-evacuate`. CLI tests run the built CLI (`npm run build`).
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {jetstreamManagerFor, withNats} from '../../src/lib/adapters/nats/connection.js'
import {type GpuFleetStore, KvConflictError, openGpuFleet} from '../../src/lib/adapters/nats/gpu-kv.js'
import {openOpsLog, type StoredOpsMessage} from '../../src/lib/adapters/nats/ops-events.js'
import type {ResolvedContext} from '../../src/lib/core/context-types.js'
import type {EmergencyGpuResult} from '../../src/lib/gpu/emergency.js'
import {EvacuationConflictError, type EvacuationResult, evacuateNode} from '../../src/lib/gpu/evacuate.js'
import {type FleetSession, withFleet} from '../../src/lib/gpu/fleet.js'
import type {GpuStatusReport} from '../../src/lib/gpu/model.js'
import type {FleetView} from '../../src/lib/gpu/nodes.js'
import {localFixturePath} from '../fixtures/gpu/captures.js'
import {fakeNvidiaSmi} from '../fixtures/gpu/fake-tools.js'
import {startWorkloadAgent, type WorkloadAgent} from '../fixtures/gpu/workload-agent.js'
import {type CliResult, isolatedHome, runCli} from '../helpers/cli.js'
import {sandboxContext} from '../helpers/health.js'
import {useSandbox} from '../helpers/sandbox.js'

describe('GPU fleet on nats-server (the chosen server set)', () => {
  const sandbox = useSandbox({components: ['nats']})
  const root = mkdtempSync(join(tmpdir(), 'cimops-gpu-fleet-'))
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let ctx: ResolvedContext
  const agents: WorkloadAgent[] = []
  beforeAll(async () => {
    home = await isolatedHome()
    ctx = await sandboxContext(sandbox().state)
  })
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()))
  })
  afterAll(async () => {
    await home?.cleanup()
    rmSync(root, {recursive: true, force: true})
  })

  const servers = () => sandbox().state.natsServers
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli([...args, '--nats-url', servers().join(',')], {...home.env, CIMOPS_KERNEL_LOG: 'none', ...env})
  const agent = async (node: string, behaviour: 'cooperative' | 'stuck', workloads: string[], leaveAfterMs = 50) => {
    const started = await startWorkloadAgent({servers: servers(), node, workloads, behaviour, leaveAfterMs})
    agents.push(started)
    return started
  }
  const fleet = <T>(work: (store: GpuFleetStore) => Promise<T>): Promise<T> =>
    withNats(ctx.nats, {timeoutMs: 2000}, async (nc) => work(await openGpuFleet(nc, await jetstreamManagerFor(nc, ctx.nats, 2000), ctx.nats, 2000)))
  const nodeState = (node: string) => fleet((store) => store.nodes.get(node))
  const opsEvents = (filter: string): Promise<StoredOpsMessage[]> =>
    withNats(ctx.nats, {timeoutMs: 2000}, async (nc) => (await openOpsLog(nc, await jetstreamManagerFor(nc, ctx.nats, 2000), ctx.nats, 'CIM_OPS', 2000)).read(filter))

  it('reading a bucket that does not exist creates nothing; writes create it; create and update are compare-and-set', async () => {
    expect(await fleet((store) => store.nodes.list())).toEqual([])
    const streams = await withNats(ctx.nats, {timeoutMs: 2000}, async (nc) => {
      const names: string[] = []
      for await (const name of (await jetstreamManagerFor(nc, ctx.nats, 2000)).streams.names()) names.push(name)
      return names
    })
    expect(streams.filter((n) => n.startsWith('KV_cim_gpu'))).toEqual([])

    await fleet(async (store) => {
      const first = await store.nodes.create('cas-node', {state: 'active', since: '2026-11-21T00:00:00Z'})
      await expect(store.nodes.create('cas-node', {state: 'draining', since: '2026-11-21T00:00:01Z'})).rejects.toBeInstanceOf(KvConflictError)
      const second = await store.nodes.update('cas-node', {state: 'draining', since: '2026-11-21T00:00:02Z', by: 'a'}, first)
      await expect(store.nodes.update('cas-node', {state: 'drained', since: '2026-11-21T00:00:03Z', by: 'b'}, first)).rejects.toThrowError(
        'cim_gpu_nodes/cas-node changed concurrently: it is no longer at revision',
      )
      expect(await store.nodes.get('cas-node')).toMatchObject({revision: second, value: {state: 'draining', by: 'a'}})
      await store.nodes.delete('cas-node')
      expect(await store.nodes.get('cas-node')).toBeUndefined()
      // A deleted key can be created again.
      await store.nodes.create('cas-node', {state: 'active', since: '2026-11-21T00:00:04Z'})
      await store.nodes.delete('cas-node')
    })
  })

  it('gpu status --publish writes each node\'s verdict to cim_gpu_health; gpu nodes shows the fleet', async () => {
    const crit = fakeNvidiaSmi(root, {csvFile: localFixturePath('query-gpu-4x-h100-faults.csv')})
    const okCsv = 'index, uuid, name, pci.bus_id, temperature.gpu, memory.total [MiB], memory.used [MiB]\n0, GPU-a, Tesla T4, 00000000:00:1E.0, 40, 15360 MiB, 0 MiB\n'
    const okFake = fakeNvidiaSmi(root, {csv: okCsv})
    const [published, healthy] = await Promise.all([
      cli(['gpu', 'status', '--publish', '--node', 'gpu-crit', '--json'], {PATH: `${crit}:/usr/bin:/bin`}),
      cli(['gpu', 'status', '--publish', '--node', 'gpu-ok'], {PATH: `${okFake}:/usr/bin:/bin`}),
    ])
    expect(published.code, published.stderr).toBe(2)
    const report = JSON.parse(published.stdout) as GpuStatusReport
    expect(report.published).toEqual({bucket: 'cim_gpu_health', key: 'gpu-crit', revision: expect.any(Number)})
    expect(healthy.code, healthy.stderr).toBe(0)
    expect(healthy.stdout).toMatch(/published to cim_gpu_health\/gpu-ok \(revision \d+\)/)

    await agent('gpu-ok', 'cooperative', ['infer-1', 'infer-2'])
    const [json, text] = await Promise.all([cli(['gpu', 'nodes', '--json']), cli(['gpu', 'nodes', '--verbose'])])
    expect(json.code, json.stderr).toBe(0)
    const view = JSON.parse(json.stdout) as FleetView
    expect(view.nodes.map((n) => [n.node, n.state, n.recorded, n.health?.status, n.health?.gpuCount, n.allocations.length])).toEqual([
      ['gpu-crit', 'active', false, 'CRITICAL', 4, 0],
      ['gpu-ok', 'active', false, 'OK', 1, 2],
    ])
    expect(view.nodes[0].health).toMatchObject({stale: false, summary: expect.stringMatching(/^3 of 4 GPUs CRITICAL: GPU 1: /)})
    expect(text.stdout).toMatch(/gpu-crit\s+active\s+-\s+-\s+CRITICAL\s+4\s+0\s+\S+ ago\s+3 of 4 GPUs CRITICAL/)
    expect(text.stdout).toMatch(/gpu-ok\s+infer-1\s+0\s+\d{4}-/)
    expect(text.stdout).toContain('2 nodes: 2 active, 0 draining, 0 drained; 1 with CRITICAL GPU health; 2 workloads allocated')

    // Unreachable NATS: the verdict still prints, the exit code says publishing failed (UNKNOWN at least).
    const unpublished = await runCli(['gpu', 'status', '--publish', '--node', 'gpu-ok', '--nats-url', 'nats://127.0.0.1:1', '--timeout', '500ms'], {
      ...home.env,
      PATH: `${okFake}:/usr/bin:/bin`,
      CIMOPS_KERNEL_LOG: 'none',
    })
    expect(unpublished.code).toBe(3)
    expect(unpublished.stdout).toContain('1 GPU OK')
    expect(unpublished.stderr).toContain('cimops: cannot publish the GPU health of gpu-ok: cannot reach nats at nats://127.0.0.1:1')
  })

  it('evacuate: draining, evacuate {reason, deadline}, the cooperative agent leaves, drained; every step on the ops log', async () => {
    const worker = await agent('gpu-11', 'cooperative', ['train-llm', 'embed-batch'], 100)
    const dry = await cli(['gpu', 'evacuate', 'gpu-11', '--dry-run'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toContain('[dry run] Would mark gpu-11 draining (now active), publish cim.ops.gpu.gpu-11.evacuate and wait up to 10m for 2 workloads to leave: embed-batch, train-llm')
    expect(await nodeState('gpu-11')).toBeUndefined()
    expect(worker.heard).toEqual([])

    const result = await cli(['gpu', 'evacuate', 'gpu-11', '--reason', 'Xid 79 on GPU 2', '--yes', '--actor', 'alice', '--json'])
    expect(result.code, result.stderr).toBe(0)
    const evacuation = JSON.parse(result.stdout) as EvacuationResult
    expect(evacuation).toMatchObject({node: 'gpu-11', outcome: 'drained', state: 'drained', reason: 'Xid 79 on GPU 2', by: expect.stringMatching(/^alice@/)})
    expect(evacuation.workloads.left.sort()).toEqual(['embed-batch', 'train-llm'])
    // Progress went to stderr, as plain lines (no terminal).
    expect(result.stderr).toMatch(/gpu-11: waiting for 2 of 2 workloads \(embed-batch, train-llm\), \S+ left/)
    expect(worker.heard).toEqual([{subject: 'cim.ops.gpu.gpu-11.evacuate', body: expect.objectContaining({reason: 'Xid 79 on GPU 2', deadline: evacuation.deadline})}])
    expect((await nodeState('gpu-11'))?.value).toMatchObject({state: 'drained', reason: 'Xid 79 on GPU 2', evacuationId: evacuation.evacuationId})
    const steps = (await opsEvents('cim.ops.gpu.gpu-11.>')).map((m) => m.subject.replace('cim.ops.gpu.gpu-11.', ''))
    expect(steps).toEqual(['draining', 'evacuate', 'workload-left', 'workload-left', 'drained'])
    expect((await opsEvents('cim.ops.audit.>')).map((m) => m.subject)).toContain('cim.ops.audit.gpu-evacuate')

    const again = await cli(['gpu', 'evacuate', 'gpu-11', '--yes'])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/^gpu-11 is already drained \(by alice@\S+ at \S+\); nothing to do/)
  })

  it('timeout: the stuck workload is reported, exit 2, the node stays draining; uncordon returns it to active', async () => {
    await agent('gpu-12', 'stuck', ['ckpt-job'])
    const result = await cli(['gpu', 'evacuate', 'gpu-12', '--reason', 'ECC', '--timeout', '1500ms', '--yes'])
    expect(result.code).toBe(2)
    expect(result.stdout).toMatch(/^gpu-12 not drained by the deadline: 1 workload still allocated \(ckpt-job\); the node stays draining\n\nSTUCK WORKLOAD\s+GPU\s+SINCE\s+KEY\nckpt-job\s+0\s+\S+\s+gpu-12\.ckpt-job\n/)
    expect(result.stderr).toContain('cimops: evacuation of gpu-12 did not complete')
    expect((await nodeState('gpu-12'))?.value?.state).toBe('draining')
    expect((await opsEvents('cim.ops.gpu.gpu-12.>')).map((m) => m.subject).at(-1)).toBe('cim.ops.gpu.gpu-12.evacuation-timed-out')

    // A second operator is refused while it drains (the node is draining): exit 2, nothing changed.
    const refused = await cli(['gpu', 'evacuate', 'gpu-12', '--yes', '--json'])
    expect(refused.code).toBe(2)
    expect(JSON.parse(refused.stdout).error).toMatchObject({code: 'CONFLICT', message: expect.stringMatching(/^node gpu-12 is already being evacuated: it is draining by \S+ since \S+ \(reason: ECC\)$/)})

    const uncordon = await cli(['gpu', 'uncordon', 'gpu-12', '--reason', 'checkpointed by hand'])
    expect(uncordon.code, uncordon.stderr).toBe(0)
    expect(uncordon.stdout).toMatch(/^gpu-12 is active again \(was draining by \S+\); 1 workload still allocated \(ckpt-job\)/)
    expect((await nodeState('gpu-12'))?.value).toMatchObject({state: 'active', reason: 'checkpointed by hand'})
    expect((await opsEvents('cim.ops.gpu.gpu-12.>')).map((m) => m.subject).at(-1)).toBe('cim.ops.gpu.gpu-12.active')
    const twice = await cli(['gpu', 'uncordon', 'gpu-12'])
    expect([twice.code, twice.stdout.split('\n')[0]]).toEqual([0, 'gpu-12 is already active; 1 workload still allocated (ckpt-job)'])
    const unknown = await cli(['gpu', 'uncordon', 'gpu-nowhere'])
    expect(unknown.code).toBe(64)
    expect(unknown.stderr).toMatch(/^cimops: unknown GPU node "gpu-nowhere": known nodes: .*gpu-12/)
  })

  it('two operators at once: exactly one evacuation wins, the other is refused and changes nothing', async () => {
    // The winner's workload takes 2.5 s to leave, so the loser cannot arrive after the node is already drained.
    await agent('gpu-13', 'cooperative', ['job-a'], 2500)
    const [a, b] = await Promise.all([
      cli(['gpu', 'evacuate', 'gpu-13', '--yes', '--json', '--actor', 'alice', '--quiet']),
      cli(['gpu', 'evacuate', 'gpu-13', '--yes', '--json', '--actor', 'bob', '--quiet']),
    ])
    const codes = [a.code, b.code].sort()
    expect(codes).toEqual([0, 2])
    const loser = a.code === 2 ? a : b
    const winner = a.code === 0 ? a : b
    expect(JSON.parse(loser.stdout).error.code).toBe('CONFLICT')
    expect(JSON.parse(winner.stdout)).toMatchObject({outcome: 'drained'})
    expect((await opsEvents('cim.ops.gpu.gpu-13.draining')).length).toBe(1)
  })

  it('a stale read loses the compare-and-set on the real bucket (revision mismatch), refused with exit 2', async () => {
    await agent('gpu-14', 'stuck', ['job-a'])
    await fleet((store) => store.nodes.create('gpu-14', {state: 'active', since: '2026-11-21T00:00:00Z'}))
    const stale = await nodeState('gpu-14')
    const first = withFleet(ctx, {name: 'test-a'}, (session) => evacuateNode(session, {node: 'gpu-14', reason: 'a', by: 'alice', timeoutMs: 1500, pollMs: 100}))
    // Wait until the first has moved the node to draining, then evacuate with what was read before it did.
    for (let i = 0; i < 50 && (await nodeState('gpu-14'))?.value?.state !== 'draining'; i++) await new Promise((r) => setTimeout(r, 20))
    const second = withFleet(ctx, {name: 'test-b'}, (session: FleetSession) => {
      const get = session.store.nodes.get.bind(session.store.nodes)
      let calls = 0
      session.store.nodes.get = async (key) => (key === 'gpu-14' && calls++ === 0 ? stale : get(key))
      return evacuateNode(session, {node: 'gpu-14', reason: 'b', by: 'bob', timeoutMs: 1500})
    })
    await expect(second).rejects.toBeInstanceOf(EvacuationConflictError)
    await expect(second).rejects.toThrowError(/^node gpu-14 is already being evacuated: another operator changed it first: it is draining by alice/)
    expect(await first).toMatchObject({outcome: 'timed-out', by: 'alice'})
    expect((await nodeState('gpu-14'))?.value).toMatchObject({state: 'draining', by: 'alice'})
  })

  it('emergency gpu-evacuate: refuses without --yes; evacuates the CRITICAL node only, one summary', async () => {
    // gpu-crit published CRITICAL above; gpu-ok is OK and keeps its work.
    await agent('gpu-crit', 'cooperative', ['batch-1', 'batch-2'])
    const refused = await cli(['emergency', 'gpu-evacuate'])
    expect(refused.code).toBe(64)
    expect(refused.stderr).toContain('refusing without confirmation: Evacuate 1 GPU node with CRITICAL health (gpu-crit)?')
    const dry = await cli(['emergency', 'gpu-evacuate', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain('[dry run] Would evacuate 1 node with CRITICAL GPU health, 4 at a time: gpu-crit')

    const done = await cli(['emergency', 'gpu-evacuate', '--yes', '--timeout', '20s', '--parallel', '2', '--json'])
    expect(done.code, done.stderr).toBe(0)
    const result = JSON.parse(done.stdout) as EmergencyGpuResult
    expect(result.nodes.map((n) => [n.node, n.outcome, n.workloads, n.stuck])).toEqual([['gpu-crit', 'drained', 2, []]])
    expect(result).toMatchObject({drained: 1, failed: 0, parallel: 2, message: '1 of 1 node with CRITICAL GPU health drained'})
    expect(result.nodes[0].evacuation?.reason).toMatch(/^GPU health CRITICAL: 3 of 4 GPUs CRITICAL/)
    expect((await opsEvents('cim.ops.emergency.gpu-evacuate')).length).toBe(1)
    expect((await nodeState('gpu-ok'))?.value).toBeUndefined()
    // The OK node keeps its work.
    expect(await fleet((store) => store.allocations.keys('gpu-ok.>'))).toEqual(['gpu-ok.infer-1', 'gpu-ok.infer-2'])
  })

  it('a node no bucket knows (a typo) is refused with exit 64 listing the known ones; --force takes a new name; gpu forget removes it', async () => {
    const fleetNodes = async () => (JSON.parse((await cli(['gpu', 'nodes', '--json'])).stdout) as FleetView).nodes.map((n) => n.node)
    const before = await fleetNodes()
    expect(before).toContain('gpu-crit')
    for (const extra of [['--yes'], ['--dry-run']]) {
      const typo = await cli(['gpu', 'evacuate', 'gpu-99', ...extra])
      expect(typo.code, typo.stderr).toBe(64)
      expect(typo.stderr.trim().split('\n')).toEqual([
        `cimops: unknown GPU node "gpu-99": known nodes: ${before.join(', ')} (check the spelling (\`cimops gpu nodes\`); pass --force to evacuate a new node on purpose)`,
      ])
    }
    expect(await nodeState('gpu-99')).toBeUndefined()
    expect(await opsEvents('cim.ops.gpu.gpu-99.>')).toEqual([])
    expect(await fleetNodes()).toEqual(before)

    // On purpose: a new node, then removed again.
    const forced = await cli(['gpu', 'evacuate', 'gpu-99', '--force', '--yes', '--json'])
    expect(forced.code, forced.stderr).toBe(0)
    expect(JSON.parse(forced.stdout)).toMatchObject({node: 'gpu-99', outcome: 'drained'})
    expect(await fleetNodes()).toContain('gpu-99')

    const noYes = await cli(['gpu', 'forget', 'gpu-99'])
    expect(noYes.code).toBe(64)
    expect(noYes.stderr).toContain('refusing without confirmation: Forget GPU node gpu-99')
    const dry = await cli(['gpu', 'forget', 'gpu-99', '--dry-run'])
    expect([dry.code, dry.stdout.trim()]).toEqual([0, '[dry run] Would remove gpu-99: its drained state in cim_gpu_nodes'])
    expect(await fleetNodes()).toContain('gpu-99')

    const forgotten = await cli(['gpu', 'forget', 'gpu-99', '--reason', 'typo of gpu-09', '--yes', '--actor', 'alice', '--json'])
    expect(forgotten.code, forgotten.stderr).toBe(0)
    expect(JSON.parse(forgotten.stdout)).toMatchObject({node: 'gpu-99', outcome: 'forgotten', removed: {state: 'drained', health: false}, by: expect.stringMatching(/^alice@/)})
    expect(await nodeState('gpu-99')).toBeUndefined()
    expect(await fleetNodes()).toEqual(before)
    const last = (await opsEvents('cim.ops.gpu.gpu-99.>')).at(-1)
    expect(last?.subject).toBe('cim.ops.gpu.gpu-99.forgotten')
    expect(last?.data).toMatchObject({type: 'GpuNodeForgotten', previousState: 'drained', reason: 'typo of gpu-09'})
    expect((await opsEvents('cim.ops.audit.>')).map((m) => m.subject)).toContain('cim.ops.audit.gpu-forget')
    const again = await cli(['gpu', 'forget', 'gpu-99', '--yes'])
    expect(again.code).toBe(64)
    expect(again.stderr).toContain('unknown GPU node "gpu-99"')

    // A node with workloads on it is real: refused, nothing removed.
    const busy = await cli(['gpu', 'forget', 'gpu-ok', '--yes'])
    expect(busy.code).toBe(2)
    expect(busy.stderr.trim()).toBe('cimops: cannot forget GPU node gpu-ok: 2 workloads still allocated on it (infer-1, infer-2) (evacuate it first: `cimops gpu evacuate gpu-ok`)')
    expect(await fleetNodes()).toEqual(before)
  })

  it('--drain-timeout is the drain deadline; --timeout, its old name here, still is, with a one-line note', async () => {
    await agent('gpu-16', 'stuck', ['job-a'])
    const notDrained = /^gpu-16 not drained by the deadline: 1 workload still allocated \(job-a\)/
    const renamed = await cli(['gpu', 'evacuate', 'gpu-16', '--drain-timeout', '1s', '--yes'])
    expect(renamed.code, renamed.stderr).toBe(2)
    expect(renamed.stdout).toMatch(notDrained)
    expect(renamed.stderr).not.toContain('warning')
    expect((await cli(['gpu', 'uncordon', 'gpu-16'])).code).toBe(0)

    const old = await cli(['gpu', 'evacuate', 'gpu-16', '--timeout', '1s', '--yes'])
    expect(old.code, old.stderr).toBe(2)
    expect(old.stdout).toMatch(notDrained)
    expect(old.stderr.split('\n').filter((line) => line.includes('--drain-timeout'))).toEqual([
      'cimops: warning: --timeout here is the drain deadline, now named --drain-timeout; use that (--timeout will mean the per-call network timeout as everywhere else)',
    ])
    expect((await cli(['gpu', 'uncordon', 'gpu-16'])).code).toBe(0)

    const zero = await cli(['emergency', 'gpu-evacuate', '--drain-timeout', '0', '--yes'])
    expect([zero.code, zero.stderr]).toEqual([64, expect.stringContaining('invalid --drain-timeout "0"')])
    const both = await cli(['gpu', 'evacuate', 'gpu-16', '--drain-timeout', '1s', '--timeout', '1s', '--yes'])
    expect(both.code).toBe(64)
    const help = await cli(['gpu', 'evacuate', '--help'])
    expect(help.stdout).toContain('--drain-timeout')
    expect(help.stdout).not.toMatch(/--timeout/)
  })
})
