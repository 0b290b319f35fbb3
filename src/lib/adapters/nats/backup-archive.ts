/**
 * The snapshot archive (`stream.tar.s2`) read end to end, offline: every S2 frame decompressed and its
 * CRC-32C checked, then the structure of what is inside (reference/nats-fast-batch-and-backup-v2.md §2.4-2.7):
 *
 * - legacy (nats-server < 2.15): a tar of the stream's store; every header checksummed, every entry's
 *   data present, the two zero blocks that end a tar; `meta.inf` names the stream (the server refuses
 *   a restore whose name differs).
 * - V2 (2.15+, ADR-63): `NATSARC1`, then `state.json`, the consumers, the messages in ascending
 *   sequence, and the all-zero sentinel; only servers of API level 5 (2.15) can restore it.
 *
 * A truncated file, a flipped bit or a missing end is found here, before a restore deletes anything.
 */
import {DataError} from '../../core/errors.js'

export type ArchiveFormat = 'tar' | 'v2'

export interface ArchiveSummary {
  format: ArchiveFormat
  /** Decompressed bytes. */
  bytes: number
  /** tar: files; V2: entries before the sentinel. */
  entries: number
  /** tar: the stream name in meta.inf. */
  stream?: string
  /** V2: message entries. */
  messages?: number
}

/** S2 blocks decode to at most 4 MiB (klauspost/compress s2 maxBlockSize). */
const MAX_BLOCK = 4 * 1024 * 1024
const MAX_CHUNK = MAX_BLOCK + MAX_BLOCK / 16 + 64
const STREAM_IDS = ['S2sTwO', 'sNaPpY']
const V2_MAGIC = 'NATSARC1'
/** Entry names and JSON entries (state.json, consumers, meta.inf) read into memory are capped at this. */
const MAX_NAME = 1024 * 1024
const MAX_JSON = 16 * 1024 * 1024

const corrupt = (why: string) => new DataError('the archive is corrupt', why)

/** Checks the whole archive; throws DataError (its `why` says where and what) when it is not intact. */
export async function inspectArchive(chunks: AsyncIterable<Uint8Array>): Promise<ArchiveSummary> {
  const data = new Reader(decodeS2(chunks)[Symbol.asyncIterator]())
  const head = await data.peek(V2_MAGIC.length)
  const summary = head && text(head) === V2_MAGIC ? await inspectV2(data) : await inspectTar(data)
  return {...summary, bytes: data.consumed + (await data.drainZeros())}
}

/** The format from the first frame alone (cheap): what a server would see when it starts reading. */
export async function archiveFormat(chunks: AsyncIterable<Uint8Array>): Promise<ArchiveFormat> {
  const iterator = decodeS2(chunks)[Symbol.asyncIterator]()
  try {
    const data = new Reader(iterator)
    const head = await data.peek(V2_MAGIC.length)
    return head && text(head) === V2_MAGIC ? 'v2' : 'tar'
  } finally {
    await iterator.return?.(undefined)
  }
}

// --- S2 framing (the snappy framing format, with S2's stream identifier and block extensions) ---

