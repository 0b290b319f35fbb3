/**
 * Logical backups: the messages themselves as JSON lines (gzip), portable across server versions,
 * possible for memory streams, and restorable under another name. Restores renumber: sequences and
 * storage times are not preserved (they are kept in the file for reference), subjects, headers,
 * data and order are.
 */
import {once} from 'node:events'
import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'
import {createGunzip, createGzip} from 'node:zlib'
import {z} from 'zod'

import {readMessages, type OutgoingMessage, type StoredMessage} from '../adapters/nats/backup-messages.js'
import type {JsApi, StreamDetail} from '../adapters/nats/backup-streams.js'
import {DataError} from '../core/errors.js'
import {ContentDigest} from './digest.js'
import {FileSink} from './file-sink.js'

/** Never let gzip output wait in memory for the disk beyond this. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024

export interface DumpResult {
  messages: number
  firstSeq: number
  lastSeq: number
  firstTime?: string
  lastTime?: string
  digest: string
  file: {size: number; sha256: string}
}

export interface DumpOptions {
  idleTimeoutMs: number
  signal?: AbortSignal
  onProgress?: (bytes: number, messages: number) => void
}

/** Writes every message up to the last sequence the stream had when we looked (so it never chases a growing stream). */
export async function dumpMessages(api: JsApi, detail: StreamDetail, path: string, opts: DumpOptions): Promise<DumpResult> {
  const sink = await FileSink.create(path)
  const gzip = createGzip({level: 6})
  gzip.on('data', (chunk: Buffer) => sink.push(chunk))
  const ended = once(gzip, 'end')
  ended.catch(() => {})
  const digest = new ContentDigest(false)
  let firstTime: string | undefined
  let lastTime: string | undefined
  let lines = 0
  try {
    const {facts} = detail
    if (facts.messages > 0) {
      await readMessages(api, facts.name, {fromSeq: facts.firstSeq, toSeq: facts.lastSeq, idleTimeoutMs: opts.idleTimeoutMs, signal: opts.signal}, async (message) => {
        const time = rfc3339Nanos(message.timeNanos)
        firstTime ??= time
        lastTime = time
        digest.update(message.subject, message.data, message.seq)
        lines++
        if (!gzip.write(messageLine(message, time))) await once(gzip, 'drain')
        if (sink.pendingBytes > MAX_QUEUED_BYTES) await sink.flush()
        if ((lines & 1023) === 0) opts.onProgress?.(sink.size, lines)
      })
    }
    gzip.end()
    await ended
    const file = await sink.finish()
    opts.onProgress?.(file.size, lines)
    const summary = digest.summary()
    return {messages: summary.messages, firstSeq: summary.firstSeq, lastSeq: summary.lastSeq, firstTime, lastTime, digest: summary.digest, file}
  } catch (error) {
    gzip.destroy()
    await sink.abort()
    throw error
  }
}

function messageLine(message: StoredMessage, time: string): string {
  const line: Record<string, unknown> = {seq: message.seq, time, subject: message.subject}
  if (message.headers) line.headers = Object.fromEntries(message.headers)
  line.data = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.length).toString('base64')
  return `${JSON.stringify(line)}\n`
}

/** RFC 3339 with all nine digits of the server's nanosecond timestamp. */
export function rfc3339Nanos(nanos: bigint): string {
  const iso = new Date(Number(nanos / 1_000_000n)).toISOString()
  return `${iso.slice(0, 19)}.${(nanos % 1_000_000_000n).toString().padStart(9, '0')}Z`
}

const Line = z.object({
  seq: z.number().int().nonnegative(),
  time: z.string().optional(),
  subject: z.string().min(1),
  headers: z.record(z.string(), z.array(z.string())).optional(),
  data: z.string(),
})

export interface LogicalMessage extends OutgoingMessage {
  seq: number
}

/** The messages of a messages.jsonl.gz file, in order; a malformed line is bad data (exit 65). */
export async function* readMessagesFile(path: string): AsyncGenerator<LogicalMessage> {
  const input = createReadStream(path)
  const gunzip = createGunzip()
  input.on('error', (error) => gunzip.destroy(error))
  const lines = createInterface({input: input.pipe(gunzip), crlfDelay: Number.POSITIVE_INFINITY})
  let number = 0
  try {
    for await (const text of lines) {
      number++
      if (text === '') continue
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        throw new DataError(`${path} is corrupt`, `line ${number} is not JSON`)
      }
      const parsed = Line.safeParse(json)
      if (!parsed.success) throw new DataError(`${path} is corrupt`, `line ${number}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`)
      const {seq, subject, headers, data} = parsed.data
      yield {seq, subject, headers: headers ? Object.entries(headers) : undefined, data: Buffer.from(data, 'base64')}
    }
  } catch (error) {
    if (error instanceof DataError) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw new DataError(`${path} is corrupt`, code?.startsWith('Z_') ? `gzip: ${(error as Error).message}` : (error as Error).message)
  } finally {
    lines.close()
    input.destroy()
  }
}

/** Count and digest of a messages file, as the manifest records them. */
export async function digestMessagesFile(path: string): Promise<{messages: number; digest: string; firstSeq: number; lastSeq: number}> {
  const digest = new ContentDigest(false)
  for await (const message of readMessagesFile(path)) digest.update(message.subject, message.data, message.seq)
  const summary = digest.summary()
  return {messages: summary.messages, digest: summary.digest, firstSeq: summary.firstSeq, lastSeq: summary.lastSeq}
}
