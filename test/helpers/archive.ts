/**
 * Snapshot archives made by hand from the documented formats (reference/nats-fast-batch-and-backup-v2.md
 * §2.4): S2 framing with uncompressed frames, a ustar tar as nats-server < 2.15 writes, and a V2 archive.
 */
import {maskedCrc32c} from '../../src/lib/adapters/nats/backup-archive.js'

const STREAM_ID = Buffer.from([0xff, 0x06, 0x00, 0x00, ...Buffer.from('S2sTwO')])

/** One S2 frame: type, 3-byte length, masked CRC-32C of the uncompressed data, then the (possibly compressed) body. */
export function s2Frame(type: 0 | 1, uncompressed: Uint8Array, body: Uint8Array = uncompressed): Buffer {
  const header = Buffer.alloc(8)
  header[0] = type
  header.writeUIntLE(body.length + 4, 1, 3)
  header.writeUInt32LE(maskedCrc32c(uncompressed), 4)
  return Buffer.concat([header, body])
}

/** `data` as an S2 stream of uncompressed frames of `frame` bytes. */
export function s2Stream(data: Uint8Array, frame = 4096): Buffer {
  const parts: Buffer[] = [STREAM_ID]
  for (let offset = 0; offset < data.length; offset += frame) parts.push(s2Frame(1, data.subarray(offset, offset + frame)))
  return Buffer.concat(parts)
}

export function s2StreamOf(frames: Buffer[]): Buffer {
  return Buffer.concat([STREAM_ID, ...frames])
}

/** A ustar archive with the two zero blocks that end it. */
export function tarArchive(files: Array<[name: string, content: string | Uint8Array]>): Buffer {
  const parts: Buffer[] = []
  for (const [name, content] of files) {
    const data = Buffer.from(content)
    const header = Buffer.alloc(512)
    header.write(name, 0)
    header.write('0000600\0', 100)
    header.write('0000000\0', 108)
    header.write('0000000\0', 116)
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124)
    header.write('00000000000\0', 136)
    header.write('        ', 148)
    header.write('0', 156)
    header.write('ustar\0' + '00', 257)
    let sum = 0
    for (const byte of header) sum += byte
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
    parts.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

function uvarint(value: number): Buffer {
  const bytes: number[] = []
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  bytes.push(value)
  return Buffer.from(bytes)
}

function v2Entry(name: string, seq: number, body: string): Buffer {
  const nameBytes = Buffer.from(name)
  const data = Buffer.from(body)
  return Buffer.concat([uvarint(nameBytes.length), uvarint(2), uvarint(seq), uvarint(0), uvarint(data.length), nameBytes, data])
}

/** NATSARC1, state.json, the consumers, the messages (seq 1..n), and the sentinel unless `end` is false. */
export function v2Archive(opts: {messages: string[]; consumers?: string[]; consumerCount?: number; end?: boolean}): Buffer {
  const consumers = opts.consumers ?? []
  const state = {messages: opts.messages.length, first_seq: 1, last_seq: opts.messages.length, consumer_count: opts.consumerCount ?? consumers.length}
  return Buffer.concat([
    Buffer.from('NATSARC1'),
    v2Entry('state.json', 0, JSON.stringify(state)),
    ...consumers.map((name) => v2Entry(`consumers/${name}`, 0, JSON.stringify({config: {durable_name: name}, state: {}}))),
    ...opts.messages.map((body, i) => v2Entry(`cim.orders.${i}`, i + 1, body)),
    ...(opts.end === false ? [] : [Buffer.alloc(5)]),
  ])
}

/** The one snapshot archive in a stream's directory of a set: `stream.tar.s2`, or `stream.arc.s2` for a V2 archive (2.15+). */
export async function archiveName(streamDir: string): Promise<string> {
  const {readdir} = await import('node:fs/promises')
  const names = (await readdir(streamDir)).filter((name) => name === 'stream.tar.s2' || name === 'stream.arc.s2')
  if (names.length !== 1) throw new Error(`${streamDir} holds ${names.length === 0 ? 'no archive' : names.join(' and ')}`)
  return names[0]
}
