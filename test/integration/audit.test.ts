import {jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {mkdtemp, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {buildAuditEvent} from '../../src/lib/audit/event.js'
import {recordAuditEvent} from '../../src/lib/audit/recorder.js'
import {restartProcess, stopProcess} from '../../src/lib/sandbox/index.js'
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
