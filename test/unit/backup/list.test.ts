import {createHash} from 'node:crypto'
import {cp, mkdir, mkdtemp, readFile, realpath, rename, rm, symlink, truncate, utimes, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {ContentDigest} from '../../../src/lib/backup/digest.js'
import {FileSink, readChunks} from '../../../src/lib/backup/file-sink.js'
import {assertIntact, checkFiles, loadSet} from '../../../src/lib/backup/integrity.js'
import {listBackups} from '../../../src/lib/backup/list.js'
import {digestMessagesFile, readMessagesFile} from '../../../src/lib/backup/logical.js'
import {type Manifest, MANIFEST_FORMAT, PARTIAL_MARKER, sealManifest} from '../../../src/lib/backup/manifest.js'
import {verifySet} from '../../../src/lib/backup/verify.js'
import {DataError, ExitCode} from '../../../src/lib/core/errors.js'
import {s2Stream, tarArchive} from '../../helpers/archive.js'

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex')

const gunzipText = async (path: string) => gunzipSync(await readFile(path)).toString('utf8')

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cimops-unit-backup-'))
})
afterEach(() => rm(root, {recursive: true, force: true}))

/**
 * A small set written by hand in the documented layout: as this version writes it (a sealed manifest,
 * messages ending with their end line), or with `old` as cimops did before (neither).
 */
async function writeSet(name: string, mode: 'snapshot' | 'logical', {old = false} = {}): Promise<string> {
  const dir = join(root, name)
  await mkdir(join(dir, 'EVENTS'), {recursive: true})
  const backupJson = JSON.stringify({config: {name: 'EVENTS', subjects: ['cim.>'], storage: 'file', num_replicas: 1}, state: {messages: 2, bytes: 10, first_seq: 1, last_seq: 2}}, null, 2)
  const messages = [
    {seq: 1, time: '2026-11-22T03:00:00.000000001Z', subject: 'cim.a.created', headers: {'Nats-Msg-Id': ['e1']}, data: Buffer.from('one').toString('base64')},
    {seq: 2, time: '2026-11-22T03:00:01.000000001Z', subject: 'cim.a.updated', data: Buffer.from('two').toString('base64')},
  ]
  const digest = new ContentDigest()
  for (const m of messages) digest.update(m.subject, Buffer.from(m.data, 'base64'))
  const endLine = old ? '' : `${JSON.stringify({end: {messages: 2, digest: {algorithm: 'sha256-subject-data', value: digest.summary().digest}}})}\n`
  const second =
    mode === 'snapshot'
      ? {file: 'stream.tar.s2', data: s2Stream(tarArchive([['meta.inf', JSON.stringify({name: 'EVENTS'})], ['msgs/1.blk', Buffer.alloc(2000, 1)]]), 1024)}
      : {file: 'messages.jsonl.gz', data: gzipSync(messages.map((m) => `${JSON.stringify(m)}\n`).join('') + endLine)}
  await writeFile(join(dir, 'EVENTS', 'backup.json'), backupJson)
  await writeFile(join(dir, 'EVENTS', second.file), second.data)
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    cimopsVersion: '0.1.0',
    serverVersion: '2.9.10',
    mode,
    createdAt: '2026-11-22T03:00:00.000Z',
    completedAt: '2026-11-22T03:00:02.000Z',
    durationSeconds: 2,
    options: {consumers: true, check: false},
    streams: [
      {
        name: 'EVENTS',
        dir: 'EVENTS',
        storage: 'file',
        replicas: 1,
        subjects: ['cim.>'],
        messages: 2,
        bytes: 10,
        firstSeq: 1,
        lastSeq: 2,
        consumers: [],
        files: [
          {path: 'EVENTS/backup.json', sha256: sha256(backupJson), size: Buffer.byteLength(backupJson)},
          {path: `EVENTS/${second.file}`, sha256: sha256(second.data), size: second.data.length},
        ],
        ...(mode === 'logical' ? {digest: {algorithm: 'sha256-subject-data' as const, value: digest.summary().digest}} : {}),
        durationSeconds: 1,
      },
    ],
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(old ? manifest : sealManifest(manifest), null, 2))
  return dir
}