async function* decodeS2(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const raw = new Reader(chunks[Symbol.asyncIterator]())
  let started = false
  try {
    yield* frames()
  } finally {
    await raw.close()
  }
  async function* frames(): AsyncGenerator<Uint8Array> {
  for (;;) {
    const at = raw.consumed
    const header = await raw.read(4)
    if (!header) {
      if (raw.buffered > 0) throw corrupt(`truncated: the file ends inside a frame header at byte ${at}`)
      if (!started) throw corrupt('empty file')
      return
    }
    const type = header[0]
    const length = header[1] | (header[2] << 8) | (header[3] << 16)
    if (!started && type !== 0xff) throw corrupt('not an S2 archive (bad header)')
    started = true
    if (length > MAX_CHUNK) throw corrupt(`frame at byte ${at} claims ${length} bytes (at most ${MAX_CHUNK})`)
    const truncated = () => corrupt(`truncated: the file ends inside the frame at byte ${at} (${length} bytes, ${raw.buffered} present)`)
    if (type >= 0x80 && type !== 0xff) {
      // Padding and skippable frames (S2's index is one).
      if (!(await raw.skip(length))) throw truncated()
      continue
    }
    const body = await raw.read(length)
    if (!body) throw truncated()
    if (type === 0xff) {
      if (!STREAM_IDS.includes(text(body))) throw corrupt(`bad stream identifier at byte ${at}`)
      continue
    }
    if (type > 0x01) throw corrupt(`unknown frame type 0x${type.toString(16)} at byte ${at}`)
    if (length < 4) throw corrupt(`frame at byte ${at} is too short`)
    const crc = (body[0] | (body[1] << 8) | (body[2] << 16) | (body[3] << 24)) >>> 0
    const block = type === 0x00 ? decodeBlock(body.subarray(4), at) : body.subarray(4)
    if (block.length > MAX_BLOCK) throw corrupt(`frame at byte ${at} holds ${block.length} bytes (at most ${MAX_BLOCK})`)
    if (maskedCrc32c(block) !== crc) throw corrupt(`checksum mismatch in the frame at byte ${at}`)
    if (block.length > 0) yield block
  }
  }
}

/**
 * Most literals and copies are under 32 bytes (a million-event archive has ~20 million), where `set` and
 * `copyWithin` (a subarray and a runtime call per tag) cost more than the copy. Those go 8 bytes a step
 * through DataViews, or byte by byte where that cannot be done (~0.5x the decoding time in all).
 */
const SHORT_RUN = 32

/** One S2 block (a superset of snappy: a copy with offset 0 repeats the last offset). */
function decodeBlock(src: Uint8Array, at: number): Uint8Array {
  const bad = (why: string) => corrupt(`s2: corrupt input in the frame at byte ${at} (${why})`)
  const end = src.length
  let pos = 0
  let length = 0
  for (let shift = 0; ; shift += 7) {
    if (pos >= end || shift > 28) throw bad('bad length')
    const b = src[pos++]
    length += (b & 0x7f) * 2 ** shift
    if (b < 0x80) break
  }
  if (length > MAX_BLOCK) throw bad(`claims ${length} bytes`)
  const dst = new Uint8Array(length)
  const dstWords = new DataView(dst.buffer)
  const srcWords = new DataView(src.buffer, src.byteOffset, src.length)
  let d = 0
  let offset = 0
  while (pos < end) {
    const tag = src[pos]
    let copy = 0
    switch (tag & 3) {
      case 0: {
        let literal = tag >>> 2
        if (literal < 60) {
          pos += 1
        } else {
          const extra = literal - 59
          if (pos + 1 + extra > end) throw bad('ends inside a tag')
          literal = 0
          for (let i = 0; i < extra; i++) literal += src[pos + 1 + i] * 2 ** (8 * i)
          pos += 1 + extra
        }
        literal += 1
        if (literal > end - pos || literal > length - d) throw bad('literal overruns')
        if (literal <= 16 && d + 16 <= length && pos + 16 <= end) {
          // 16 bytes, past the literal's end: the tags that follow overwrite the excess.
          dstWords.setUint32(d, srcWords.getUint32(pos, true), true)
          dstWords.setUint32(d + 4, srcWords.getUint32(pos + 4, true), true)
          dstWords.setUint32(d + 8, srcWords.getUint32(pos + 8, true), true)
          dstWords.setUint32(d + 12, srcWords.getUint32(pos + 12, true), true)
          d += literal
          pos += literal
        } else if (literal <= SHORT_RUN) {
          for (const stop = d + literal; d < stop; ) dst[d++] = src[pos++]
        } else {
          dst.set(src.subarray(pos, pos + literal), d)
          d += literal
          pos += literal
        }
        continue
      }
      case 1: {
        if (pos + 2 > end) throw bad('ends inside a tag')
        copy = (tag >>> 2) & 7
        const tagOffset = ((tag & 0xe0) << 3) | src[pos + 1]
        pos += 2
        if (tagOffset === 0) {
          if (copy === 5) {
            if (pos + 1 > end) throw bad('ends inside a tag')
            copy = src[pos] + 4
            pos += 1
          } else if (copy === 6) {
            if (pos + 2 > end) throw bad('ends inside a tag')
            copy = (src[pos] | (src[pos + 1] << 8)) + (1 << 8)
            pos += 2
          } else if (copy === 7) {
            if (pos + 3 > end) throw bad('ends inside a tag')
            copy = (src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16)) + (1 << 16)
            pos += 3
          }
        } else {
          offset = tagOffset
        }
        copy += 4
        break
      }
      case 2: {
        if (pos + 3 > end) throw bad('ends inside a tag')
        copy = 1 + (tag >>> 2)
        offset = src[pos + 1] | (src[pos + 2] << 8)
        pos += 3
        break
      }
      default: {
        if (pos + 5 > end) throw bad('ends inside a tag')
        copy = 1 + (tag >>> 2)
        offset = (src[pos + 1] | (src[pos + 2] << 8) | (src[pos + 3] << 16) | (src[pos + 4] << 24)) >>> 0
        pos += 5
      }
    }
    if (offset <= 0 || offset > d || copy > length - d) throw bad('bad copy')
    if (offset >= 8 && copy <= 64 && d + copy + 8 <= length) {
      // 8 bytes a step, the last possibly past the copy's end (the tags that follow overwrite the excess);
      // an offset of 8 or more means every step reads only bytes written before it.
      const stop = d + copy
      for (let from = d - offset; d < stop; d += 8, from += 8) {
        dstWords.setUint32(d, dstWords.getUint32(from, true), true)
        dstWords.setUint32(d + 4, dstWords.getUint32(from + 4, true), true)
      }
      d = stop
    } else if (copy <= SHORT_RUN || offset < copy) {
      // Byte by byte, also where source and destination overlap: the run repeats the last `offset` bytes.
      for (let from = d - offset, stop = d + copy; d < stop; ) dst[d++] = dst[from++]
    } else {
      dst.copyWithin(d, d - offset, d - offset + copy)
      d += copy
    }
  }
  if (d !== length) throw bad(`decoded ${d} of ${length} bytes`)
  return dst
}

