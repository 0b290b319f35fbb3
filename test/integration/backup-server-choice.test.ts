/**
 * The throwaway nats-server of `backup verify --deep` and `drill` must read the set: one at least as
 * new as the server that wrote it (nats-server 2.15 writes archives older servers cannot read), found
 * among the installed and cached servers; none new enough is exit 65 with one line saying what to get.
 * Runs where a nats-server newer than Debian 12's is at hand: CIMOPS_NATS_SERVER_BIN, or the unstable set.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {compareVersions, parseServerVersion} from '../../src/lib/adapters/nats/versions.js'
import {findServerBinary, installCommand, serverBinaryVersion} from '../../src/lib/sandbox/index.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {startTestSandbox, type TestSandbox} from '../helpers/sandbox.js'

const MESSAGES = 25

/** A binary's version, or undefined when it cannot be found (a set not fetched). */
async function versionOf(find: () => string): Promise<{path: string; version: string} | undefined> {
  try {
    const path = find()
    const version = await serverBinaryVersion(path)
    return version ? {path, version} : undefined
  } catch {
    return undefined
  }
}

const newer = await versionOf(() => process.env.CIMOPS_NATS_SERVER_BIN || findServerBinary('nats', {...process.env, CIMOPS_SERVERS: 'unstable'}))
const debian12 = await versionOf(() => findServerBinary('nats', {PATH: process.env.PATH, CIMOPS_SERVERS: 'debian12'}))
const isNewer = (a: string, b: string) => compareVersions(parseServerVersion(a)!, parseServerVersion(b)!) > 0
const runnable = newer !== undefined && debian12 !== undefined && isNewer(newer.version, debian12.version)

describe.skipIf(!runnable)('the throwaway server reads what a newer server wrote', () => {
  let sandbox: TestSandbox
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let work: string
  const set = () => join(work, 'set')
  /** Debian 12's servers for the command, so Debian 12's nats-server (too old) is the set's own. */
  const debian12Env = () => ({...home.env, CIMOPS_SERVERS: 'debian12', CIMOPS_NATS_SERVER_BIN: ''})

  beforeAll(async () => {
    home = await isolatedHome()
    work = await mkdtemp(join(tmpdir(), 'cimops-server-choice-'))
    sandbox = await startTestSandbox({components: ['nats'], binaries: {nats: newer!.path}})
    const nc = await connect({servers: sandbox.state.natsServers})
    try {
      await (await jetstreamManager(nc)).streams.add({name: 'CHOICE', subjects: ['choice.>']})
      const js = jetstream(nc)
      for (let i = 1; i <= MESSAGES; i++) await js.publish(`choice.${i % 3}`, `m${i}`)
    } finally {
      await nc.close()
    }
    const created = await runCli(['backup', 'create', '--stream', 'CHOICE', '--dir', set(), '--nats-url', sandbox.state.natsServers.join(',')], home.env)
    expect(created.code, created.stderr).toBe(0)
  })
  afterAll(async () => {
    await sandbox?.stop()
    await home?.cleanup()
    await rm(work, {recursive: true, force: true})
  })

  it(`verify --deep restores into a server at least as new as the writer, not the older default one`, async () => {
    const verified = await runCli(['backup', 'verify', '--deep', set(), '--json'], debian12Env())
    expect(verified.code, verified.stderr).toBe(0)
    const result = JSON.parse(verified.stdout) as {ok: boolean; restoreServerVersion: string; streams: Array<{restore?: {ok: boolean}}>}
    expect(result.ok).toBe(true)
    expect(result.streams[0]!.restore?.ok).toBe(true)
    expect(compareVersions(parseServerVersion(result.restoreServerVersion)!, parseServerVersion(newer!.version)!)).toBeGreaterThanOrEqual(0)
  })

  it('drill restores into such a server too', async () => {
    const drill = await runCli(['drill', '--stream', 'CHOICE', '--json', '--nats-url', sandbox.state.natsServers.join(',')], debian12Env())
    expect(drill.code, drill.stderr).toBe(0)
    const result = JSON.parse(drill.stdout) as {passed: boolean; source: {serverVersion: string}; target: {serverVersion: string}}
    expect(result).toMatchObject({passed: true, source: {serverVersion: newer!.version}})
    expect(compareVersions(parseServerVersion(result.target.serverVersion)!, parseServerVersion(newer!.version)!)).toBeGreaterThanOrEqual(0)
  })

  it('with only older servers at hand (an empty cache), exit 65 with one line naming the version needed and how to get it', async () => {
    const emptyCache = join(work, 'empty-cache')
    const refused = await runCli(['backup', 'verify', '--deep', set()], {...debian12Env(), XDG_CACHE_HOME: emptyCache, PATH: '/usr/bin:/bin'})
    expect(refused.code).toBe(65)
    expect(refused.stderr.trim().split('\n')).toEqual([
      `cimops: no nats-server ${newer!.version} or newer to restore into: nats-server ${newer!.version} wrote the set, and older servers may not read it; the newest here is ${debian12!.version} (fetch newer servers: ${installCommand('unstable')})`,
    ])
  })
})
