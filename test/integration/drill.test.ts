import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runDrill} from '../../src/lib/backup/drill.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {natsServerVersion, startTestSandbox, type TestSandbox, useSandbox} from '../helpers/sandbox.js'

describe('cimops drill against the seeded sandbox', () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  const url = () => sandbox().state.natsServers.join(',')

  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
  })
  afterAll(() => home?.cleanup())

  it('passes: counts, sequence range, subjects and digest match; reports backup time, RTO and RPO; exit 0', async () => {
    const run = await runCli(['drill', '--stream', 'EVENTS', '--json', '--nats-url', url()], home.env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toBe('')
    const result = JSON.parse(run.stdout)
    // The throwaway server is the set's own nats-server: it reads what a server of its version wrote.
    const version = await natsServerVersion(sandbox().state)
    expect(result).toMatchObject({passed: true, mode: 'snapshot', source: {serverVersion: version}, target: {kind: 'ephemeral', serverVersion: version}, backup: {messages: 437}})
    expect(result.id).toMatch(/^drill-\d{8}T\d{6}Z$/)
    expect(result.backup.durationSeconds).toBeGreaterThan(0)
    expect(result.restore.durationSeconds).toBeGreaterThan(0)
    expect(result.rpoSeconds).toBeGreaterThanOrEqual(0)
    const checks = Object.fromEntries(result.streams[0].checks.map((c: {name: string; ok: boolean; source: string; restored: string}) => [c.name, c]))
    expect(Object.keys(checks)).toEqual(expect.arrayContaining(['messages', 'sequence range', 'subjects', 'content digest', 'restored messages vs manifest']))
    expect(checks.messages).toMatchObject({source: '437', restored: '437', ok: true})
    expect(checks['sequence range']).toMatchObject({source: '1-437', restored: '1-437', ok: true})
    expect(checks['content digest'].source).toMatch(/^[0-9a-f]{64}$/)
  })

  it('--all --format md: a Markdown report; the ephemeral nats-server is gone afterwards', async () => {
    const run = await runCli(['drill', '--all', '--format', 'md', '--nats-url', url()], home.env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^# DR drill drill-\d{8}T\d{6}Z: PASS\n/)
    const version = await natsServerVersion(sandbox().state)
    expect(run.stdout).toContain(` into an ephemeral nats-server ${version} |`)
    expect(run.stdout).toMatch(/\| EVENTS \| content digest \| [0-9a-f]{12}… \| [0-9a-f]{12}… \| ok \|/)
    // CIM_OPS holds the earlier drills' ops and audit events by now: as many restored as backed up.
    expect(run.stdout).toMatch(/\| CIM_OPS \| messages \| (\d+) \| \1 \| ok \|/)
    const target = /ephemeral nats-server on (nats:\/\/[\d.:]+)/.exec(run.stderr)?.[1]
    expect(target).toBeDefined()
    await expect(connect({servers: [target!], timeout: 1000, reconnect: false})).rejects.toThrow()
  })

  it('--logical passes too (sequences are renumbered, the rest must match)', async () => {
    const run = await runCli(['drill', '--stream', 'EVENTS', '--logical', '--json', '--nats-url', url()], home.env)
    const drills = await runCli(['events', 'subjects', 'CIM_OPS', 'cim.ops.drill.>', '--json', '--nats-url', url()], home.env)
    expect(drills.stdout, 'each drill records its outcome in the ops log').toContain('.completed')
    expect(run.code, run.stderr).toBe(0)
    const result = JSON.parse(run.stdout)
    expect(result).toMatchObject({passed: true, mode: 'logical'})
    expect(result.streams[0].checks.map((c: {name: string}) => c.name)).not.toContain('sequence range')
  })

  it('fails when a message is removed from the restored copy: messages, subjects and digest differ', async () => {
    let removed = ''
    const result = await runDrill({
      source: {servers: sandbox().state.natsServers},
      timeoutMs: 5000,
      streams: ['EVENTS'],
      all: false,
      mode: 'snapshot',
      cimopsVersion: 'test',
      afterRestore: async (target) => {
        const nc = await connect({servers: target.servers})
        try {
          const jsm = await jetstreamManager(nc)
          removed = (await jsm.streams.getMessage('EVENTS', {seq: 100}))!.subject
          expect(await jsm.streams.deleteMessage('EVENTS', 100)).toBe(true)
        } finally {
          await nc.close()
        }
      },
    })
    expect(result.passed).toBe(false)
    const checks = Object.fromEntries(result.streams[0].checks.map((c) => [c.name, c]))
    expect(checks.messages).toMatchObject({source: '437', restored: '436', ok: false})
    expect(checks['content digest'].ok).toBe(false)
    expect(checks.subjects.ok).toBe(false)
    expect(result.streams[0].subjectDifferences).toContainEqual({subject: removed, source: expect.any(Number), restored: expect.any(Number)})
    // The restore itself matched the manifest: the damage came after it.
    expect(checks['restored messages vs manifest'].ok).toBe(true)
  })

  it('--target-context restores into another server, compares, then removes what it restored there', async () => {
    let other: TestSandbox | undefined
    try {
      other = await startTestSandbox({components: ['nats']})
      const config = join(home.dir, 'config', 'cimops')
      await mkdir(config, {recursive: true})
      await writeFile(join(config, 'config.yaml'), `contexts:\n  staging:\n    nats: {servers: [${other.state.natsServers.join(', ')}]}\n`)
      const run = await runCli(['drill', '--stream', 'EVENTS', '--target-context', 'staging', '--json', '--nats-url', url()], home.env)
      expect(run.code, run.stderr).toBe(0)
      expect(JSON.parse(run.stdout)).toMatchObject({passed: true, target: {kind: 'context', context: 'staging'}})
      const nc = await connect({servers: other.state.natsServers})
      try {
        expect(await (await jetstreamManager(nc)).streams.names().next()).toEqual([])
      } finally {
        await nc.close()
      }
    } finally {
      await other?.stop()
    }
  })
})