/**
 * Slicing-by-16: sixteen bytes per step (the whole decompressed archive goes through this); ~1.5x the
 * speed of slicing-by-4 here. One flat array: table k at k * 256.
 */
const CRC_TABLES = (() => {
  const tables = new Uint32Array(16 * 256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82_f6_3b_78 : c >>> 1
    tables[i] = c >>> 0
  }
  for (let t = 1; t < 16; t++) {
    for (let i = 0; i < 256; i++) {
      const previous = tables[(t - 1) * 256 + i]
      tables[t * 256 + i] = (previous >>> 8) ^ tables[previous & 0xff]
    }
  }
  return tables
})()

/** CRC-32C (Castagnoli), masked as the snappy framing format stores it. */
export function maskedCrc32c(data: Uint8Array): number {
  let c = 0xff_ff_ff_ff
  for (let from = 0; from < data.length; from += CRC_SLICE) c = crc32cUpdate(c, data, from, Math.min(from + CRC_SLICE, data.length))
  c = (c ^ 0xff_ff_ff_ff) >>> 0
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa2_82_ea_d8) >>> 0
}

/**
 * The CRC of a frame (up to 4 MiB) goes through crc32cUpdate in slices: called often, V8 optimizes it
 * whole. One call per frame ran in code compiled mid-loop, thrown away again at the end of ~1 call
 * in 6 (its tail had never run): ~1.4x the CRC time on a 1M-event tar archive.
 */
const CRC_SLICE = 64 * 1024

