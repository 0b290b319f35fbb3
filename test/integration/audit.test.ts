import {DiscardPolicy, type JetStreamManager, jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {buildAuditEvent} from '../../src/lib/audit/event.js'
import {recordAuditEvent} from '../../src/lib/audit/recorder.js'
import {restartProcess, stopProcess} from '../../src/lib/sandbox/index.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {sandboxContext} from '../helpers/health.js'
import {useSandbox} from '../helpers/sandbox.js'

describe('the ops log', () => {
  const sandbox = useSandbox({components: ['nats']})
  let spool: string
  beforeAll(async () => {
    spool = await mkdtemp(join(tmpdir(), 'cimops-spool-'))
  })
  afterAll(() => rm(spool, {recursive: true, force: true}))

  // Distinct start times: the spool is flushed oldest first.
  let clock = Date.now()
  const event = (command: string) => {
    clock = Math.max(Date.now(), clock + 1)
    const startedAt = new Date(clock)
    return buildAuditEvent({command, argv: ['X1'], startedAt, finishedAt: startedAt, exitCode: 0, actor: 'tester'})
  }

  async function withJsm<T>(work: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
    const nc = await connect({servers: sandbox().state.natsServers})
    try {
      return await work(await jetstreamManager(nc))
    } finally {
      await nc.close()
    }
  }

  async function opsSubjects(): Promise<Record<string, number>> {
    return withJsm(async (jsm) => {
      const info = await jsm.streams.info('CIM_OPS', {subjects_filter: '>'})
      expect(info.config.subjects).toEqual(['cim.ops.>'])
      expect(info.config.storage).toBe('file')
      return info.state.subjects ?? {}
    })
  }

  /** Ids of the audit events stored, in order. */
  async function storedIds(): Promise<string[]> {
    const ctx = await sandboxContext(sandbox().state)
    const {withNats, jetstreamManagerFor} = await import('../../src/lib/adapters/nats/connection.js')
    const {openOpsLog} = await import('../../src/lib/adapters/nats/ops-events.js')
    const messages = await withNats(ctx.nats, {timeoutMs: 2000}, async (nc) => (await openOpsLog(nc, await jetstreamManagerFor(nc, ctx.nats, 2000), ctx.nats, 'CIM_OPS', 2000)).read('cim.ops.audit.>'))
    return messages.map((m) => (m.data as {id: string}).id)
  }

  const spooledFiles = async () => (await readdir(spool)).filter((n) => n.endsWith('.json'))

  /** Audit events spooled for the sandbox while its server is down. */
  async function spoolWhileDown(commands: string[]): Promise<Array<ReturnType<typeof event>>> {
    const {state} = sandbox()
    const ctx = await sandboxContext(state, {timeout: '1s'})
    const events = commands.map((c) => event(c))
    await stopProcess(state, 'nats-1')
    try {
      for (const e of events) {
        const down = await recordAuditEvent(e, ctx, {spoolDir: spool})
        expect(down).toMatchObject({published: false, spooledTo: expect.stringContaining(spool)})
        expect(down.error).toContain('cannot reach nats')
      }
    } finally {
      await restartProcess(state, 'nats-1')
    }
    return events
  }

  it('creates CIM_OPS on first use and publishes cim.ops.audit.<command>', async () => {
    const ctx = await sandboxContext(sandbox().state)
    const result = await recordAuditEvent(event('restore'), ctx, {spoolDir: spool})
    expect(result).toEqual({published: true, stream: 'CIM_OPS', flushed: 0, quarantined: []})
    expect(await opsSubjects()).toEqual({'cim.ops.audit.restore': 1})
  })

  it('spools when NATS is unreachable and the next successful write flushes the spool first', async () => {
    await spoolWhileDown(['alerts:silence:expire'])
    expect(await spooledFiles()).toHaveLength(1)
    const up = await recordAuditEvent(event('drill'), await sandboxContext(sandbox().state), {spoolDir: spool})
    expect(up).toEqual({published: true, stream: 'CIM_OPS', flushed: 1, quarantined: []})
    expect(await spooledFiles()).toEqual([])
    expect(await opsSubjects()).toEqual({'cim.ops.audit.restore': 1, 'cim.ops.audit.alerts-silence-expire': 1, 'cim.ops.audit.drill': 1})
  })

  it('flushes a spooled event only into the environment it was meant for: same context, same servers', async () => {
    const sandboxCtx = await sandboxContext(sandbox().state)
    // Meant for another server (down), and for another context on this very server.
    const elsewhere = await recordAuditEvent(event('restore'), await sandboxContext(sandbox().state, {natsUrl: 'nats://u:secret-pw@127.0.0.1:1', timeout: '1s'}), {spoolDir: spool})
    expect(elsewhere).toMatchObject({published: false, spooledTo: expect.any(String)})
    const prod = {...sandboxCtx, name: 'prod', nats: {...sandboxCtx.nats, servers: ['nats://127.0.0.1:1']}, timeoutMs: 1000}
    expect(await recordAuditEvent(event('restore'), prod, {spoolDir: spool})).toMatchObject({published: false})
    const text = await readFile(elsewhere.spooledTo!, 'utf8')
    expect(JSON.parse(text).target).toEqual({context: null, servers: ['nats://127.0.0.1:1'], jsDomain: null})
    expect(text).not.toContain('secret-pw')

    const before = await storedIds()
    const here = await recordAuditEvent(event('drill'), sandboxCtx, {spoolDir: spool})
    expect(here).toEqual({published: true, stream: 'CIM_OPS', flushed: 0, quarantined: []})
    expect(await storedIds()).toHaveLength(before.length + 1)
    expect(await spooledFiles()).toHaveLength(2)
    // An event for this server under another context name is not this environment's either.
    expect(await recordAuditEvent(event('drill'), {...sandboxCtx, name: 'staging'}, {spoolDir: spool})).toMatchObject({published: true, flushed: 0})
    expect(await spooledFiles()).toHaveLength(2)
    await rm(spool, {recursive: true, force: true})
  })

  it('moves unreadable spool files aside and says so once, instead of skipping them forever', async () => {
    const waiting = await spoolWhileDown(['drill'])
    await writeFile(join(spool, '2026-11-22T03-00-00.000Z-damaged.json'), '{"target": {"context": null, "serv')
    // What an older cimops spooled: an event with no target, which no environment can claim.
    await writeFile(join(spool, '2026-11-22T03-00-01.000Z-legacy.json'), JSON.stringify(event('restore')))
    const first = await recordAuditEvent(event('drill'), await sandboxContext(sandbox().state), {spoolDir: spool})
    expect(first).toMatchObject({published: true, flushed: 1})
    expect(first.quarantined.map((f) => basename(f)).sort()).toEqual(['2026-11-22T03-00-00.000Z-damaged.json', '2026-11-22T03-00-01.000Z-legacy.json'])
    expect(first.quarantined.every((f) => dirname(f) === join(spool, 'quarantine'))).toBe(true)
    expect(await readdir(spool)).toEqual(['quarantine'])
    expect(await storedIds()).toContain(waiting[0].id)
    const again = await recordAuditEvent(event('drill'), await sandboxContext(sandbox().state), {spoolDir: spool})
    expect(again).toEqual({published: true, stream: 'CIM_OPS', flushed: 0, quarantined: []})
    await rm(spool, {recursive: true, force: true})
  })

  it('a flush that fails half-way keeps what was not written, says how far it got, and finishes later without duplicates', async () => {
    const waiting = await spoolWhileDown(['first', 'second', 'third'])
    // The stream has room for exactly one more message: the second spooled event is refused.
    const stored = await withJsm(async (jsm) => {
      const info = await jsm.streams.info('CIM_OPS')
      await jsm.streams.update('CIM_OPS', {...info.config, max_msgs: info.state.messages + 1, discard: DiscardPolicy.New})
      return info.state.messages
    })
    const ctx = await sandboxContext(sandbox().state)
    const current = event('drill')
    const halfWay = await recordAuditEvent(current, ctx, {spoolDir: spool})
    expect(halfWay).toMatchObject({published: false, flushed: 1})
    expect(halfWay.error).toMatch(/maximum messages exceeded.*after writing 1 of 3 spooled events/i)
    expect(await spooledFiles()).toHaveLength(3)
    expect((await storedIds()).slice(stored)).toEqual([waiting[0].id])

    await withJsm(async (jsm) => {
      const info = await jsm.streams.info('CIM_OPS')
      await jsm.streams.update('CIM_OPS', {...info.config, max_msgs: -1})
    })
    const later = event('drill')
    expect(await recordAuditEvent(later, ctx, {spoolDir: spool})).toMatchObject({published: true, flushed: 3})
    expect(await spooledFiles()).toEqual([])
    expect((await storedIds()).slice(stored)).toEqual([waiting[0].id, waiting[1].id, waiting[2].id, current.id, later.id])
  })

  it('with the spool directory unwritable as well, the event is reported lost with both reasons', async () => {
    const blocker = join(spool, 'not-a-directory')
    await writeFile(blocker, 'x')
    const ctx = await sandboxContext(sandbox().state, {natsUrl: 'nats://127.0.0.1:1', timeout: '1s'})
    const result = await recordAuditEvent(event('restore'), ctx, {spoolDir: join(blocker, 'audit-spool')})
    expect(result).toMatchObject({published: false, lost: true})
    expect(result.spooledTo).toBeUndefined()
    expect(result.error).toMatch(/cannot reach nats at nats:\/\/127\.0\.0\.1:1.*; cannot spool it to .*not-a-directory\/audit-spool: ENOTDIR/)
    await rm(blocker)
  })
})

describe('audit events of mutating commands, end to end', () => {
  const sandbox = useSandbox({components: ['nats', 'alertmanager']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  beforeAll(async () => {
    home = await isolatedHome()
  })
  afterAll(() => home.cleanup())
  const urls = (natsUrl = sandbox().state.natsServers[0]) => ['--nats-url', natsUrl, '--alertmanager-url', sandbox().state.alertmanagerUrl!]

  it('records who did what, with secrets masked, and audit list shows it', async () => {
    const add = await runCli(['alerts', 'silence', 'add', 'alertname=AuditProbe', '--comment', 'token=abcdef123 in the comment', '--duration', '5m', '--actor', 'alice', ...urls()], home.env)
    expect(add.code, add.stderr).toBe(0)
    const list = await runCli(['audit', 'list', '--json', '--command', 'alerts silence add', ...urls()], home.env)
    expect(list.code, list.stderr).toBe(0)
    const {events} = JSON.parse(list.stdout) as {events: Array<{command: string; actor: {user: string}; outcome: string; args: string[]; spooled: boolean}>}
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({command: 'alerts silence add', actor: {user: 'alice'}, outcome: 'success', spooled: false})
    expect(events[0].args).toContain('alertname=AuditProbe')
    expect(list.stdout).not.toContain('abcdef123')
  })

  /** Every audit event the ops log of the sandbox holds, or the spool waits to write there. */
  async function auditTrail(): Promise<Array<{id: string; command: string; args: string[]; spooled: boolean}>> {
    const list = await runCli(['audit', 'list', '--json', ...urls()], home.env)
    expect(list.code, list.stderr).toBe(0)
    return (JSON.parse(list.stdout) as {events: Array<{id: string; command: string; args: string[]; spooled: boolean}>}).events
  }
  const spoolDir = () => join(home.dir, 'data', 'cimops', 'audit-spool')
  const spooled = async () => (await readdir(spoolDir()).catch(() => [] as string[])).filter((n) => n.endsWith('.json'))

  it('a dry run is not an action and records nothing, while the same command run for real is recorded', async () => {
    const before = await auditTrail()
    const dry = await runCli(['alerts', 'silence', 'add', 'alertname=DryProbe', '--comment', 'c', '--dry-run', ...urls()], home.env)
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stderr).not.toContain('audit event')
    expect(await auditTrail()).toEqual(before)
    expect(await spooled()).toEqual([])

    const real = await runCli(['alerts', 'silence', 'add', 'alertname=DryProbe', '--comment', 'c', ...urls()], home.env)
    expect(real.code, real.stderr).toBe(0)
    const after = await auditTrail()
    expect(after.slice(0, before.length)).toEqual(before)
    expect(after.slice(before.length)).toMatchObject([{command: 'alerts silence add', spooled: false, args: expect.arrayContaining(['alertname=DryProbe'])}])
  }, 60_000)

  it("an event spooled for another server stays in the spool: this server's ops log never gets it", async () => {
    const closed = 'nats://127.0.0.1:1'
    const add = await runCli(['alerts', 'silence', 'add', 'alertname=ElsewhereProbe', '--comment', 'meant for another NATS', ...urls(closed), '--timeout', '1s'], home.env)
    expect(add.code).toBe(0)
    expect(add.stderr).toMatch(/audit event not written to the ops log: cannot reach nats at nats:\/\/127\.0\.0\.1:1.*spooled to .*; the next mutating command against this context and these servers writes it\)/)
    expect(await spooled()).toHaveLength(1)

    const here = await runCli(['alerts', 'silence', 'add', 'alertname=HereProbe', '--comment', 'c', ...urls()], home.env)
    expect(here.code, here.stderr).toBe(0)
    expect(here.stderr).toBe('')
    expect(await spooled()).toHaveLength(1)
    const trail = await auditTrail()
    expect(trail.filter((e) => e.args.includes('alertname=ElsewhereProbe'))).toEqual([])
    expect(trail.filter((e) => e.args.includes('alertname=HereProbe'))).toHaveLength(1)
    await rm(spoolDir(), {recursive: true, force: true})
  }, 60_000)

  it('with its NATS down the command still does its job, says the event was spooled, and the next one against it writes it', async () => {
    const {state} = sandbox()
    await stopProcess(state, 'nats-1')
    let add
    try {
      add = await runCli(['alerts', 'silence', 'add', 'alertname=SpoolProbe', '--comment', 'nats is down', ...urls(), '--timeout', '1s'], home.env)
    } finally {
      await restartProcess(state, 'nats-1')
    }
    expect(add.code).toBe(0)
    expect(add.stderr).toMatch(/audit event not written to the ops log: cannot reach nats at .*spooled to /)
    expect((await auditTrail()).find((e) => e.args.includes('alertname=SpoolProbe'))).toMatchObject({spooled: true})

    const id = JSON.parse((await runCli(['alerts', 'silence', 'list', '--json', ...urls()], home.env)).stdout).silences.find(
      (s: {matchers: Array<{value: string}>}) => s.matchers.some((m) => m.value === 'SpoolProbe'),
    ).id
    const expire = await runCli(['alerts', 'silence', 'expire', id, ...urls()], home.env)
    expect(expire.code).toBe(0)
    expect(expire.stderr).toBe('')
    const after = await auditTrail()
    expect(after.filter((e) => e.spooled)).toEqual([])
    expect(after.slice(-2).map((e) => [e.command, e.args[0]])).toEqual([
      ['alerts silence add', 'alertname=SpoolProbe'],
      ['alerts silence expire', id],
    ])
  }, 60_000)

  it('an unreadable spool file is moved aside and reported once', async () => {
    await mkdir(spoolDir(), {recursive: true})
    await writeFile(join(spoolDir(), '2026-11-22T03-00-00.000Z-damaged.json'), '\u0000\u0000garbage')
    const first = await runCli(['alerts', 'silence', 'add', 'alertname=QuarantineProbe', '--comment', 'c', ...urls()], home.env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toBe(`cimops: 1 unreadable audit spool file moved to ${join(spoolDir(), 'quarantine')}: never written to an ops log (inspect, then delete them)\n`)
    expect(await readdir(join(spoolDir(), 'quarantine'))).toEqual(['2026-11-22T03-00-00.000Z-damaged.json'])
    const second = await runCli(['alerts', 'silence', 'add', 'alertname=QuarantineProbe2', '--comment', 'c', ...urls()], home.env)
    expect(second.stderr).toBe('')
  })

  it('when neither NATS nor the spool can take the event, the command still succeeds and prints the event it lost', async () => {
    const blocker = join(home.dir, 'not-a-directory')
    await writeFile(blocker, 'x')
    const env = {...home.env, CIMOPS_DATA_DIR: join(blocker, 'data')}
    const add = await runCli(['alerts', 'silence', 'add', 'alertname=LostProbe', '--comment', 'c', ...urls('nats://127.0.0.1:1'), '--timeout', '1s'], env)
    expect(add.code, add.stderr).toBe(0)
    // (oclif itself warns once that it cannot read its data dir: not cimops's line.)
    const lines = add.stderr.split('\n').filter((line) => line.startsWith('cimops:'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^cimops: audit event lost: cannot reach nats at nats:\/\/127\.0\.0\.1:1.*; cannot spool it to .*not-a-directory\/data\/audit-spool: ENOTDIR.* \(the event: \{.*"command":"alerts silence add".*alertname=LostProbe.*\}\)$/)
  })
})