async function editManifest(dir: string, edit: (manifest: Manifest) => void, {seal = true} = {}): Promise<void> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest
  edit(manifest)
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(seal ? sealManifest(manifest) : manifest, null, 2))
}

describe('backup set files', () => {
  it('an intact snapshot set passes every check', async () => {
    const set = await loadSet(await writeSet('s1', 'snapshot'))
    const checks = await checkFiles(set)
    expect(checks.map((c) => [c.path, c.ok])).toEqual([
      ['EVENTS/backup.json', true],
      ['EVENTS/stream.tar.s2', true],
    ])
    expect(() => assertIntact(set, checks)).not.toThrow()
  })

  it('a flipped byte, a truncated archive and a missing file are each found, and refused with exit 65', async () => {
    const dir = await writeSet('s1', 'snapshot')
    const archive = join(dir, 'EVENTS', 'stream.tar.s2')
    const bytes = await readFile(archive)
    bytes[12] ^= 0xff
    await writeFile(archive, bytes)
    let checks = await checkFiles(await loadSet(dir))
    expect(checks[1]).toMatchObject({ok: false, problem: expect.stringMatching(/^sha256 .* the manifest says/)})

    await truncate(archive, 5)
    checks = await checkFiles(await loadSet(dir))
    expect(checks[1]).toMatchObject({ok: false, problem: expect.stringMatching(/^5 bytes, the manifest says \d+ \(truncated\)$/)})

    await rm(join(dir, 'EVENTS', 'backup.json'))
    const set = await loadSet(dir)
    checks = await checkFiles(set)
    expect(checks[0]).toMatchObject({ok: false, problem: 'missing'})
    const error = (() => {
      try {
        assertIntact(set, checks)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(DataError)
    expect((error as DataError).exit).toBe(ExitCode.DATA)
    expect((error as DataError).line).toMatch(/backup set .* is corrupt: EVENTS\/backup.json: missing \(and 1 more\)/)
  })

  it('an archive that is not S2 fails even with a matching checksum', async () => {
    const dir = await writeSet('s1', 'snapshot')
    const archive = join(dir, 'EVENTS', 'stream.tar.s2')
    await writeFile(archive, 'plain text, no S2 header')
    await editManifest(dir, (manifest) => (manifest.streams[0].files[1] = {path: 'EVENTS/stream.tar.s2', sha256: sha256('plain text, no S2 header'), size: 24}))
    const checks = await checkFiles(await loadSet(dir))
    expect(checks[1]).toMatchObject({ok: false, problem: 'not an S2 archive (bad header)'})
  })

  it('an archive cut short whose manifest records the cut size and sha256 still fails: the whole archive is decompressed and checked', async () => {
    const dir = await writeSet('s1', 'snapshot')
    const archive = join(dir, 'EVENTS', 'stream.tar.s2')
    // Keep the stream id and two whole frames: every byte left is valid S2, the tar just stops.
    const cut = (await readFile(archive)).subarray(0, 10 + 2 * (8 + 1024))
    await writeFile(archive, cut)
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest
    // A forger who also re-seals the manifest: only reading the archive itself can tell.
    manifest.streams[0].files[1] = {path: 'EVENTS/stream.tar.s2', sha256: sha256(cut), size: cut.length}
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(sealManifest(manifest)))
    const set = await loadSet(dir)
    const checks = await checkFiles(set)
    expect(checks[1]).toMatchObject({ok: false, problem: expect.stringMatching(/^truncated: the file msgs\/1\.blk in the tar ends early/)})
    const verified = await verifySet({set, deep: false, timeoutMs: 1000})
    expect(verified.ok).toBe(false)
    expect(verified.problems[0]).toMatch(/^EVENTS\/stream\.tar\.s2: truncated: /)
  })

  it('an incomplete set is refused by name and as .partial; list shows it INCOMPLETE, newest first', async () => {
    const complete = await writeSet('20261122T030000Z', 'snapshot')
    const partial = await writeSet('20261122T040000Z', 'snapshot')
    await rm(join(partial, 'manifest.json'))
    await writeFile(join(partial, PARTIAL_MARKER), JSON.stringify({pid: 1, startedAt: '2026-11-22T04:00:00.000Z', mode: 'snapshot'}))
    await rename(partial, `${partial}.partial`)

    await expect(loadSet(partial)).rejects.toThrow(/is an incomplete backup set: only .*\.partial exists/)
    await expect(loadSet(`${partial}.partial`)).rejects.toThrow(/is an incomplete backup set/)
    await expect(loadSet('20261122T040000Z', root)).rejects.toBeInstanceOf(DataError)
    expect((await loadSet('20261122T030000Z', root)).dir).toBe(complete)

    const sets = await listBackups(root, new Date('2026-11-22T05:00:00Z'))
    expect(sets.map((s) => [s.name, s.status, s.mode, s.streams, s.ageSeconds])).toEqual([
      ['20261122T040000Z.partial', 'incomplete', 'snapshot', ['EVENTS'], 3600],
      ['20261122T030000Z', 'unverified', 'snapshot', ['EVENTS'], 7200],
    ])
    expect(await listBackups(join(root, 'nope'))).toEqual([])
  })

  it('a stream directory of a set is not read alone as natscli\'s backup: the set is named, with the stream to choose (64)', async () => {
    const dir = await writeSet('s-stream', 'snapshot')
    await expect(loadSet(join(dir, 'EVENTS'))).rejects.toMatchObject({
      exit: 64,
      what: `${join(dir, 'EVENTS')} is the stream EVENTS of the backup set ${dir}`,
      hint: `give the set, ${dir}; restore takes --stream EVENTS for that stream alone`,
    })
    // A copy of it out of the set is natscli's layout, and is read as such.
    await cp(join(dir, 'EVENTS'), join(root, 'copied'), {recursive: true})
    expect((await loadSet(join(root, 'copied'))).source).toBe('natscli')
  })

  it('a manifest pointing outside its set is corrupt', async () => {
    const dir = await writeSet('s1', 'snapshot')
    await editManifest(dir, (manifest) => (manifest.streams[0].files[0].path = '../../etc/passwd'))
    await expect(loadSet(dir)).rejects.toThrow(/unsafe path/)
  })

  it('a logical set: messages and digest are re-checked from the file; a damaged line is bad data', async () => {
    const dir = await writeSet('l1', 'logical')
    const set = await loadSet(dir)
    const result = await verifySet({set, deep: false, timeoutMs: 1000})
    expect(result.ok).toBe(true)
    expect(result.streams[0].content).toEqual({messages: 2, digestOk: true})
    const messages = []
    for await (const m of readMessagesFile(join(dir, 'EVENTS', 'messages.jsonl.gz'))) messages.push(m)
    expect(messages.map((m) => [m.seq, m.subject, Buffer.from(m.data).toString(), m.headers])).toEqual([
      [1, 'cim.a.created', 'one', [['Nats-Msg-Id', ['e1']]]],
      [2, 'cim.a.updated', 'two', undefined],
    ])

    const bad = join(root, 'bad.jsonl.gz')
    await writeFile(bad, gzipSync('{"seq":1,"subject":"a","data":"eA=="}\nnot json\n'))
    await expect(digestMessagesFile(bad)).rejects.toThrow(/line 2 is not JSON/)
    await writeFile(bad, Buffer.from('not gzip at all'))
    await expect(digestMessagesFile(bad)).rejects.toBeInstanceOf(DataError)
  })
})

describe('backup set integrity (issue 15 item 17)', () => {
  it('a manifest whose statistics were edited is corrupt: its own checksum no longer matches', async () => {
    const dir = await writeSet('s1', 'snapshot')
    expect((await loadSet(dir)).warnings).toEqual([])
    await editManifest(dir, (manifest) => (manifest.streams[0].messages = 2000), {seal: false})
    const error = await loadSet(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DataError)
    expect((error as DataError).line).toMatch(/manifest\.json is corrupt: its checksum does not match its content/)
  })

  it('a manifest of an older cimops (no checksum) still loads and verifies, with a warning saying so', async () => {
    const dir = await writeSet('old', 'logical', {old: true})
    const set = await loadSet(dir)
    expect(set.warnings).toEqual(['made by an older cimops: manifest not self-checked'])
    const result = await verifySet({set, deep: false, timeoutMs: 1000})
    expect(result.ok).toBe(true)
    expect(result.warnings).toEqual(['made by an older cimops: manifest not self-checked', 'EVENTS/messages.jsonl.gz: made by an older cimops: no end line with its count and digest'])
  })

  it('an archive replaced by a link to a file outside the set is refused; a link inside the set is not', async () => {
    const dir = await writeSet('s1', 'snapshot')
    const archive = join(dir, 'EVENTS', 'stream.tar.s2')
    const outside = join(root, 'elsewhere.s2')
    await rename(archive, outside)
    await symlink(outside, archive)
    const checks = await checkFiles(await loadSet(dir))
    expect(checks[1]).toMatchObject({ok: false, problem: `a link to ${await realpath(outside)}, outside the set`})
    expect((await verifySet({set: await loadSet(dir), deep: false, timeoutMs: 1000})).ok).toBe(false)

    await rm(archive)
    await rename(outside, join(dir, 'EVENTS', 'real.s2'))
    await symlink('real.s2', archive)
    expect((await checkFiles(await loadSet(dir)))[1]).toMatchObject({ok: true})

    // The manifest itself, or a stream directory, pointing elsewhere: the same.
    await cp(join(dir, 'EVENTS'), join(root, 'EVENTS-elsewhere'), {recursive: true, verbatimSymlinks: true})
    await rm(join(dir, 'EVENTS'), {recursive: true})
    await symlink(join(root, 'EVENTS-elsewhere'), join(dir, 'EVENTS'))
    expect((await checkFiles(await loadSet(dir))).every((c) => !c.ok && /outside the set/.test(c.problem ?? ''))).toBe(true)
    await rename(join(dir, 'manifest.json'), join(root, 'manifest.json'))
    await symlink(join(root, 'manifest.json'), join(dir, 'manifest.json'))
    await expect(loadSet(dir)).rejects.toThrow(/manifest\.json: a link to .*, outside the set/)
  })

  it('a messages file cut at a line boundary: refused in a set of this version, read with a warning in an older one', async () => {
    const lines = (await gunzipText(join(await writeSet('l1', 'logical'), 'EVENTS', 'messages.jsonl.gz'))).split('\n')
    expect(JSON.parse(lines[2])).toMatchObject({end: {messages: 2}})
    const cut = join(root, 'cut.jsonl.gz')
    await writeFile(cut, gzipSync(`${lines[0]}\n`))
    await expect(digestMessagesFile(cut, {endLine: 'required'})).rejects.toThrow(/cut\.jsonl\.gz is cut short: it ends after 1 messages without its end line/)
    expect(await digestMessagesFile(cut)).toMatchObject({messages: 1, endLine: false})
    // An end line that does not match what precedes it.
    await writeFile(cut, gzipSync(`${lines[0]}\n${lines[2]}\n`))
    await expect(digestMessagesFile(cut)).rejects.toThrow(/1 messages, its end line says 2/)
    await writeFile(cut, gzipSync(`${lines[0]}\n${lines[2]}\n${lines[1]}\n`))
    await expect(digestMessagesFile(cut)).rejects.toThrow(/line 3 comes after the end line/)
  })

  it('list: unverified until verify finds the set intact, verified then, unverified again once a file changes; corrupt sets are not complete', async () => {
    const good = await writeSet('20261122T010000Z', 'logical')
    const edited = await writeSet('20261122T020000Z', 'snapshot')
    const linked = await writeSet('20261122T030000Z', 'snapshot')
    const short = await writeSet('20261122T040000Z', 'snapshot')
    await editManifest(edited, (manifest) => (manifest.streams[0].lastSeq = 99), {seal: false})
    await rename(join(linked, 'EVENTS', 'stream.tar.s2'), join(root, 'outside.s2'))
    await symlink(join(root, 'outside.s2'), join(linked, 'EVENTS', 'stream.tar.s2'))
    await truncate(join(short, 'EVENTS', 'stream.tar.s2'), 4)
    const statuses = async () => Object.fromEntries((await listBackups(root)).map((s) => [s.name, [s.status, s.complete, s.problem]]))
    expect(await statuses()).toEqual({
      '20261122T010000Z': ['unverified', true, undefined],
      '20261122T020000Z': ['corrupt', false, expect.stringMatching(/its checksum does not match its content/)],
      '20261122T030000Z': ['corrupt', false, expect.stringMatching(/^EVENTS\/stream\.tar\.s2: a link to .*outside\.s2, outside the set$/)],
      '20261122T040000Z': ['corrupt', false, expect.stringMatching(/^EVENTS\/stream\.tar\.s2: 4 bytes, the manifest says \d+$/)],
    })
    expect((await verifySet({set: await loadSet(good), deep: false, timeoutMs: 1000})).ok).toBe(true)
    expect((await statuses())['20261122T010000Z']).toEqual(['verified', true, undefined])
    // Same size, other bytes: only a verify finds that; list must stop vouching for the set.
    const later = new Date(Date.now() + 5000)
    await utimes(join(good, 'EVENTS', 'backup.json'), later, later)
    expect((await statuses())['20261122T010000Z']).toEqual(['unverified', true, undefined])
  })
})

describe('FileSink', () => {
  it('writes chunks in order, hashes them, fsyncs, and never overwrites', async () => {
    const path = join(root, 'out.bin')
    const sink = await FileSink.create(path)
    const chunks = Array.from({length: 300}, (_, i) => Buffer.alloc(1000 + i, i % 256))
    for (const chunk of chunks) sink.push(chunk)
    const result = await sink.finish()
    const all = Buffer.concat(chunks)
    expect(result).toEqual({size: all.length, sha256: sha256(all)})
    expect((await readFile(path)).equals(all)).toBe(true)
    await expect(FileSink.create(path)).rejects.toMatchObject({code: 'EEXIST'})
  })
  it('reads a file back in fixed-size chunks, the last one short', async () => {
    const path = join(root, 'in.bin')
    const data = Buffer.from(Array.from({length: 65536 * 2 + 100}, (_, i) => i % 251))
    await writeFile(path, data)
    const chunks: Uint8Array[] = []
    for await (const chunk of readChunks(path, 65536)) chunks.push(chunk)
    expect(chunks.map((c) => c.length)).toEqual([65536, 65536, 100])
    expect(Buffer.concat(chunks).equals(data)).toBe(true)
  })
})

describe('listBackups beside a backup being written', () => {
  /** Bounded: enough rounds for the scan to meet a file or a set directory mid-move on every run seen. */
  const ROUNDS = 150

  it('never fails when a set finishes (its .partial directory renamed) or its files move while it is listed', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const partial = join(root, `2026120${round % 10}T000000Z-${round}.partial`)
      await mkdir(join(partial, 'KV_cim_gpu_health'), {recursive: true})
      await writeFile(join(partial, PARTIAL_MARKER), JSON.stringify({startedAt: new Date().toISOString(), mode: 'snapshot'}))
      await writeFile(join(partial, 'KV_cim_gpu_health', 'stream.tar.s2'), 'x'.repeat(64))
      const listing = listBackups(root)
      await rename(join(partial, 'KV_cim_gpu_health', 'stream.tar.s2'), join(partial, 'KV_cim_gpu_health', 'stream.arc.s2'))
      await rename(partial, partial.slice(0, -'.partial'.length))
      const sets = await listing
      expect(sets.every((set) => set.name.includes('T000000Z-'))).toBe(true)
    }
  })
})
