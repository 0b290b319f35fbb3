import {randomBytes} from 'node:crypto'
import {cp, mkdtemp, readdir, readFile, rm, stat, symlink, truncate, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {jetstreamManager, type JetStreamManager} from '@nats-io/jetstream'
import {Kvm} from '@nats-io/kv'
import {Objm} from '@nats-io/obj'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {readMessages} from '../../src/lib/adapters/nats/backup-messages.js'
import {archiveFormat} from '../../src/lib/adapters/nats/backup-archive.js'
import {jsApiFor} from '../../src/lib/adapters/nats/backup-streams.js'
import {ContentDigest} from '../../src/lib/backup/digest.js'
import {readChunks} from '../../src/lib/backup/file-sink.js'
import {SNAPSHOT_FILES} from '../../src/lib/backup/manifest.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {archiveName} from '../helpers/archive.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

/** Count, range and content digest of a whole stream, read over the wire. */
async function streamDigest(nc: NatsConnection, stream: string): Promise<{messages: number; firstSeq: number; lastSeq: number; digest: string}> {
  const jsm = await jetstreamManager(nc)
  const {state} = await jsm.streams.info(stream)
  const digest = new ContentDigest(false)
  if (state.messages > 0) {
    await readMessages(jsApiFor(nc, {}, 5000), stream, {fromSeq: state.first_seq, toSeq: state.last_seq, idleTimeoutMs: 5000}, (m) => digest.update(m.subject, m.data, m.seq))
  }
  const {messages, firstSeq, lastSeq, digest: value} = digest.summary()
  return {messages, firstSeq, lastSeq, digest: value}
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/** A loopback port nobody listens on: a command that tried to connect would fail with 69. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('backup create / list / verify and restore against a real nats-server', () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let nc: NatsConnection
  let jsm: JetStreamManager
  let work: string
  const url = () => sandbox().state.natsServers.join(',')
  const cli = (args: string[]) => runCli([...args, '--nats-url', url()], home.env)

  beforeAll(async () => {
    home = await isolatedHome()
    work = await mkdtemp(join(tmpdir(), 'cimops-backup-it-'))
    await seedSandbox(sandbox().state.natsServers)
    nc = await connect({servers: sandbox().state.natsServers})
    jsm = await jetstreamManager(nc)
  })
  afterAll(async () => {
    await nc?.close()
    await home?.cleanup()
    await rm(work, {recursive: true, force: true})
  })

  it('snapshot round trip of the event stream: natscli layout, manifest, verify, list, restore, same digest and consumers', async () => {
    const before = await streamDigest(nc, 'EVENTS')
    expect(before.messages).toBe(437)
    const set = join(work, 'events-snap')
    const created = await cli(['backup', 'create', '--stream', 'EVENTS', '--dir', set, '--json'])
    expect(created.code, created.stderr).toBe(0)
    const result = JSON.parse(created.stdout)
    expect(result).toMatchObject({set, mode: 'snapshot', serverVersion: nc.info!.version, messages: 437})
    expect(result.streams[0]).toMatchObject({name: 'EVENTS', messages: 437, firstSeq: 1, lastSeq: 437})
    expect(created.stderr).toBe('') // --json: no progress, no notes

    // natscli's layout: backup.json is the 2-space {config, state}; the archive is S2.
    expect((await readdir(set)).sort()).toEqual(['EVENTS', 'manifest.json'])
    // The archive is named by its format, as jsm.go names it: the server chooses the format (2.15 writes backup V2).
    const archiveFile = await archiveName(join(set, 'EVENTS'))
    const format = await archiveFormat(readChunks(join(set, 'EVENTS', archiveFile), 1024 * 1024))
    expect(archiveFile).toBe(SNAPSHOT_FILES[format])
    expect((await readdir(join(set, 'EVENTS'))).sort()).toEqual(['backup.json', archiveFile].sort())
    const backupJson = await readFile(join(set, 'EVENTS', 'backup.json'), 'utf8')
    expect(backupJson).toMatch(/^\{\n {2}"config": \{\n {4}"name": "EVENTS",/)
    expect(Object.keys(JSON.parse(backupJson))).toEqual(['config', 'state'])
    expect((await readFile(join(set, 'EVENTS', archiveFile))).subarray(0, 10).toString('latin1')).toBe('\u00ff\u0006\u0000\u0000S2sTwO')
    const manifest = JSON.parse(await readFile(join(set, 'manifest.json'), 'utf8'))
    expect(manifest).toMatchObject({format: 'cimops-backup/1', serverVersion: nc.info!.version, mode: 'snapshot'})
    expect(manifest.streams[0].consumers).toEqual(expect.arrayContaining(['graph-projection', 'workflow-analytics']))
    expect(manifest.streams[0].files.map((f: {path: string}) => f.path)).toEqual(['EVENTS/backup.json', `EVENTS/${archiveFile}`])
    expect(manifest.streams[0].archiveFormat).toBe(format)
    expect(manifest.streams[0].lastTime).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/)

    const verified = await runCli(['backup', 'verify', set], home.env)
    expect(verified.code, verified.stderr).toBe(0)
    expect(verified.stdout).toMatch(/^Backup set intact/)
    const listed = await runCli(['backup', 'list', work, '--json'], home.env)
    expect(JSON.parse(listed.stdout).sets).toContainEqual(expect.objectContaining({name: 'events-snap', complete: true, status: 'verified', mode: 'snapshot', streams: ['EVENTS'], messages: 437}))

    await jsm.streams.delete('EVENTS')
    const restored = await cli(['restore', set, '--json'])
    expect(restored.code, restored.stderr).toBe(0)
    const restoreResult = JSON.parse(restored.stdout)
    expect(restoreResult.ok).toBe(true)
    expect(restoreResult.streams[0].checks.map((c: {name: string; ok: boolean}) => [c.name, c.ok])).toEqual([
      ['messages', true],
      ['first sequence', true],
      ['last sequence', true],
      ['consumers', true],
    ])
    expect(await streamDigest(nc, 'EVENTS')).toEqual(before)
    const consumers = []
    for await (const c of jsm.consumers.list('EVENTS')) consumers.push(c.name)
    expect(consumers).toEqual(expect.arrayContaining(manifest.streams[0].consumers))
  })

  it("reads natscli's backups: a stream backup directory and an account backup directory, no manifest", async () => {
    const before = await streamDigest(nc, 'EVENTS')
    // Our per-stream layout is natscli's: a copy of one stream directory is what `nats stream backup` leaves,
    // the set without manifest.json is what `nats account backup` leaves.
    const streamBackup = join(work, 'natscli-stream')
    const accountBackup = join(work, 'natscli-account')
    await cp(join(work, 'events-snap', 'EVENTS'), streamBackup, {recursive: true})
    await cp(join(work, 'events-snap'), accountBackup, {recursive: true})
    await rm(join(accountBackup, 'manifest.json'))
    for (const dir of [streamBackup, accountBackup]) {
      const verified = await runCli(['backup', 'verify', dir, '--json'], home.env)
      expect(verified.code, verified.stderr).toBe(0)
      expect(JSON.parse(verified.stdout)).toMatchObject({ok: true, source: 'natscli', streams: [{name: 'EVENTS', messages: 437}]})
    }
    await jsm.streams.delete('EVENTS')
    const restored = await cli(['restore', streamBackup, '--json'])
    expect(restored.code, restored.stderr).toBe(0)
    expect(JSON.parse(restored.stdout)).toMatchObject({ok: true, source: 'natscli', streams: [{target: 'EVENTS', messages: 437}]})
    expect(await streamDigest(nc, 'EVENTS')).toEqual(before)
  })

  it('KV bucket round trip (snapshot): keys, history and deletes come back', async () => {
    const kvm = new Kvm(nc)
    const kv = await kvm.create('cim_gpu_nodes', {history: 3})
    for (let i = 0; i < 30; i++) await kv.put(`node-${i % 7}`, JSON.stringify({state: i % 2 ? 'active' : 'draining', i}))
    await kv.delete('node-3')
    const before = await streamDigest(nc, 'KV_cim_gpu_nodes')
    const set = join(work, 'kv-snap')
    const created = await cli(['backup', 'create', '--stream', 'KV_cim_gpu_nodes', '--dir', set, '--quiet'])
    expect(created.code, created.stderr).toBe(0)
    await kvm.open('cim_gpu_nodes').then((bucket) => bucket.destroy())
    const restored = await cli(['restore', set, '--quiet'])
    expect(restored.code, restored.stderr).toBe(0)
    expect(await streamDigest(nc, 'KV_cim_gpu_nodes')).toEqual(before)
    const again = await kvm.open('cim_gpu_nodes')
    expect((await again.get('node-6'))?.json()).toEqual({state: 'active', i: 27})
    expect((await again.get('node-3'))?.operation).toBe('DEL')
  })

  it('object store round trip (snapshot): a 1 MiB model comes back byte for byte', async () => {
    const objm = new Objm(nc)
    const store = await objm.create('models')
    const model = randomBytes(1024 * 1024)
    await store.putBlob({name: 'llama-7b.bin', description: 'GPU model'}, model)
    const before = await streamDigest(nc, 'OBJ_models')
    const set = join(work, 'obj-snap')
    expect((await cli(['backup', 'create', '--stream', 'OBJ_models', '--dir', set, '--quiet'])).code).toBe(0)
    await store.destroy()
    const restored = await cli(['restore', set, '--quiet'])
    expect(restored.code, restored.stderr).toBe(0)
    expect(await streamDigest(nc, 'OBJ_models')).toEqual(before)
    const blob = await (await objm.open('models')).getBlob('llama-7b.bin')
    expect(blob && Buffer.from(blob).equals(model)).toBe(true)
  })

  it('a memory stream: snapshot mode refuses and suggests --logical; a logical set restores it under another name', async () => {
    await jsm.streams.add({name: 'CACHE', subjects: ['cache.>'], storage: 'memory'})
    for (let i = 0; i < 120; i++) await nc.request(`cache.${i % 9}`, JSON.stringify({i}), {headers: undefined, timeout: 2000})
    const before = await streamDigest(nc, 'CACHE')

    const refused = await cli(['backup', 'create', '--stream', 'CACHE', '--dir', join(work, 'cache-snap')])
    expect(refused.code).toBe(64)
    expect(refused.stderr).toMatch(/^cimops: cannot snapshot memory stream CACHE: .*--logical/)
    expect(await exists(join(work, 'cache-snap'))).toBe(false)
    expect(await exists(join(work, 'cache-snap.partial'))).toBe(false)

    const set = join(work, 'cache-logical')
    const created = await cli(['backup', 'create', '--logical', '--stream', 'CACHE', '--dir', set, '--json'])
    expect(created.code, created.stderr).toBe(0)
    expect(JSON.parse(created.stdout)).toMatchObject({mode: 'logical', messages: 120})
    expect((await readdir(join(set, 'CACHE'))).sort()).toEqual(['backup.json', 'messages.jsonl.gz'])
    const manifest = JSON.parse(await readFile(join(set, 'manifest.json'), 'utf8'))
    expect(manifest.streams[0].digest).toEqual({algorithm: 'sha256-subject-data', value: before.digest})
    expect((await runCli(['backup', 'verify', set], home.env)).code).toBe(0)

    // Snapshots cannot be renamed; logical sets can, but not onto subjects another stream owns.
    const snapshotAs = await cli(['restore', join(work, 'events-snap'), '--as', 'EVENTS2'])
    expect(snapshotAs.code).toBe(64)
    expect(snapshotAs.stderr).toContain('a snapshot cannot be restored under another name')
    const overlap = await cli(['restore', set, '--as', 'CACHE_COPY'])
    expect(overlap.code).toBe(64)
    expect(overlap.stderr).toMatch(/cannot restore CACHE as CACHE_COPY: its subject cache\.> overlaps stream CACHE/)
    await expect(jsm.streams.info('CACHE_COPY')).rejects.toThrow()

    await jsm.streams.delete('CACHE')
    const restored = await cli(['restore', set, '--as', 'CACHE_COPY', '--json'])
    expect(restored.code, restored.stderr).toBe(0)
    expect(JSON.parse(restored.stdout).streams[0]).toMatchObject({stream: 'CACHE', target: 'CACHE_COPY', ok: true})
    expect(await streamDigest(nc, 'CACHE_COPY')).toEqual(before)
    expect((await jsm.streams.info('CACHE_COPY')).config.storage).toBe('memory')
  })

  it('a logical round trip of a file stream keeps subjects, headers, data and order (sequences renumbered)', async () => {
    const set = join(work, 'events-logical')
    expect((await cli(['backup', 'create', '--logical', '--stream', 'EVENTS', '--dir', set, '--quiet'])).code).toBe(0)
    const before = await streamDigest(nc, 'EVENTS')
    const firstBefore = await jsm.streams.getMessage('EVENTS', {seq: 1})
    await jsm.streams.delete('EVENTS')
    const restored = await cli(['restore', set, '--json'])
    expect(restored.code, restored.stderr).toBe(0)
    expect(JSON.parse(restored.stdout).streams[0].checks.map((c: {name: string; ok: boolean}) => [c.name, c.ok])).toEqual([
      ['messages', true],
      ['content digest', true],
    ])
    expect(await streamDigest(nc, 'EVENTS')).toEqual(before)
    const firstAfter = await jsm.streams.getMessage('EVENTS', {seq: 1})
    expect(firstAfter?.header.get('Nats-Msg-Id')).toBe(firstBefore?.header.get('Nats-Msg-Id'))
  })

  it('refuses to restore over an existing stream without --force, leaving it untouched; --dry-run shows the plan; --force --yes replaces it', async () => {
    const set = join(work, 'events-snap')
    await jsm.streams.delete('EVENTS').catch(() => {})
    expect((await cli(['restore', set, '--quiet'])).code).toBe(0)
    await nc.request('cim.workflow.workflow.wf-after.created', '{"after":"backup"}', {timeout: 2000})
    const live = (await jsm.streams.info('EVENTS')).state
    expect(live.messages).toBe(438)

    const refused = await cli(['restore', set])
    expect(refused.code).toBe(64)
    expect(refused.stderr).toMatch(/^cimops: refusing to restore over existing stream EVENTS \(438 messages\).*--force/)
    expect((await jsm.streams.info('EVENTS')).state).toMatchObject({messages: 438, last_seq: live.last_seq})

    const dryRun = await cli(['restore', set, '--dry-run', '--force'])
    expect(dryRun.code, dryRun.stderr).toBe(0)
    expect(dryRun.stdout).toMatch(/^Dry run: nothing changed\./)
    expect(dryRun.stdout).toMatch(/EVENTS\s+EVENTS\s+replace \(delete 438 messages first\)\s+437/)

    // --force without --yes and without a terminal: refused, still untouched.
    const unconfirmed = await cli(['restore', set, '--force'])
    expect(unconfirmed.code).toBe(64)
    expect(unconfirmed.stderr).toContain('refusing without confirmation')
    expect((await jsm.streams.info('EVENTS')).state.messages).toBe(438)

    const replaced = await cli(['restore', set, '--force', '--yes', '--json'])
    expect(replaced.code, replaced.stderr).toBe(0)
    expect(JSON.parse(replaced.stdout).streams[0]).toMatchObject({action: 'replace', existingMessages: 438, ok: true})
    expect((await jsm.streams.info('EVENTS')).state.messages).toBe(437)
  })

  it('a flipped byte or a truncated archive: verify exits 65, restore refuses before contacting the server', async () => {
    const original = join(work, 'events-snap')
    const port = await closedPort()
    for (const damage of ['flip', 'truncate'] as const) {
      const set = join(work, `damaged-${damage}`)
      await cp(original, set, {recursive: true})
      const archiveFile = await archiveName(join(set, 'EVENTS'))
      const archive = join(set, 'EVENTS', archiveFile)
      const shown = `EVENTS/${archiveFile}`.replaceAll('.', '\\.')
      if (damage === 'flip') {
        const bytes = await readFile(archive)
        bytes[Math.floor(bytes.length / 2)] ^= 0x01
        await writeFile(archive, bytes)
      } else {
        await truncate(archive, (await stat(archive)).size - 1000)
      }
      const verified = await runCli(['backup', 'verify', set], home.env)
      expect(verified.code, damage).toBe(65)
      expect(verified.stderr).toMatch(new RegExp(damage === 'flip' ? `is corrupt: ${shown}: sha256 ` : `is corrupt: ${shown}: \\d+ bytes, the manifest says \\d+ \\(truncated\\)`))
      expect(verified.stdout).toMatch(new RegExp(`EVENTS\\s+${shown}\\s+FAIL`))
      // Pointed at a port where nothing listens: reaching the server would give 69, not 65.
      const restored = await runCli(['restore', set, '--force', '--yes', '--nats-url', `nats://127.0.0.1:${port}`], home.env)
      expect(restored.code, restored.stderr).toBe(65)
      expect(restored.stderr).toMatch(/nothing was restored/)
      const json = await runCli(['backup', 'verify', set, '--json'], home.env)
      expect(JSON.parse(json.stdout).error).toMatchObject({code: 'BAD_DATA', exit: 65})
    }
  })

  it('the whole set is protected: an edited manifest and an archive linked out of the set are corrupt (65, naming the file); list says which sets are verified', async () => {
    const original = join(work, 'events-snap')
    const port = await closedPort()
    const edited = join(work, 'edited-manifest')
    await cp(original, edited, {recursive: true})
    const manifest = JSON.parse(await readFile(join(edited, 'manifest.json'), 'utf8'))
    expect(manifest.checksum).toMatchObject({algorithm: 'sha256', value: expect.stringMatching(/^[0-9a-f]{64}$/)})
    manifest.streams[0].messages = 500
    manifest.streams[0].lastSeq = 500
    await writeFile(join(edited, 'manifest.json'), JSON.stringify(manifest, null, 2))

    const linked = join(work, 'linked-archive')
    await cp(original, linked, {recursive: true})
    const outside = join(work, 'outside.s2')
    const archiveFile = await archiveName(join(linked, 'EVENTS'))
    await cp(join(linked, 'EVENTS', archiveFile), outside)
    await rm(join(linked, 'EVENTS', archiveFile))
    await symlink(outside, join(linked, 'EVENTS', archiveFile))

    for (const [set, reason] of [
      [edited, /^cimops: .*edited-manifest\/manifest\.json is corrupt: its checksum does not match its content/],
      [linked, new RegExp(`^cimops: backup set .*linked-archive is corrupt: EVENTS/${archiveFile.replaceAll('.', '\\.')}: a link to .*outside\\.s2, outside the set`)],
    ] as const) {
      const verified = await runCli(['backup', 'verify', set], home.env)
      expect(verified.code, verified.stderr).toBe(65)
      expect(verified.stderr).toMatch(reason)
      expect(verified.stderr.trim().split('\n')).toHaveLength(1)
      const restored = await runCli(['restore', set, '--force', '--yes', '--nats-url', `nats://127.0.0.1:${port}`], home.env)
      expect(restored.code, restored.stderr).toBe(65)
    }

    const listed = await runCli(['backup', 'list', work, '--json'], home.env)
    expect(listed.code, listed.stderr).toBe(0)
    const status = Object.fromEntries(JSON.parse(listed.stdout).sets.map((s: {name: string; status: string; complete: boolean}) => [s.name, [s.status, s.complete]]))
    expect(status['events-snap']).toEqual(['verified', true]) // verified by the first test
    expect(status['kv-snap']).toEqual(['unverified', true]) // never verified
    expect(status['edited-manifest']).toEqual(['corrupt', false])
    expect(status['linked-archive']).toEqual(['corrupt', false])
    const text = await runCli(['backup', 'list', work], home.env)
    expect(text.stdout).toMatch(/edited-manifest .* CORRUPT/)
    expect(text.stdout).toMatch(/kv-snap .* unverified/)
    expect(text.stdout).toMatch(/^edited-manifest: its checksum does not match its content/m)
    await rm(edited, {recursive: true})
    await rm(linked, {recursive: true})

    // A set of an older cimops (no manifest checksum) still verifies and restores, and says so.
    const old = join(work, 'old-manifest')
    await cp(original, old, {recursive: true})
    const {checksum: _checksum, ...unsealed} = JSON.parse(await readFile(join(old, 'manifest.json'), 'utf8'))
    await writeFile(join(old, 'manifest.json'), JSON.stringify(unsealed, null, 2))
    const oldVerify = await runCli(['backup', 'verify', old], home.env)
    expect(oldVerify.code, oldVerify.stderr).toBe(0)
    expect(oldVerify.stdout).toContain('warning: made by an older cimops: manifest not self-checked')
    const oldRestore = await cli(['restore', old, '--dry-run', '--force'])
    expect(oldRestore.code, oldRestore.stderr).toBe(0)
    expect(oldRestore.stderr).toContain('warning: made by an older cimops: manifest not self-checked')
    await rm(old, {recursive: true})
  })

  it('an export cut at a line boundary is refused before anything is replayed (65); an export of an older cimops is read with a warning', async () => {
    const file = join(work, 'agent.jsonl')
    const exported = await cli(['replay', '--domain', 'agent', '--to-file', file, '--quiet'])
    expect(exported.code, exported.stderr).toBe(0)
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n')
    expect(JSON.parse(lines[0])).toEqual({format: 'cimops-replay/2'})
    const events = lines.slice(1, -1)
    expect(events.length).toBeGreaterThan(2)
    expect(JSON.parse(lines.at(-1)!)).toEqual({end: {events: events.length, digest: {algorithm: 'sha256-subject-data', value: expect.stringMatching(/^[0-9a-f]{64}$/)}}})

    const cut = join(work, 'agent-cut.jsonl')
    await writeFile(cut, `${[lines[0], ...events.slice(0, -1)].join('\n')}\n`)
    const imported = await cli(['replay', '--from-file', cut, '--to-stream', 'AGENT_CUT', '--create-target', '--subject-map', 'cim=cut'])
    expect(imported.code, imported.stderr).toBe(65)
    expect(imported.stderr).toMatch(new RegExp(`^cimops: ${cut.replaceAll('.', '\\.')} is cut short: it ends after ${events.length - 1} events without its end line`, 'm'))
    // Nothing is left behind (not even the empty target --create-target would make), and bad input is not resumable.
    await expect(jsm.streams.info('AGENT_CUT')).rejects.toThrow(/stream not found/)
    expect(imported.stderr).not.toContain('resume with')

    const old = join(work, 'agent-old.jsonl')
    await writeFile(old, `${events.join('\n')}\n`)
    const oldImport = await cli(['replay', '--from-file', old, '--to-stream', 'AGENT_OLD', '--create-target', '--subject-map', 'cim=old', '--quiet'])
    expect(oldImport.code, oldImport.stderr).toBe(0)
    expect(oldImport.stderr).toContain('agent-old.jsonl was made by an older cimops: it has no end line')
    expect((await jsm.streams.info('AGENT_OLD')).state.messages).toBe(events.length)
    await jsm.streams.delete('AGENT_OLD')
  })

  it('verify --deep restores into an ephemeral nats-server and compares with the manifest', async () => {
    const deep = await runCli(['backup', 'verify', join(work, 'kv-snap'), '--deep', '--json'], home.env)
    expect(deep.code, deep.stderr).toBe(0)
    const result = JSON.parse(deep.stdout)
    expect(result).toMatchObject({ok: true, deep: true})
    expect(result.streams[0].restore.checks.every((c: {ok: boolean}) => c.ok)).toBe(true)
  })
})
