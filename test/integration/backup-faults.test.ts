import {randomBytes} from 'node:crypto'
import {readdirSync, readFileSync} from 'node:fs'
import {mkdtemp, readdir, readFile, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {openNatsSession} from '../../src/lib/adapters/nats/session.js'
import {compareVersions, parseServerVersion} from '../../src/lib/adapters/nats/versions.js'
import {createBackup} from '../../src/lib/backup/create.js'
import {restartProcess} from '../../src/lib/sandbox/index.js'
import {finished, isolatedHome, runCli, startCli} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

const STREAM = 'BIG'
/** ~150 MB of incompressible messages: with 1 KiB chunks a backup takes a couple of seconds. */
const MESSAGES = 150_000
/** A few messages, for a drill that must be quick. */
const SMALL = 'SMALL'
const SIZE = 1024
/** Publishes awaiting their acknowledgement at once while seeding. */
const SEED_WINDOW = 2000

async function size(path: string): Promise<number> {
  return stat(path).then(
    (info) => info.size,
    () => -1,
  )
}

/** Pids of the processes whose command line names `dir` (Linux /proc). */
function processesUsing(dir: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

async function exists(path: string): Promise<boolean> {
  return (await size(path)) >= 0
}

/** Polls until the file has more than `bytes`, or fails after `ms`. */
async function waitForBytes(path: string, bytes: number, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while ((await size(path)) <= bytes) {
    if (Date.now() > deadline) throw new Error(`${path} never grew past ${bytes} bytes`)
    await sleep(10)
  }
}

describe('backup faults: kill -9 and a server restart mid-backup never leave a complete-looking set', () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let root: string
  const url = () => sandbox().state.natsServers.join(',')

  beforeAll(async () => {
    home = await isolatedHome()
    root = await mkdtemp(join(tmpdir(), 'cimops-backup-faults-'))
    const nc = await connect({servers: sandbox().state.natsServers})
    try {
      const jsm = await jetstreamManager(nc)
      await jsm.streams.add({name: STREAM, subjects: ['big.>'], storage: 'file'})
      const pool = randomBytes(SIZE * 1024 + SIZE)
      // Acknowledged publishes, a window at a time: newer servers (2.11+) drop core publishes a stream cannot keep up with.
      const js = jetstream(nc)
      for (let from = 0; from < MESSAGES; from += SEED_WINDOW) {
        await Promise.all(
          Array.from({length: Math.min(SEED_WINDOW, MESSAGES - from)}, (_, k) => {
            const i = from + k
            const offset = (i * 7919) % (pool.length - SIZE)
            return js.publish(`big.${i % 100}`, pool.subarray(offset, offset + SIZE), {timeout: 30_000})
          }),
        )
      }
      expect((await jsm.streams.info(STREAM)).state.messages).toBe(MESSAGES)
      await jsm.streams.add({name: SMALL, subjects: ['small.>'], storage: 'file'})
      for (let i = 0; i < 10; i++) await nc.request(`small.${i}`, `small-${i}`, {timeout: 2000})
    } finally {
      await nc.close()
    }
  })
  afterAll(async () => {
    await home?.cleanup()
    await rm(root, {recursive: true, force: true})
  })

  it('kill -9 during backup create: only <set>.partial remains, list says INCOMPLETE, restore refuses it; a new run replaces it', async () => {
    const set = join(root, 'killed')
    const child = startCli(['backup', 'create', '--stream', STREAM, '--dir', set, '--chunk-size', '1KiB', '--nats-url', url()], home.env)
    const done = finished(child)
    await waitForBytes(join(`${set}.partial`, STREAM, 'stream.tar.s2'), 1024 * 1024)
    child.kill('SIGKILL')
    const result = await done
    expect(result.code).toBeNull() // killed, not exited

    expect(await exists(set)).toBe(false)
    expect(await exists(`${set}.partial`)).toBe(true)
    expect(await readdir(`${set}.partial`)).not.toContain('manifest.json')

    const listed = await runCli(['backup', 'list', root, '--json'], home.env)
    expect(JSON.parse(listed.stdout).sets).toEqual([expect.objectContaining({name: 'killed.partial', complete: false, status: 'incomplete', mode: 'snapshot', streams: [STREAM]})])
    const text = await runCli(['backup', 'list', root], home.env)
    expect(text.stdout).toMatch(/killed\.partial .* INCOMPLETE/)

    for (const target of [set, `${set}.partial`]) {
      const restored = await runCli(['restore', target, '--nats-url', url()], home.env)
      expect(restored.code, target).toBe(65)
      expect(restored.stderr).toMatch(/is an incomplete backup set/)
      expect((await runCli(['backup', 'verify', target], home.env)).code).toBe(65)
    }

    // Running the same backup again replaces the stale .partial and completes.
    const again = await runCli(['backup', 'create', '--stream', STREAM, '--dir', set, '--nats-url', url(), '--json'], home.env)
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({set, messages: MESSAGES})
    expect(await exists(`${set}.partial`)).toBe(false)
    expect((await runCli(['backup', 'verify', set], home.env)).code).toBe(0)
  })

  it('a second backup into the same --dir while the first runs is refused (64, naming its pid) and leaves the first untouched', async () => {
    const set = join(root, 'concurrent')
    const first = startCli(['backup', 'create', '--stream', STREAM, '--dir', set, '--chunk-size', '1KiB', '--nats-url', url(), '--json'], home.env)
    const firstDone = finished(first)
    try {
      await waitForBytes(join(`${set}.partial`, STREAM, 'stream.tar.s2'), 1024 * 1024)
      const second = await runCli(['backup', 'create', '--stream', STREAM, '--dir', set, '--nats-url', url()], home.env)
      expect(second.code, second.stderr).toBe(64)
      expect(second.stderr.trim()).toMatch(new RegExp(`^cimops: ${set}\\.partial is being written by another backup \\(cimops pid ${first.pid}\\): .*\\(wait for it to finish, or choose another --dir\\)$`))
      expect(await size(join(`${set}.partial`, STREAM, 'stream.tar.s2'))).toBeGreaterThan(1024 * 1024)
    } finally {
      // Whatever happened above, the first backup must end (bounded) before the next test.
      const timer = setTimeout(() => first.kill('SIGKILL'), 60_000)
      const result = await firstDone
      clearTimeout(timer)
      expect(result.code, result.stderr).toBe(0)
    }
    expect(await exists(`${set}.partial`)).toBe(false)
    expect((await runCli(['backup', 'verify', set], home.env)).code).toBe(0)
  }, 120_000)

  it('kill -9 of a drill: its ephemeral nats-server dies with it, and the next drill removes what it left in the temp dir', async () => {
    // A temp dir of the test's own, so what the killed drill leaves there can be inspected.
    const temp = await mkdtemp(join(tmpdir(), 'cimops-faults-tmp-'))
    try {
      const env = {...home.env, TMPDIR: temp}
      const child = startCli(['drill', '--stream', STREAM, '--nats-url', url()], env)
      let stderr = ''
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk))
      const done = finished(child)
      const deadline = Date.now() + 60_000
      let target: string | undefined
      while (!(target = /ephemeral nats-server on (nats:\/\/[\d.:]+)/.exec(stderr)?.[1]) && Date.now() < deadline) await sleep(10)
      expect(target, stderr).toBeDefined()
      child.kill('SIGKILL')
      expect((await done).code).toBeNull()

      const left = (await readdir(temp)).sort()
      expect(left).toEqual([expect.stringMatching(/^cimops-drill-/), expect.stringMatching(/^cimops-restore-target-/)])
      const serverDir = join(temp, left[1])
      // The server goes within seconds of its parent (bounded poll); no process still runs from its dir.
      const gone = Date.now() + 15_000
      while (processesUsing(serverDir).length > 0 && Date.now() < gone) await sleep(100)
      expect(processesUsing(serverDir)).toEqual([])
      await expect(connect({servers: [target!], timeout: 1000, reconnect: false})).rejects.toThrow()

      const next = await runCli(['drill', '--stream', SMALL, '--nats-url', url()], env)
      expect(next.code, next.stderr).toBe(0)
      expect(next.stderr).toContain(`removed ${join(temp, left[0])}, left by cimops pid ${child.pid}`)
      expect(next.stderr).toContain(`removed ${serverDir}, left by cimops pid ${child.pid}`)
      expect(await readdir(temp)).toEqual([])
    } finally {
      // Should a server have outlived its drill (the fault this test is about), it must not outlive the test.
      for (const pid of processesUsing(temp)) process.kill(pid, 'SIGKILL')
      await rm(temp, {recursive: true, force: true})
    }
  }, 120_000)

  it('kill -9 of backup verify --deep: its ephemeral nats-server dies with it, and the next deep verify removes its temp dir', async () => {
    const set = join(root, 'concurrent') // complete and verified by the test before
    const temp = await mkdtemp(join(tmpdir(), 'cimops-faults-tmp-'))
    try {
      const env = {...home.env, TMPDIR: temp}
      const child = startCli(['backup', 'verify', set, '--deep'], env)
      let stderr = ''
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk))
      const done = finished(child)
      const deadline = Date.now() + 60_000
      while (!/ephemeral nats-server on nats:/.test(stderr) && Date.now() < deadline) await sleep(10)
      expect(stderr).toMatch(/ephemeral nats-server on nats:/)
      const [serverDir] = await readdir(temp)
      expect(processesUsing(join(temp, serverDir)).length).toBeGreaterThan(0)
      child.kill('SIGKILL')
      expect((await done).code).toBeNull()
      const gone = Date.now() + 15_000
      while (processesUsing(join(temp, serverDir)).length > 0 && Date.now() < gone) await sleep(20)
      expect(processesUsing(join(temp, serverDir))).toEqual([])

      const next = await runCli(['backup', 'verify', set, '--deep'], env)
      expect(next.code, next.stderr).toBe(0)
      expect(next.stderr).toContain(`removed ${join(temp, serverDir)}, left by cimops pid ${child.pid}`)
      expect(await readdir(temp)).toEqual([])
    } finally {
      for (const pid of processesUsing(temp)) process.kill(pid, 'SIGKILL')
      await rm(temp, {recursive: true, force: true})
    }
  }, 120_000)

  it('nats-server restarted mid-backup: a clear failure, and only a .partial set', async () => {
    const set = join(root, 'restarted')
    const child = startCli(['backup', 'create', '--stream', STREAM, '--dir', set, '--chunk-size', '1KiB', '--nats-url', url()], home.env)
    const done = finished(child)
    await waitForBytes(join(`${set}.partial`, STREAM, 'stream.tar.s2'), 1024 * 1024)
    await restartProcess(sandbox().state, 'nats-1')
    const result = await done
    expect(result.code, result.stderr).toBe(69)
    expect(result.stderr).toMatch(/^cimops: cannot reach nats at 127\.0\.0\.1:\d+: the connection was lost during the snapshot of BIG/m)
    expect(result.stderr).toContain(`the incomplete set is left in ${set}.partial`)
    expect(result.stdout).toBe('')
    expect(await exists(set)).toBe(false)
    expect(await readdir(`${set}.partial`)).not.toContain('manifest.json')
    expect((await runCli(['restore', set, '--nats-url', url()], home.env)).code).toBe(65)
  })

  it('messages arriving during a snapshot: the manifest says so, and the restore accepts what the archive holds', async () => {
    const nc = await connect({servers: sandbox().state.natsServers})
    let publishing = true
    let published = 0
    const publisher = (async () => {
      while (publishing) {
        for (let i = 0; i < 100; i++) nc.publish('big.live', `live-${published++}`)
        await nc.flush()
        await sleep(5)
      }
    })()
    try {
      await sleep(200)
      const set = join(root, 'live')
      const created = await runCli(['backup', 'create', '--stream', STREAM, '--dir', set, '--chunk-size', '4KiB', '--nats-url', url(), '--json'], home.env)
      publishing = false
      await publisher
      // The core publishes are flushed, not yet stored: a loaded 2.10 server was seen storing the last of them
      // into the restored stream. An acknowledged publish behind them on the same connection is stored after them.
      await jetstream(nc).publish('big.live', 'settled')
      expect(created.code, created.stderr).toBe(0)
      const stream = JSON.parse(created.stdout).streams[0]
      expect(stream.writesDuringBackup).toBe(true)
      const manifest = JSON.parse(await readFile(join(set, 'manifest.json'), 'utf8')).streams[0]
      expect(manifest.lastSeqAtEnd).toBeGreaterThan(manifest.lastSeq)

      const restored = await runCli(['restore', set, '--force', '--yes', '--nats-url', url(), '--json'], home.env)
      expect(restored.code, `${restored.stderr}${restored.stdout}`).toBe(0)
      const result = JSON.parse(restored.stdout).streams[0]
      expect(result.ok).toBe(true)
      const info = await (await jetstreamManager(nc)).streams.info(STREAM, {deleted_details: true})
      expect(info.state.last_seq).toBeGreaterThanOrEqual(manifest.lastSeq)
      expect(info.state.last_seq).toBeLessThanOrEqual(manifest.lastSeqAtEnd)
      // Everything the manifest promised, and some or all of what arrived during the snapshot (2.10.27 was
      // seen archiving part of it, leaving gaps after the manifest's last sequence, never before it).
      expect((info.state.deleted ?? []).filter((seq) => seq <= manifest.lastSeq)).toEqual([])
      expect(info.state.messages - manifest.messages).toBeLessThanOrEqual(info.state.last_seq - manifest.lastSeq)
      expect(published).toBeGreaterThan(0)
    } finally {
      publishing = false
      await publisher
      await nc.close()
    }
  })

  it('Ctrl-C during a drill: exit 130, and the ephemeral nats-server it started is stopped', async () => {
    const child = startCli(['drill', '--stream', STREAM, '--nats-url', url()], home.env)
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk))
    const done = finished(child)
    const deadline = Date.now() + 30_000
    let target: string | undefined
    while (!(target = /ephemeral nats-server on (nats:\/\/[\d.:]+)/.exec(stderr)?.[1]) && Date.now() < deadline) await sleep(10)
    expect(target, stderr).toBeDefined()
    child.kill('SIGINT')
    const result = await done
    expect(result.code, stderr).toBe(130)
    await expect(connect({servers: [target!], timeout: 1000, reconnect: false})).rejects.toThrow()
  })
})

