import {jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {mkdtemp, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {buildAuditEvent} from '../../src/lib/audit/event.js'
import {recordAuditEvent} from '../../src/lib/audit/recorder.js'
import {restartProcess, stopProcess} from '../../src/lib/sandbox/index.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {sandboxContext} from '../helpers/health.js'
import {useSandbox} from '../helpers/sandbox.js'

describe('the ops event log', () => {
  const sandbox = useSandbox({components: ['nats']})
  let spool: string
  beforeAll(async () => {
    spool = await mkdtemp(join(tmpdir(), 'cimops-spool-'))
  })
  afterAll(() => rm(spool, {recursive: true, force: true}))

  const event = (command: string) =>
    buildAuditEvent({command, argv: ['X1'], startedAt: new Date(), finishedAt: new Date(), exitCode: 0, actor: 'tester'})

  async function opsSubjects(): Promise<Record<string, number>> {
    const nc = await connect({servers: sandbox().state.natsServers})
    try {
      const info = await (await jetstreamManager(nc)).streams.info('CIM_OPS', {subjects_filter: '>'})
      expect(info.config.subjects).toEqual(['cim.ops.>'])
      expect(info.config.storage).toBe('file')
      return info.state.subjects ?? {}
    } finally {
      await nc.close()
    }
  }

  it('creates CIM_OPS on first use and publishes cim.ops.audit.<command>', async () => {
    const ctx = await sandboxContext(sandbox().state)
    const result = await recordAuditEvent(event('restore'), ctx, spool)
    expect(result).toEqual({published: true, flushed: 0})
    expect(await opsSubjects()).toEqual({'cim.ops.audit.restore': 1})
  })

  it('spools when NATS is unreachable and the next successful write flushes the spool first', async () => {
    const {state} = sandbox()
    const ctx = await sandboxContext(state, {timeout: '1s'})
    await stopProcess(state, 'nats-1')
    try {
      const down = await recordAuditEvent(event('alerts:silence:expire'), ctx, spool)
      expect(down.published).toBe(false)
      expect(down.error).toContain('cannot reach nats')
      expect(await readdir(spool)).toHaveLength(1)
    } finally {
      await restartProcess(state, 'nats-1')
    }
    const up = await recordAuditEvent(event('drill'), ctx, spool)
    expect(up).toEqual({published: true, flushed: 1})
    expect(await readdir(spool)).toEqual([])
    expect(await opsSubjects()).toEqual({'cim.ops.audit.restore': 1, 'cim.ops.audit.alerts-silence-expire': 1, 'cim.ops.audit.drill': 1})
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

  it('a dry run is not an action and records nothing', async () => {
    await runCli(['alerts', 'silence', 'add', 'alertname=DryProbe', '--comment', 'c', '--dry-run', ...urls()], home.env)
    const list = await runCli(['audit', 'list', '--json', ...urls()], home.env)
    expect(JSON.parse(list.stdout).events.map((e: {args: string[]}) => e.args.join(' '))).not.toContainEqual(expect.stringContaining('DryProbe'))
  })

  it('with NATS unreachable the command still does its job, says the event was spooled, and the next one writes it', async () => {
    const closed = 'nats://127.0.0.1:1'
    const add = await runCli(['alerts', 'silence', 'add', 'alertname=SpoolProbe', '--comment', 'nats is down', ...urls(closed), '--timeout', '1s'], home.env)
    expect(add.code).toBe(0)
    expect(add.stderr).toMatch(/audit event not written to the ops log: cannot reach nats at nats:\/\/127\.0\.0\.1:1.*spooled to /)
    const spooled = await runCli(['audit', 'list', '--json', ...urls()], home.env)
    expect(JSON.parse(spooled.stdout).events.find((e: {args: string[]}) => e.args.includes('alertname=SpoolProbe'))).toMatchObject({spooled: true})

    const id = JSON.parse((await runCli(['alerts', 'silence', 'list', '--json', ...urls()], home.env)).stdout).silences.find(
      (s: {matchers: Array<{value: string}>}) => s.matchers.some((m) => m.value === 'SpoolProbe'),
    ).id
    const expire = await runCli(['alerts', 'silence', 'expire', id, ...urls()], home.env)
    expect(expire.code).toBe(0)
    expect(expire.stderr).not.toContain('audit event not written')
    const after = JSON.parse((await runCli(['audit', 'list', '--json', ...urls()], home.env)).stdout) as {events: Array<{command: string; spooled: boolean; args: string[]}>}
    expect(after.events.filter((e) => e.spooled)).toEqual([])
    expect(after.events.map((e) => e.command)).toEqual(['alerts silence add', 'alerts silence add', 'alerts silence expire'])
  })
})
