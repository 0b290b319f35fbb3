import {AckPolicy, jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {jetstreamManagerFor, serverInfo, withNats} from '../../src/lib/adapters/nats/connection.js'
import {openOpsLog, type StoredOpsMessage} from '../../src/lib/adapters/nats/ops-events.js'
import {CONSUMER_PAUSE_MIN_VERSION, type EmergencyEvent, supportsConsumerPause} from '../../src/lib/emergency/model.js'
import type {EmergencyResult} from '../../src/lib/emergency/service.js'
import type {ConsumerRow} from '../../src/lib/streams/consumer-report.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {type CliResult, isolatedHome, runCli} from '../helpers/cli.js'
import {sandboxContext} from '../helpers/health.js'
import {useSandbox} from '../helpers/sandbox.js'

describe('emergency stop and resume against a real nats-server', () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  /** What the server reports (INFO), through the adapter: the tests below gate on it, never on a version string. */
  let version: string
  let canPause: boolean
  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
    const ctx = await sandboxContext(sandbox().state)
    version = await withNats(ctx.nats, {timeoutMs: 2000}, async (nc) => serverInfo(nc).version)
    canPause = supportsConsumerPause(version)
  })
  afterAll(() => home?.cleanup())

  const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--nats-url', sandbox().state.natsServers.join(','), '--timeout', '2s'], home.env)

  async function opsMessages(filter: string): Promise<StoredOpsMessage[]> {
    const ctx = await sandboxContext(sandbox().state)
    return withNats(ctx.nats, {timeoutMs: 2000}, async (nc) => (await openOpsLog(nc, await jetstreamManagerFor(nc, ctx.nats, 2000), ctx.nats, 'CIM_OPS', 2000)).read(filter))
  }

  it('refuses without a terminal unless --yes (exit 64), changing nothing', async () => {
    const refused = await cli('emergency', 'stop', '--domain', 'workflow')
    expect(refused.code).toBe(64)
    expect(refused.stderr).toContain('refusing without confirmation')
    expect(refused.stderr).toContain('pass --yes to proceed')
    const resume = await cli('emergency', 'resume', '--json')
    expect(resume.code).toBe(64)
    expect(JSON.parse(resume.stdout).error.hint).toBe('pass --yes to proceed')
    expect(await opsMessages('cim.ops.emergency.>')).toEqual([])
    const bad = await cli('emergency', 'stop', '--domain', 'a.b', '--yes')
    expect(bad.code).toBe(64)
  })

  it('--dry-run shows the plan and publishes nothing', async () => {
    const before = (await opsMessages('cim.ops.emergency.>')).length
    const dry = await cli('emergency', 'stop', '--dry-run', '--json')
    expect(dry.code, dry.stderr).toBe(0)
    const result = JSON.parse(dry.stdout) as EmergencyResult
    expect(result).toMatchObject({dryRun: true, domain: null, broadcastOnly: !canPause})
    expect(result.published).toBeUndefined()
    expect(result.consumers.length).toBeGreaterThan(1)
    expect(await opsMessages('cim.ops.emergency.>')).toHaveLength(before)
  })

  /**
   * One test on every server: where the server can pause consumers (2.11+, as INFO reports), stop pauses the
   * domain's durable consumers and resume unpauses exactly those, leaving one an operator paused alone; on older
   * servers, the documented fallback: only the broadcast, and the consumers named as still receiving.
   */
  it('stop then resume: pauses and unpauses exactly what the stop paused where the server can, else broadcasts only and says so', async () => {
    const nc = await connect({servers: sandbox().state.natsServers})
    const heard: Array<{subject: string; event: EmergencyEvent}> = []
    const sub = nc.subscribe('cim.ops.emergency.>', {
      callback: (_err, msg) => {
        heard.push({subject: msg.subject, event: msg.json<EmergencyEvent>()})
      },
    })
    await nc.flush()
    const jsm = await jetstreamManager(nc)
    const js = jetstream(nc)
    const pausedNow = async () => {
      const out: Record<string, boolean> = {}
      for await (const c of jsm.consumers.list('EVENTS')) out[c.name] = c.paused === true
      return out
    }
    /** Messages one pull delivers within a second: none while paused. */
    const delivered = async (name: string) => {
      let n = 0
      for await (const m of await (await js.consumers.get('EVENTS', name)).fetch({max_messages: 1, expires: 1000})) {
        m.nak()
        n++
      }
      return n
    }
    // An operator paused this projection for a reason of their own: an emergency stop and resume must leave it paused.
    await jsm.consumers.add('EVENTS', {durable_name: 'workflow-audit', ack_policy: AckPolicy.Explicit, filter_subject: 'cim.workflow.>'})
    const operatorUntil = new Date(Date.now() + 3600_000)
    if (canPause) await jsm.consumers.pause('EVENTS', 'workflow-audit', operatorUntil)
    const before = (await opsMessages('cim.ops.emergency.>')).length
    try {
      expect((await jsm.consumers.info('EVENTS', 'workflow-analytics')).num_pending).toBeGreaterThan(0)
      const stopped = await cli('emergency', 'stop', '--domain', 'workflow', '--reason', 'bad deploy of workflow-engine', '--yes', '--actor', 'alice', '--json')
      expect(stopped.code, stopped.stderr).toBe(0)
      const stop = JSON.parse(stopped.stdout) as EmergencyResult
      expect(stop).toMatchObject({action: 'stop', domain: 'workflow', subject: 'cim.ops.emergency.stop', serverVersion: version, dryRun: false, broadcastOnly: !canPause})
      expect(stop.consumers.every((c) => c.stream === 'EVENTS' && c.name.startsWith('workflow-'))).toBe(true)

      if (canPause) {
        expect(stop.consumerPause).toBe('supported')
        const pausedByStop = stop.consumers.filter((c) => c.outcome === 'paused')
        expect(pausedByStop.map((c) => c.name)).toContain('workflow-analytics')
        for (const c of pausedByStop) expect(Date.parse(c.pauseUntil!)).toBeGreaterThan(Date.now() + 300 * 24 * 3600 * 1000)
        expect(stop.consumers.filter((c) => c.outcome !== 'paused').map((c) => [c.name, c.outcome])).toEqual([['workflow-audit', 'left-paused']])
        const afterStop = await pausedNow()
        expect(Object.entries(afterStop).filter(([, p]) => p).map(([name]) => name).sort()).toEqual([...pausedByStop.map((c) => c.name), 'workflow-audit'].sort())
        expect(afterStop['graph-projection']).toBe(false)
        expect(await delivered('workflow-analytics')).toBe(0)
        // The reports show the pause and call it paused, not stalled.
        const report = await cli('consumer', 'report', 'EVENTS', '--json')
        const rows = (JSON.parse(report.stdout) as {consumers: ConsumerRow[]}).consumers
        const analytics = rows.find((r) => r.name === 'workflow-analytics')!
        expect(analytics).toMatchObject({status: 'WARNING', stalled: false})
        expect(analytics.paused!.remainingSeconds).toBeGreaterThan(300 * 24 * 3600)
        expect(analytics.reasons[0]).toMatch(/^paused \(/)
        expect(rows.find((r) => r.name === 'graph-projection')!.paused).toBeNull()

        const resumed = await cli('emergency', 'resume', '--domain', 'workflow', '--yes', '--json')
        expect(resumed.code, resumed.stderr).toBe(0)
        const resume = JSON.parse(resumed.stdout) as EmergencyResult
        expect(resume.consumers.map((c) => [c.name, c.outcome]).sort()).toEqual([...pausedByStop.map((c) => [c.name, 'resumed']), ['workflow-audit', 'left-paused']].sort())
        expect(resume.message).toContain('left paused (not paused by an emergency stop): workflow-audit')
        const afterResume = await pausedNow()
        expect(Object.entries(afterResume).filter(([, p]) => p).map(([name]) => name)).toEqual(['workflow-audit'])
        const audit = await jsm.consumers.info('EVENTS', 'workflow-audit')
        expect(Date.parse(audit.config.pause_until!)).toBe(operatorUntil.getTime())
        expect(await delivered('workflow-analytics')).toBe(1)
        // The stop's mark is gone: a second resume has nothing to do.
        const again = JSON.parse((await cli('emergency', 'resume', '--domain', 'workflow', '--yes', '--json')).stdout) as EmergencyResult
        expect(again.consumers.map((c) => c.outcome)).toEqual(['left-paused'])
      } else {
        expect(stop.consumerPause).toBe('unsupported')
        expect(stop.consumers.map((c) => [c.name, c.outcome])).toContainEqual(['workflow-analytics', 'not-paused'])
        expect(stop.consumers.map((c) => [c.name, c.outcome])).toContainEqual(['workflow-audit', 'not-paused'])
        expect(stop.message).toContain(`Only the broadcast was possible: nats-server ${version} cannot pause consumers (needs ${CONSUMER_PAUSE_MIN_VERSION}+)`)
        expect(await delivered('workflow-analytics')).toBe(1)

        const text = await cli('emergency', 'resume', '--domain', 'workflow', '--reason', 'rolled back', '--yes')
        expect(text.code, text.stderr).toBe(0)
        expect(text.stdout).toMatch(/^Broadcast cim\.ops\.emergency\.resume for domain workflow \(CIM_OPS #\d+\)\.\nOnly the broadcast was possible: nats-server \S+ cannot resume consumers \(needs \d+\.\d+\.\d+\+\)\./)
        expect(Object.values(await pausedNow()).some(Boolean)).toBe(false)
      }
      await nc.flush()
    } finally {
      sub.unsubscribe()
      await jsm.consumers.delete('EVENTS', 'workflow-audit')
      await nc.close()
    }
    expect(heard.map((h) => h.subject).slice(0, 2)).toEqual(['cim.ops.emergency.stop', 'cim.ops.emergency.resume'])
    expect(heard[0].event).toMatchObject({type: 'EmergencyStopRequested', domain: 'workflow', reason: 'bad deploy of workflow-engine', actor: {user: 'alice'}})
    expect(Date.parse(heard[0].event.time)).toBeGreaterThan(Date.now() - 60_000)
    const stored = await opsMessages('cim.ops.emergency.>')
    expect(stored.slice(before, before + 2).map((m) => m.subject)).toEqual(['cim.ops.emergency.stop', 'cim.ops.emergency.resume'])
    const audit = new Set((await opsMessages('cim.ops.audit.>')).map((m) => m.subject))
    expect(audit).toContain('cim.ops.audit.emergency-stop')
    expect(audit).toContain('cim.ops.audit.emergency-resume')
  })

  it('a --domain the events stream does not know (a typo) is refused with exit 64 listing the known ones; --force takes a new name', async () => {
    const before = (await opsMessages('cim.ops.emergency.>')).length
    for (const verb of ['stop', 'resume']) {
      for (const extra of [['--yes'], ['--dry-run']]) {
        const typo = await cli('emergency', verb, '--domain', 'wokflow', ...extra)
        expect(typo.code, typo.stderr).toBe(64)
        expect(typo.stderr.trim().split('\n')).toEqual([
          `cimops: unknown domain "wokflow": known domains on EVENTS: agent, document, graph, identity, workflow (check the spelling; pass --force to ${verb} a domain with no events or consumers yet)`,
        ])
      }
    }
    expect(await opsMessages('cim.ops.emergency.>')).toHaveLength(before)

    // A domain with a projection but no events yet is known by its consumer's name.
    const ctx = await sandboxContext(sandbox().state)
    await withNats(ctx.nats, {timeoutMs: 2000}, async (nc) => {
      await (await jetstreamManagerFor(nc, ctx.nats, 2000)).consumers.add('EVENTS', {durable_name: 'billing-projection', ack_policy: AckPolicy.Explicit})
    })
    const byConsumer = await cli('emergency', 'stop', '--domain', 'billing', '--dry-run', '--json')
    expect(byConsumer.code, byConsumer.stderr).toBe(0)
    expect((JSON.parse(byConsumer.stdout) as EmergencyResult).consumers.map((c) => c.name)).toEqual(['billing-projection'])

    const forced = await cli('emergency', 'stop', '--domain', 'payments', '--force', '--yes', '--json')
    expect(forced.code, forced.stderr).toBe(0)
    expect(JSON.parse(forced.stdout)).toMatchObject({domain: 'payments', consumers: []})
    const resumed = await cli('emergency', 'resume', '--domain', 'payments', '--force', '--yes')
    expect(resumed.code, resumed.stderr).toBe(0)
    expect((await opsMessages('cim.ops.emergency.>')).map((m) => m.subject).slice(before)).toEqual(['cim.ops.emergency.stop', 'cim.ops.emergency.resume'])
  })
})
