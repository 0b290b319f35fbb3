import {AckPolicy, type JetStreamManager, jetstreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {EmergencyEvent} from '../../src/lib/emergency/model.js'
import type {EmergencyResult} from '../../src/lib/emergency/service.js'
import type {HealthReport} from '../../src/lib/health/service.js'
import type {IncidentActionResult} from '../../src/lib/incident/service.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {archiveName} from '../helpers/archive.js'
import {type CliResult, isolatedHome, runCli} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

async function withJsm<T>(servers: string[], work: (jsm: JetStreamManager, nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connect({servers})
  try {
    return await work(await jetstreamManager(nc), nc)
  } finally {
    await nc.close()
  }
}

async function streamNames(servers: string[]): Promise<string[]> {
  return withJsm(servers, async (jsm) => {
    const names: string[] = []
    for await (const name of jsm.streams.names()) names.push(name)
    return names.sort()
  })
}

/** Subjects with their message counts in a stream, for the subjects under `filter`. */
async function subjectsIn(servers: string[], stream: string, filter = 'cim.ops.>'): Promise<Record<string, number>> {
  return withJsm(servers, async (jsm) => (await jsm.streams.info(stream, {subjects_filter: filter})).state.subjects ?? {})
}

// Several CLI runs per test: each starts a Node process, slow on a loaded 2-core machine.
describe('the ops log when the events stream captures cim.> (a common operator setup)', () => {
  const sandbox = useSandbox({components: ['nats', 'alertmanager']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  const servers = () => sandbox().state.natsServers
  beforeAll(async () => {
    home = await isolatedHome()
    await withJsm(servers(), async (jsm) => {
      await jsm.streams.add({name: 'EVENTS', subjects: ['cim.>']})
      await jsm.consumers.add('EVENTS', {durable_name: 'workflow-projection', filter_subject: 'cim.workflow.>', ack_policy: AckPolicy.Explicit})
    })
  })
  afterAll(() => home?.cleanup())

  const cli = (...args: string[]): Promise<CliResult> =>
    runCli([...args, '--nats-url', servers().join(','), '--alertmanager-url', sandbox().state.alertmanagerUrl!, '--timeout', '2s'], home.env)
  const spooled = async () => (await readdir(join(home.dir, 'data', 'cimops', 'audit-spool')).catch(() => [] as string[])).filter((n) => n.endsWith('.json'))

  /** Runs an emergency stop with a plain NATS subscriber listening, as a CIM service would. */
  async function stopHeard(...args: string[]): Promise<{run: CliResult; heard: Array<{subject: string; event: EmergencyEvent}>}> {
    const nc = await connect({servers: servers()})
    const heard: Array<{subject: string; event: EmergencyEvent}> = []
    const sub = nc.subscribe('cim.ops.emergency.>', {
      callback: (_err, msg) => {
        heard.push({subject: msg.subject, event: msg.json<EmergencyEvent>()})
      },
    })
    await nc.flush()
    try {
      const run = await cli('emergency', 'stop', '--yes', ...args)
      await nc.flush()
      return {run, heard}
    } finally {
      sub.unsubscribe()
      await nc.close()
    }
  }

  it('emergency stop broadcasts, exits 0 and is stored once in the stream that captures cim.ops.>', async () => {
    const {run, heard} = await stopHeard('--domain', 'workflow', '--reason', 'topology probe', '--json')
    expect(run.code, run.stderr).toBe(0)
    const result = JSON.parse(run.stdout) as EmergencyResult
    expect(result.published).toEqual({stream: 'EVENTS', seq: expect.any(Number)})
    expect(result.notStored).toBeUndefined()
    expect(result.consumers.map((c) => c.name)).toEqual(['workflow-projection'])
    expect(heard.map((h) => [h.subject, h.event.id])).toEqual([['cim.ops.emergency.stop', result.event.id]])
    // Heard on core NATS and stored by JetStream: one message, not two (the Nats-Msg-Id matches them up).
    expect(await subjectsIn(servers(), 'EVENTS', 'cim.ops.emergency.>')).toEqual({'cim.ops.emergency.stop': 1})
    expect(run.stderr).not.toContain('audit event')
  })

  it('incident declare records its events there, audit events land there, and no CIM_OPS is created or needed', async () => {
    const declared = await cli('incident', 'declare', '--title', 'topology probe', '--severity', 'minor', '--no-snapshot', '--json')
    expect(declared.code, declared.stderr).toBe(0)
    const {incident} = JSON.parse(declared.stdout) as IncidentActionResult
    const shown = await cli('incident', 'show', incident.id, '--json')
    expect(shown.code, shown.stderr).toBe(0)
    expect(JSON.parse(shown.stdout).incident).toMatchObject({id: incident.id, title: 'topology probe'})

    const stored = await subjectsIn(servers(), 'EVENTS')
    expect(Object.keys(stored).filter((s) => s.startsWith(`cim.ops.incident.${incident.id}.`))).not.toEqual([])
    expect(stored).toMatchObject({'cim.ops.audit.emergency-stop': 1, 'cim.ops.audit.incident-declare': 1})
    expect(await streamNames(servers())).toEqual(['EVENTS'])
    expect(await spooled()).toEqual([])
    const audit = await cli('audit', 'list', '--json')
    expect(JSON.parse(audit.stdout).events.map((e: {command: string; spooled: boolean}) => [e.command, e.spooled])).toEqual([
      ['emergency stop', false],
      ['incident declare', false],
    ])
  }, 60_000)

  it('health-check says where the ops log lives', async () => {
    const checked = await cli('health-check', '--component', 'streams', '--json')
    const report = JSON.parse(checked.stdout) as HealthReport
    expect(report.checks.find((c) => c.name === 'stream:CIM_OPS')).toMatchObject({status: 'OK', summary: 'ops events are stored in stream EVENTS, which captures cim.ops.>'})
  })

  it('a runbook run is recorded there too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cimops-ops-runbook-'))
    try {
      await writeFile(join(dir, 'ops-probe.md'), '---\nid: ops-probe\ntitle: Ops probe\n---\n# Ops probe\n\n## Diagnosis\n\n```sh {"name": "hello"}\necho hello\n```\n')
      const run = await cli('runbook', 'run', 'ops-probe', '--all', '--dir', dir, '--json')
      expect(run.code, run.stderr).toBe(0)
      expect(JSON.parse(run.stdout).opsLog).toMatchObject({recorded: true, stream: 'EVENTS'})
      expect(Object.keys(await subjectsIn(servers(), 'EVENTS', 'cim.ops.runbook.>'))).not.toEqual([])
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  }, 60_000)

  it('when streams capture only part of cim.ops.>: the broadcast still goes out, and health-check and the command say once that nothing can be stored', async () => {
    await withJsm(servers(), async (jsm) => {
      await jsm.streams.delete('EVENTS')
      await jsm.streams.add({name: 'EVENTS', subjects: ['cim.workflow.>', 'cim.ops.audit.>']})
    })
    const checked = await cli('health-check', '--component', 'streams', '--json')
    expect(checked.code).toBe(1)
    const ops = (JSON.parse(checked.stdout) as HealthReport).checks.find((c) => c.name === 'stream:CIM_OPS')
    expect(ops).toMatchObject({
      status: 'WARNING',
      summary:
        'ops events cannot be stored: no stream can hold the ops log: EVENTS (cim.workflow.>, cim.ops.audit.>) captures part of cim.ops.>, so CIM_OPS cannot be created beside it (fix: add cim.ops.> to the subjects of EVENTS, or remove the overlap so cimops can create CIM_OPS)',
    })

    const {run, heard} = await stopHeard('--reason', 'blocked topology')
    expect(run.code, run.stderr).toBe(0)
    expect(heard.map((h) => h.subject)).toEqual(['cim.ops.emergency.stop'])
    expect(run.stdout).toMatch(/^Broadcast cim\.ops\.emergency\.stop for all domains\.\nThe broadcast went out but is not in the ops log: cannot store cim\.ops\.emergency\.stop: no stream can hold the ops log: /)
    const lines = run.stderr.trim().split('\n')
    expect(lines).toEqual([expect.stringMatching(/^cimops: audit event not recorded: no stream can hold the ops log: .* \(add cim\.ops\.> to the subjects of EVENTS, or remove the overlap so cimops can create CIM_OPS\)$/)])
    expect(await spooled()).toEqual([])

    const declared = await cli('incident', 'declare', '--title', 'nowhere to record', '--severity', 'minor', '--no-snapshot')
    expect(declared.code).toBe(2)
    expect(declared.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^cimops: cannot store cim\.ops\.incident-ids\.\d+: no stream can hold the ops log: .*\(add cim\.ops\.> to the subjects of EVENTS/)])
    expect(await streamNames(servers())).toEqual(['EVENTS'])
  }, 60_000)
})

describe('a restore and the ops log', () => {
  const source = useSandbox({components: ['nats']})
  const target = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let work: string
  beforeAll(async () => {
    home = await isolatedHome()
    work = await mkdtemp(join(tmpdir(), 'cimops-opslog-restore-'))
    await seedSandbox(source().state.natsServers)
  })
  afterAll(async () => {
    await home?.cleanup()
    await rm(work, {recursive: true, force: true})
  })
  const at = (sandbox: typeof source) => ['--nats-url', sandbox().state.natsServers.join(','), '--timeout', '2s']

  it('restoring a set one stream at a time into an empty server works: the first restore does not create the ops log it is about to restore', async () => {
    const set = join(work, 'set')
    const created = await runCli(['backup', 'create', '--stream', 'EVENTS', '--stream', 'CIM_OPS', '--dir', set, '--quiet', ...at(source)], home.env)
    expect(created.code, created.stderr).toBe(0)
    const opsInSet = (await subjectsIn(source().state.natsServers, 'CIM_OPS'))['cim.ops.audit.backup-create'] ?? 0

    const events = await runCli(['restore', set, '--stream', 'EVENTS', '--quiet', ...at(target)], home.env)
    expect(events.code, events.stderr).toBe(0)
    expect(events.stderr).toMatch(/audit event not written to the ops log: there is no ops log on this server yet, and this command does not create one \(the backup set may hold it\) \(spooled to /)
    expect(await streamNames(target().state.natsServers)).toEqual(['EVENTS'])

    const ops = await runCli(['restore', set, '--stream', 'CIM_OPS', '--quiet', ...at(target)], home.env)
    expect(ops.code, ops.stderr).toBe(0)
    expect(ops.stderr).toBe('')
    expect(await streamNames(target().state.natsServers)).toEqual(['CIM_OPS', 'EVENTS'])
    // Written after the restore: the set's own audit events, then both restores (the first one flushed from the spool).
    expect(await subjectsIn(target().state.natsServers, 'CIM_OPS', 'cim.ops.audit.>')).toEqual({
      ...(opsInSet ? {'cim.ops.audit.backup-create': opsInSet} : {}),
      'cim.ops.audit.restore': 2,
    })
  }, 60_000)

  it('a refused restore of a corrupt set leaves no CIM_OPS behind', async () => {
    await withJsm(target().state.natsServers, async (jsm) => {
      for (const name of ['CIM_OPS', 'EVENTS']) await jsm.streams.delete(name)
    })
    const set = join(work, 'set')
    const archive = join(set, 'EVENTS', await archiveName(join(set, 'EVENTS')))
    const bytes = await readFile(archive)
    bytes[Math.floor(bytes.length / 2)] ^= 0x01
    await writeFile(archive, bytes)
    const refused = await runCli(['restore', set, '--quiet', ...at(target)], home.env)
    expect(refused.code, refused.stderr).toBe(65)
    expect(refused.stderr).toMatch(/audit event not written to the ops log: there is no ops log on this server yet/)
    expect(await streamNames(target().state.natsServers)).toEqual([])
  })
})
