import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {inspectArchive, maskedCrc32c} from '../../../src/lib/adapters/nats/backup-archive.js'
import {assertServerReadsArchive, checkArchive} from '../../../src/lib/backup/archive.js'
import {ExitCode, UsageError} from '../../../src/lib/core/errors.js'
import {s2Frame, s2Stream, s2StreamOf, tarArchive, v2Archive} from '../../helpers/archive.js'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cimops-unit-archive-'))
})
afterEach(() => rm(root, {recursive: true, force: true}))

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

async function file(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(root, name)
  await writeFile(path, bytes)
  return path
}

const events = tarArchive([
  ['meta.inf', JSON.stringify({name: 'EVENTS', subjects: ['cim.>'], created: '2026-11-22T03:00:00Z'})],
  ['msgs/1.blk', Buffer.alloc(3000, 7)],
])

describe('snapshot archive, read end to end', () => {
  it('CRC-32C is the Castagnoli checksum, masked as the framing format stores it', () => {
    // Mask: rotate right by 15, add 0xa282ead8.
    const masked = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa2_82_ea_d8) >>> 0
    // The check value, and RFC 3720 B.4's 32-byte vectors (two full 16-byte steps, no tail).
    expect(maskedCrc32c(Buffer.from('123456789'))).toBe(masked(0xe3_06_92_83))
    expect(maskedCrc32c(Buffer.alloc(32, 0))).toBe(masked(0x8a_91_36_aa))
    expect(maskedCrc32c(Buffer.alloc(32, 0xff))).toBe(masked(0x62_a8_ab_43))
    expect(maskedCrc32c(Buffer.from(Array.from({length: 32}, (_, i) => i)))).toBe(masked(0x46_dd_79_4e))
    expect(maskedCrc32c(Buffer.from(Array.from({length: 32}, (_, i) => 31 - i)))).toBe(masked(0x11_3f_db_5c))
    // Every length around the 16-byte steps, at odd offsets, against the bit-at-a-time definition.
    const bitwise = (data: Uint8Array) => {
      let c = 0xff_ff_ff_ff
      for (const byte of data) {
        c ^= byte
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82_f6_3b_78 : c >>> 1
      }
      return (c ^ 0xff_ff_ff_ff) >>> 0
    }
    const bytes = Buffer.from(Array.from({length: 300}, (_, i) => (i * 167 + 13) & 0xff))
    for (let length = 0; length <= 70; length++) {
      const data = bytes.subarray(length % 7, (length % 7) + length)
      expect(maskedCrc32c(data)).toBe(masked(bitwise(data)))
    }
    // Longer than the 64 KiB slices it is computed in, ending mid-step.
    const long = Buffer.from(Array.from({length: 3 * 65_536 + 23}, (_, i) => (i * 31 + (i >> 9)) & 0xff))
    expect(maskedCrc32c(long)).toBe(masked(bitwise(long)))
  })

  it('an intact legacy tar archive: format, files and the stream meta.inf names', async () => {
    expect(await inspectArchive(once(s2Stream(events)))).toEqual({format: 'tar', entries: 2, stream: 'EVENTS', bytes: events.length})
    const ok = await checkArchive(await file('ok.s2', s2Stream(events)), 'EVENTS')
    expect(ok.problem).toBeUndefined()
    expect(ok.summary?.format).toBe('tar')
    expect((await checkArchive(await file('other.s2', s2Stream(events)), 'ORDERS')).problem).toBe('the archive holds stream "EVENTS", not ORDERS')
  })

  it('cut at a frame boundary (every frame intact): the missing end marker is found', async () => {
    const whole = s2Stream(events, 1024)
    // Stream id (10 bytes) + frames of 8+1024 bytes: keep the first three frames only.
    const cut = whole.subarray(0, 10 + 3 * 1032)
    expect((await checkArchive(await file('cut.s2', cut), 'EVENTS')).problem).toMatch(/^truncated: the file msgs\/1\.blk in the tar ends early/)
    const noEnd = s2Stream(events.subarray(0, events.length - 1024))
    expect((await checkArchive(await file('noend.s2', noEnd), 'EVENTS')).problem).toMatch(/^truncated: the tar ends after 2 files, without its end marker/)
  })

  it('cut inside a frame, a flipped bit, or not S2 at all', async () => {
    const whole = s2Stream(events, 1024)
    expect((await checkArchive(await file('mid.s2', whole.subarray(0, whole.length - 100)), 'EVENTS')).problem).toMatch(/^truncated: the file ends inside the frame at byte \d+/)
    const flipped = Buffer.from(whole)
    flipped[600] ^= 0x10
    expect((await checkArchive(await file('flip.s2', flipped), 'EVENTS')).problem).toBe('checksum mismatch in the frame at byte 10')
    expect((await checkArchive(await file('plain', Buffer.from('plain text')), 'EVENTS')).problem).toBe('not an S2 archive (bad header)')
    expect((await checkArchive(await file('junk.s2', s2Stream(Buffer.alloc(2048, 0x41))), 'EVENTS')).problem).toMatch(/^not a tar archive, nor a V2 archive/)
  })

  it('compressed frames: literals, copies and S2 repeat codes decode, and the CRC covers the result', async () => {
    // uvarint 12 | literal "abcd" | copy1 offset 4 length 4 | repeat (copy1 offset 0) length 4 -> "abcd" x 3
    const block = Buffer.from([12, 0x0c, ...Buffer.from('abcd'), 0x01, 0x04, 0x01, 0x00])
    const text = Buffer.from('abcdabcdabcd')
    const frame = s2Frame(0, text, block)
    // A V2 archive whose one message body comes from the compressed frame.
    const head = v2Archive({messages: []}).subarray(0, -5)
    // Entry header: name length 12, time, seq 1, no headers, a 12-byte body (the compressed frame).
    const message = Buffer.concat([Buffer.from([12, 2, 1, 0, 12]), Buffer.from('cim.orders.1')])
    const archive = s2StreamOf([s2Frame(1, head), s2Frame(1, message), frame, s2Frame(1, Buffer.alloc(5))])
    expect(await inspectArchive(once(archive))).toMatchObject({format: 'v2', messages: 1})
    const wrong = s2StreamOf([s2Frame(1, head), s2Frame(1, message), s2Frame(0, Buffer.from('abcdabcdabcX'), block), s2Frame(1, Buffer.alloc(5))])
    await expect(inspectArchive(once(wrong))).rejects.toThrow(/checksum mismatch/)
  })

  it('compressed frames: long literals, long and overlapping copies, 2- and 4-byte offsets, a long repeat; broken tags are found', async () => {
    /** A V2 archive whose one message body is the frame. */
    const withBody = (frame: Buffer, bodySize: number) => {
      const head = v2Archive({messages: []}).subarray(0, -5)
      const message = Buffer.concat([Buffer.from([12, 2, 1, 0, bodySize & 0x7f | 0x80, bodySize >>> 7]), Buffer.from('cim.orders.1')])
      return s2StreamOf([s2Frame(1, head), s2Frame(1, message), frame, s2Frame(1, Buffer.alloc(5))])
    }
    // The block, tag by tag, and what each tag means (a copy repeats the byte `offset` back, one at a time).
    const tags: number[] = []
    const text: number[] = []
    const literal = (bytes: Buffer, tag: number[]) => {
      tags.push(...tag, ...bytes)
      text.push(...bytes)
    }
    const copy = (offset: number, length: number, tag: number[]) => {
      tags.push(...tag)
      for (let i = 0; i < length; i++) text.push(text[text.length - offset])
    }
    literal(Buffer.from('abc'), [2 << 2])
    literal(Buffer.from('ABCDEFGHIJKLMNOP'), [15 << 2])
    literal(Buffer.from('0123456789'.repeat(7)), [0xf0, 69]) // 1 + 69 bytes: one length byte
    copy(70, 40, [(39 << 2) | 2, 70, 0]) // 2-byte offset
    copy(10, 11, [(7 << 2) | 1, 10]) // 1-byte offset, overlapping
    copy(1, 64, [(63 << 2) | 3, 1, 0, 0, 0]) // 4-byte offset, repeats the last byte
    copy(1, 10, [(5 << 2) | 1, 0, 2]) // repeat the last offset for 2 + 8 bytes
    literal(Buffer.from('end'), [2 << 2])
    expect(text.length).toBe(217)
    const block = Buffer.from([217 & 0x7f | 0x80, 217 >>> 7, ...tags])
    expect(await inspectArchive(once(withBody(s2Frame(0, Buffer.from(text), block), 217)))).toMatchObject({format: 'v2', messages: 1})
    for (const at of [2, 18, 100, 160, 200, 216]) {
      const other = Buffer.from(text)
      other[at] ^= 1
      await expect(inspectArchive(once(withBody(s2Frame(0, other, block), 217)))).rejects.toThrow(/checksum mismatch/)
    }

    const cut = Buffer.from([10, 0x00, 0x61, 0x02, 0x01]) // a 2-byte-offset copy without its offset
    await expect(inspectArchive(once(withBody(s2Frame(0, Buffer.alloc(10), cut), 10)))).rejects.toThrow(/s2: corrupt input in the frame at byte \d+ \(ends inside a tag\)/)
    const before = Buffer.from([9, 0x00, 0x61, (4 << 2) | 1, 5]) // 'a', then a copy from 5 bytes back
    await expect(inspectArchive(once(withBody(s2Frame(0, Buffer.alloc(9), before), 9)))).rejects.toThrow(/s2: corrupt input in the frame at byte \d+ \(bad copy\)/)
  })

  it('V2 (NATSARC1): intact, without its sentinel, and with consumers missing', async () => {
    const intact = v2Archive({messages: ['one', 'two'], consumers: ['orders-projection']})
    expect(await inspectArchive(once(s2Stream(intact)))).toEqual({format: 'v2', entries: 4, messages: 2, bytes: intact.length})
    await expect(inspectArchive(once(s2Stream(v2Archive({messages: ['one', 'two'], end: false}))))).rejects.toThrow(/truncated: the archive ends after 3 entries \(2 messages\), without its end marker/)
    await expect(inspectArchive(once(s2Stream(v2Archive({messages: ['one'], consumerCount: 2}))))).rejects.toThrow(/expected consumer 1 of 2/)
  })

  it('V2 entries cut across frames anywhere parse alike; a cut anywhere in the last entry is found', async () => {
    // 150 messages: sequences and body sizes past 127 take two-byte varints, which frames of 1 to 7 bytes split.
    const archive = v2Archive({messages: Array.from({length: 150}, (_, i) => 'x'.repeat(i * 3)), consumers: ['orders-projection']})
    const whole = await inspectArchive(once(s2Stream(archive)))
    expect(whole).toEqual({format: 'v2', entries: 152, messages: 150, bytes: archive.length})
    for (const frame of [1, 2, 3, 7, 64]) expect(await inspectArchive(once(s2Stream(archive, frame)))).toEqual(whole)
    const lastEntry = 5 + 2 + 'cim.orders.149'.length + 149 * 3 // five varints (seq and size two bytes each), name, body
    for (let cut = archive.length - 5 - lastEntry; cut < archive.length; cut++) {
      // The message counts once its header and name are read; the entry once its body is.
      const [entries, messages] = cut < archive.length - 5 - 149 * 3 ? [151, 149] : cut < archive.length - 5 ? [151, 150] : [152, 150]
      await expect(inspectArchive(once(s2Stream(archive.subarray(0, cut))))).rejects.toMatchObject({
        why: expect.stringMatching(new RegExp(`^truncated: the archive ends after ${entries} entries \\(${messages} messages\\), without its end marker`)),
      })
    }
  })

  it('a V2 archive into a server older than 2.15 is refused before anything changes (exit 64); 2.15 and tar archives pass', async () => {
    const v2 = await file('v2.s2', s2Stream(v2Archive({messages: ['one']})))
    const refused = await assertServerReadsArchive(v2, 'EVENTS', {version: '2.9.10', address: '127.0.0.1:4222'}).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(UsageError)
    expect((refused as UsageError).exit).toBe(ExitCode.USAGE)
    expect((refused as UsageError).line).toBe(
      'nats-server 2.9.10 at 127.0.0.1:4222 cannot restore EVENTS: its archive is a backup V2 archive (NATSARC1), which needs nats-server 2.15.0 or newer (nothing was changed; restore into a newer server, or take a logical backup (cimops backup create --logical), which any server restores)',
    )
    await expect(assertServerReadsArchive(v2, 'EVENTS', {version: '2.14.3', address: 'x'})).rejects.toThrow(/needs nats-server 2\.15\.0/)
    expect(await assertServerReadsArchive(v2, 'EVENTS', {version: '2.15.1', address: 'x'})).toBe('v2')
    expect(await assertServerReadsArchive(await file('tar.s2', s2Stream(events)), 'EVENTS', {version: '2.9.10', address: 'x'})).toBe('tar')
  })
})