function crc32cUpdate(c: number, data: Uint8Array, i: number, end: number): number {
  const t = CRC_TABLES
  for (const last = end - 15; i < last; i += 16) {
    c ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
    c =
      t[0xf00 | (c & 0xff)] ^
      t[0xe00 | ((c >>> 8) & 0xff)] ^
      t[0xd00 | ((c >>> 16) & 0xff)] ^
      t[0xc00 | (c >>> 24)] ^
      t[0xb00 | data[i + 4]] ^
      t[0xa00 | data[i + 5]] ^
      t[0x900 | data[i + 6]] ^
      t[0x800 | data[i + 7]] ^
      t[0x700 | data[i + 8]] ^
      t[0x600 | data[i + 9]] ^
      t[0x500 | data[i + 10]] ^
      t[0x400 | data[i + 11]] ^
      t[0x300 | data[i + 12]] ^
      t[0x200 | data[i + 13]] ^
      t[0x100 | data[i + 14]] ^
      t[data[i + 15]]
  }
  for (; i < end; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8)
  return c
}

// --- legacy tar (Go archive/tar, as nats-server writes it) ---

async function inspectTar(data: Reader): Promise<Omit<ArchiveSummary, 'bytes'>> {
  let entries = 0
  let stream: string | undefined
  let paxPath: string | undefined
  for (;;) {
    const at = data.consumed
    const header = await data.read(512)
    if (!header) throw corrupt(`truncated: the tar ends after ${entries} files, without its end marker (at byte ${at} of the decompressed data)`)
    if (header.every((b) => b === 0)) {
      const second = await data.read(512)
      if (!second || !second.every((b) => b === 0)) throw corrupt(`truncated: the tar's end marker is incomplete (at byte ${at + 512})`)
      if (entries === 0) throw corrupt('the tar holds no files')
      return {format: 'tar', entries, stream}
    }
    const stored = octal(header.subarray(148, 156))
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]
    if (stored === undefined || stored !== sum) {
      throw corrupt(entries === 0 ? 'not a tar archive, nor a V2 archive (the server could not restore it)' : `bad tar header checksum at byte ${at} (after ${entries} files)`)
    }
    const size = tarSize(header.subarray(124, 136))
    if (size === undefined) throw corrupt(`bad tar size field at byte ${at}`)
    const type = String.fromCharCode(header[156])
    const name = paxPath ?? tarName(header)
    paxPath = undefined
    const padded = Math.ceil(size / 512) * 512
    if (type === 'x' || name === 'meta.inf') {
      if (size > MAX_JSON) throw corrupt(`tar entry ${name} is ${size} bytes`)
      const body = await data.read(padded)
      if (!body) throw corrupt(`truncated: the file ${name} in the tar ends early`)
      const content = body.subarray(0, size)
      if (type === 'x') {
        paxPath = paxRecord(content, 'path')
        continue
      }
      stream = metaName(content)
      if (stream === undefined) throw corrupt('meta.inf does not name a stream')
    } else if (!(await data.skip(padded))) {
      throw corrupt(`truncated: the file ${name} in the tar ends early (${size} bytes expected)`)
    }
    if (type !== 'g') entries++
  }
}

function octal(field: Uint8Array): number | undefined {
  const digits = text(field).replace(/[\0 ]+$/g, '').replace(/^[\0 ]+/g, '')
  return /^[0-7]+$/.test(digits) ? Number.parseInt(digits, 8) : undefined
}

function tarSize(field: Uint8Array): number | undefined {
  if (field[0] & 0x80) {
    // GNU base-256 for sizes of 8 GiB and more.
    let value = field[0] & 0x7f
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]
    return value
  }
  return octal(field)
}

function tarName(header: Uint8Array): string {
  const cString = (bytes: Uint8Array) => text(bytes.subarray(0, bytes.indexOf(0) === -1 ? bytes.length : bytes.indexOf(0)))
  const name = cString(header.subarray(0, 100))
  const ustar = text(header.subarray(257, 263)) === 'ustar\0'
  const prefix = ustar ? cString(header.subarray(345, 500)) : ''
  return prefix ? `${prefix}/${name}` : name
}