describe('a backup client that stalls past the server\'s flow-control wait', () => {
  const sandbox = useSandbox({components: ['nats']})
  /** More than the server lets go unacknowledged (8 MiB on 2.10.12+), incompressible. */
  const STALLED = 'STALLED'
  const STALL_MS = 7000

  it('gets the server\'s abort (408) as the failure, and leaves only a .partial set (bounded)', async (ctx) => {
    const {state} = sandbox()
    const nc = await connect({servers: state.natsServers})
    const root = await mkdtemp(join(tmpdir(), 'cimops-backup-stall-'))
    const session = openNatsSession({servers: state.natsServers}, {timeoutMs: 20_000})
    try {
      // Servers before 2.10.12 do not wait for acks at all (nothing to stall against): what the server says it is decides.
      if (!flowControlled(nc.info!.version)) ctx.skip(`nats-server ${nc.info!.version} does not wait for snapshot acks (2.10.12+ does)`)
      const js = jetstream(nc)
      await (await jetstreamManager(nc)).streams.add({name: STALLED, subjects: ['stalled.>'], storage: 'file'})
      for (let batch = 0; batch < 24; batch++) await Promise.all(Array.from({length: 500}, (_, i) => js.publish(`stalled.${i % 10}`, randomBytes(SIZE), {timeout: 10_000})))

      const set = join(root, 'stalled')
      let stalled = false
      const started = Date.now()
      const backup = createBackup({
        nats: session,
        timeoutMs: 20_000,
        streams: [STALLED],
        all: false,
        dir: set,
        mode: 'snapshot',
        consumers: true,
        check: false,
        chunkSize: 64 * 1024,
        cimopsVersion: 'test',
        onProgress(event) {
          // The whole process stops (no acks go out) once the first MiB is in, longer than the server waits.
          if (stalled || event.phase !== 'backup' || (event.bytes ?? 0) < 1024 * 1024) return
          stalled = true
          const until = Date.now() + STALL_MS
          while (Date.now() < until) {
            // busy: the event loop is blocked like a process stuck on a slow disk
          }
        },
      })
      await expect(backup).rejects.toThrow(/the server ended the transfer with 408 No Flow Response/)
      expect(stalled).toBe(true)
      expect(Date.now() - started).toBeLessThan(30_000)
      expect(await exists(set)).toBe(false)
      expect(await exists(`${set}.partial`)).toBe(true)
    } finally {
      await session.close()
      await nc.close()
      await rm(root, {recursive: true, force: true})
    }
  }, 60_000)
})

function flowControlled(version: string): boolean {
  const parsed = parseServerVersion(version)
  return parsed !== undefined && compareVersions(parsed, [2, 10, 12]) >= 0
}
