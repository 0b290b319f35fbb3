/**
 * Sets taken on one nats-server version restored into another: the machine's own (Debian 12's) server makes
 * one, the chosen server set's (CIMOPS_SERVERS, or CIMOPS_NATS_SERVER_BIN) the other. Configs are fitted to the target: no
 * `_nats.*` metadata sent back, no field the target does not know, and the report names any setting lost.
 * (A V2 archive into an older server is refused up front: restore-faults.test.ts.)
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {jetstreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {compareVersions, parseServerVersion} from '../../src/lib/adapters/nats/versions.js'
import {findServerBinary} from '../../src/lib/sandbox/binaries.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {startTestSandbox, type TestSandbox, useSandbox} from '../helpers/sandbox.js'

const MESSAGES = 300

describe('restore across nats-server versions', () => {
  const newer = useSandbox({components: ['nats']})
  let older: TestSandbox | undefined
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let work: string
  let newNc: NatsConnection
  let oldNc: NatsConnection

  beforeAll(async () => {
    home = await isolatedHome()
    work = await mkdtemp(join(tmpdir(), 'cimops-restore-versions-'))
    // The machine's own (Debian 12's) nats-server, whatever set the suite runs on.
    older = await startTestSandbox({components: ['nats'], binaries: {nats: findServerBinary('nats', {...process.env, CIMOPS_NATS_SERVER_BIN: ''}, 'debian12')}})
    newNc = await connect({servers: newer().state.natsServers})
    oldNc = await connect({servers: older.state.natsServers})
  })
  afterAll(async () => {
    await newNc?.close()
    await oldNc?.close()
    await older?.stop()
    await home?.cleanup()
    await rm(work, {recursive: true, force: true})
  })

  const url = (nc: NatsConnection) => (nc === newNc ? newer().state.natsServers[0] : older!.state.natsServers[0])
  const cli = (args: string[], nc: NatsConnection) => runCli([...args, '--nats-url', url(nc)], home.env)

  /** A stream of MESSAGES with one durable consumer; `extra` config where the server keeps it (it echoes what it knows). */
  async function seed(nc: NatsConnection, name: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.add({name, subjects: [`${name.toLowerCase()}.>`], storage: 'file', ...extra})
    for (let i = 0; i < MESSAGES; i++) nc.publish(`${name.toLowerCase()}.${i % 7}`, `{"n":${i}}`)
    await nc.flush()
    await jsm.consumers.add(name, {durable_name: 'billing', ack_policy: 'explicit'})
    return info.config as unknown as Record<string, unknown>
  }

  async function backupDeleteRestore(name: string, from: NatsConnection, into: NatsConnection, mode: 'snapshot' | 'logical') {
    const set = join(work, `${name}-${mode}`)
    const made = await cli(['backup', 'create', '--stream', name, '--dir', set, '--quiet', ...(mode === 'logical' ? ['--logical'] : [])], from)
    expect(made.code, made.stderr).toBe(0)
    await (await jetstreamManager(from)).streams.delete(name)
    const restored = await cli(['restore', set, '--json'], into)
    expect(restored.code, restored.stderr).toBe(0)
    const result = JSON.parse(restored.stdout)
    expect(result.ok).toBe(true)
    const info = await (await jetstreamManager(into)).streams.info(name)
    expect(info.state.messages).toBe(MESSAGES)
    return {result, info, text: (await cli(['restore', set, '--dry-run', '--force'], into)).stdout}
  }

  it('a snapshot taken on the machine\'s server restores into the chosen set\'s, consumer included', async () => {
    await seed(oldNc, 'OLDSNAP')
    const {info} = await backupDeleteRestore('OLDSNAP', oldNc, newNc, 'snapshot')
    expect(info.state.consumer_count).toBe(1)
    expect((await (await jetstreamManager(newNc)).consumers.info('OLDSNAP', 'billing')).num_pending).toBe(MESSAGES)
  })

  it('a snapshot restores into the server that took it: server-added _nats.* metadata is not sent back, the user\'s is kept', async () => {
    // Stream metadata came with 2.10 (nats.js refuses to send it to an older server): what the server reports decides.
    const hasMetadata = compareVersions(parseServerVersion(newNc.info!.version)!, [2, 10, 0]) >= 0
    await seed(newNc, 'NEWSNAP', hasMetadata ? {metadata: {owner: 'billing-team'}} : {})
    const {info} = await backupDeleteRestore('NEWSNAP', newNc, newNc, 'snapshot')
    if (hasMetadata) {
      expect(info.config.metadata).toMatchObject({owner: 'billing-team'})
    } else {
      expect(info.config.metadata ?? {}).toEqual({})
    }
  })

  it('a logical set of the chosen set\'s server restores into the machine\'s; a setting that server lacks is named in the report', async () => {
    const taken = await seed(newNc, 'NEWLOG', {allow_msg_ttl: true})
    const probe = await (await jetstreamManager(oldNc)).streams.add({name: 'TTLPROBE', subjects: ['ttlprobe'], allow_msg_ttl: true} as never)
    await (await jetstreamManager(oldNc)).streams.delete('TTLPROBE')
    const lost = taken.allow_msg_ttl === true && (probe.config as unknown as Record<string, unknown>).allow_msg_ttl !== true
    const {result, text} = await backupDeleteRestore('NEWLOG', newNc, oldNc, 'logical')
    const note = expect.stringMatching(/does not know allow_msg_ttl=true: restored without it$/)
    if (lost) {
      expect(result.streams[0].notes).toEqual([note])
      expect(text).toMatch(/^Note: NEWLOG: nats-server .* does not know allow_msg_ttl=true: restored without it\.$/m)
    } else {
      expect(result.streams[0].notes).toEqual([])
    }
  })
})