/** A PAX extended header's record: `<len> <key>=<value>\n` ... */
function paxRecord(content: Uint8Array, key: string): string | undefined {
  for (const line of text(content).split('\n')) {
    const match = /^\d+ ([^=]+)=(.*)$/s.exec(line)
    if (match && match[1] === key) return match[2]
  }
  return undefined
}

function metaName(content: Uint8Array): string | undefined {
  try {
    const json = JSON.parse(text(content)) as {name?: unknown}
    return typeof json.name === 'string' ? json.name : undefined
  } catch {
    return undefined
  }
}

// --- V2 (NATSARC1) ---

async function inspectV2(data: Reader): Promise<Omit<ArchiveSummary, 'bytes'>> {
  await data.skip(V2_MAGIC.length)
  let entries = 0
  let messages = 0
  let consumers = 0
  let expectedConsumers: number | undefined
  let firstSeq = 0
  let lastSeq = 0
  const fields = [0, 0, 0, 0, 0]
  const truncated = (at: number) => corrupt(`truncated: the archive ends after ${entries} entries (${messages} messages), without its end marker (at byte ${at} of the decompressed data)`)
  // A message entry is parsed without a promise while it lies in the buffered data: a million
  // messages make a million entries, and awaiting each field cost more than decompressing them.
  for (;;) {
    const at = data.consumed
    for (let i = 0; i < 5; i++) {
      const value = data.uvarintNow() ?? (await data.uvarint())
      if (value === undefined) throw truncated(at)
      fields[i] = value
    }
    const [nameLength, time, seq, headerSize, bodySize] = fields
    if (nameLength === 0 && time === 0 && seq === 0 && headerSize === 0 && bodySize === 0) break
    if (nameLength > MAX_NAME) throw corrupt(`entry ${entries + 1} has a ${nameLength}-byte name`)
    const size = headerSize + bodySize
    if (entries === 0 || consumers < expectedConsumers!) {
      const nameBytes = await data.read(nameLength)
      if (!nameBytes) throw truncated(at)
      const name = text(nameBytes)
      if (entries === 0) {
        if (name !== 'state.json' || size > MAX_JSON) throw corrupt('the first entry is not state.json')
        const state = await data.read(size)
        if (!state) throw truncated(at)
        const parsed = parseState(state)
        if (!parsed) throw corrupt('state.json is not a stream state')
        expectedConsumers = parsed.consumers
        firstSeq = parsed.firstSeq
      } else {
        if (!name.startsWith('consumers/')) throw corrupt(`entry ${entries + 1} is ${JSON.stringify(name)}, expected consumer ${consumers + 1} of ${expectedConsumers}`)
        consumers++
        if (!(data.skipNow(size) || (await data.skip(size)))) throw truncated(at)
      }
    } else {
      if (!(data.skipNow(nameLength) || (await data.skip(nameLength)))) throw truncated(at)
      if (seq === 0 || seq <= lastSeq || seq < firstSeq) throw corrupt(`message sequence ${seq} after ${lastSeq} (entry ${entries + 1})`)
      lastSeq = seq
      messages++
      if (!(data.skipNow(size) || (await data.skip(size)))) throw truncated(at)
    }
    entries++
  }
  if (entries === 0) throw corrupt('the archive has no state.json')
  if (consumers < expectedConsumers!) throw corrupt(`state.json counts ${expectedConsumers} consumers, the archive holds ${consumers}`)
  if (!(await data.atEnd())) throw corrupt('data after the end marker')
  return {format: 'v2', entries, messages}
}

function parseState(bytes: Uint8Array): {consumers: number; firstSeq: number} | undefined {
  try {
    const json = JSON.parse(text(bytes)) as {consumer_count?: unknown; first_seq?: unknown}
    const consumers = json.consumer_count ?? 0
    const firstSeq = json.first_seq ?? 0
    return typeof consumers === 'number' && typeof firstSeq === 'number' ? {consumers, firstSeq} : undefined
  } catch {
    return undefined
  }
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1')
}

/** Exact reads over a sequence of chunks, without holding more than the read asks for. */
class Reader {
  consumed = 0
  private chunks: Uint8Array[] = []
  /** Where reading resumes in chunks[0]: consuming moves it, rather than making a subarray of the rest each time. */
  private start = 0
  private available = 0
  private ended = false

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  get buffered(): number {
    return this.available
  }

  private async fill(n: number): Promise<boolean> {
    while (this.available < n && !this.ended) {
      const next = await this.source.next()
      if (next.done) this.ended = true
      else if (next.value.length > 0) {
        this.chunks.push(next.value)
        this.available += next.value.length
      }
    }
    return this.available >= n
  }

  async peek(n: number): Promise<Uint8Array | undefined> {
    if (!(await this.fill(n))) return undefined
    const first = this.chunks[0]
    if (!first) return new Uint8Array(0) // n = 0, nothing buffered
    return first.length - this.start >= n ? first.subarray(this.start, this.start + n) : concat(this.chunks, this.start, n)
  }

  /** Exactly n bytes, or undefined when the data ends first. */
  async read(n: number): Promise<Uint8Array | undefined> {
    const bytes = await this.peek(n)
    if (bytes) this.drop(n)
    return bytes
  }

  /** False when the data ends first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      if (this.available === 0 && !(await this.fill(1))) return false
      const step = Math.min(n, this.available)
      this.drop(step)
      n -= step
    }
    return true
  }

  /** skip() without a promise: true when the n bytes were buffered (and are skipped), false otherwise (nothing skipped). */
  skipNow(n: number): boolean {
    if (this.available < n) return false
    this.drop(n)
    return true
  }

  /** uvarint() without a promise, when the varint lies in the current chunk; undefined otherwise (nothing read). */
  uvarintNow(): number | undefined {
    const first = this.chunks[0]
    if (!first) return undefined
    let value = 0
    let scale = 1
    for (let at = this.start, end = Math.min(first.length, this.start + 10); at < end; at++) {
      const byte = first[at]
      value += (byte & 0x7f) * scale
      if (byte < 0x80) {
        this.drop(at - this.start + 1)
        return value
      }
      scale *= 0x80
    }
    if (first.length - this.start >= 10) throw corrupt('bad varint')
    return undefined
  }

  async uvarint(): Promise<number | undefined> {
    const quick = this.uvarintNow()
    if (quick !== undefined) return quick
    // Across chunks: a byte at a time.
    let value = 0
    for (let shift = 0; shift < 64; shift += 7) {
      const byte = await this.read(1)
      if (!byte) return undefined
      value += (byte[0] & 0x7f) * 2 ** shift
      if (byte[0] < 0x80) return value
    }
    throw corrupt('bad varint')
  }

  /** Stops the source early (closes the file behind it). */
  async close(): Promise<void> {
    await this.source.return?.(undefined)
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill(1))
  }

  /** Trailing zero padding, counted; anything else after the end is corruption. */
  async drainZeros(): Promise<number> {
    let zeros = 0
    while (await this.fill(1)) {
      const rest = this.chunks[0].subarray(this.start)
      if (!rest.every((b) => b === 0)) throw corrupt('data after the end marker')
      zeros += rest.length
      this.drop(rest.length)
    }
    return zeros
  }

  private drop(n: number): void {
    this.consumed += n
    this.available -= n
    while (n > 0) {
      const rest = this.chunks[0].length - this.start
      if (rest <= n) {
        this.chunks.shift()
        this.start = 0
        n -= rest
      } else {
        this.start += n
        n = 0
      }
    }
  }
}

/** The first n bytes of the chunks, the first read from `start`. */
function concat(chunks: Uint8Array[], start: number, n: number): Uint8Array {
  const out = new Uint8Array(n)
  let filled = 0
  for (const [index, chunk] of chunks.entries()) {
    const rest = index === 0 ? chunk.subarray(start) : chunk
    const take = Math.min(rest.length, n - filled)
    out.set(rest.subarray(0, take), filled)
    filled += take
    if (filled === n) break
  }
  return out
}
