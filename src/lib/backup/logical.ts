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
import * as z from 'zod'

import {readMessages, type OutgoingMessage, type StoredMessage} from '../adapters/nats/backup-messages.js'
import type {JsApi, StreamDetail} from '../adapters/nats/backup-streams.js'
import {DataError} from '../core/errors.js'
import {ContentDigest, DIGEST_ALGORITHM} from './digest.js'
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
    const summary = digest.summary()
    gzip.end(endLine(summary.messages, summary.digest))
    await ended
    const file = await sink.finish()
    opts.onProgress?.(file.size, lines)
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

/**
 * The file's last line: how many messages come before it and their digest, so a file cut short, even
 * at a line boundary, is caught by itself. Files of older cimops versions end without it.
 */
function endLine(messages: number, digest: string): string {
  return `${JSON.stringify({end: {messages, digest: {algorithm: DIGEST_ALGORITHM, value: digest}}})}\n`
}

const EndLine = z.object({end: z.object({messages: z.number().int().nonnegative(), digest: z.object({algorithm: z.literal(DIGEST_ALGORITHM), value: z.string()})})})

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

export interface ReadMessagesOptions {
  /** required: a file without its end line is cut short (sets whose manifest is sealed); optional: older files. */
  endLine?: 'required' | 'optional'
  /** Called once at the end: whether the file had its end line (an older file has none). */
  onEnd?: (hadEndLine: boolean) => void
}

/**
 * The messages of a messages.jsonl.gz file, in order; a malformed line, an end line that does not
 * match what precedes it, or (when required) no end line is bad data (exit 65).
 */
export async function* readMessagesFile(path: string, opts: ReadMessagesOptions = {}): AsyncGenerator<LogicalMessage> {
  const input = createReadStream(path)
  const gunzip = createGunzip()
  input.on('error', (error) => gunzip.destroy(error))
  const lines = createInterface({input: input.pipe(gunzip), crlfDelay: Number.POSITIVE_INFINITY})
  const digest = new ContentDigest(false)
  let end: z.infer<typeof EndLine>['end'] | undefined
  let number = 0
  try {
    for await (const text of lines) {
      number++
      if (text === '') continue
      if (end) throw new DataError(`${path} is corrupt`, `line ${number} comes after the end line`)
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        throw new DataError(`${path} is corrupt`, `line ${number} is not JSON`)
      }
      const last = EndLine.safeParse(json)
      if (last.success) {
        end = last.data.end
        continue
      }
      const parsed = Line.safeParse(json)
      if (!parsed.success) throw new DataError(`${path} is corrupt`, `line ${number}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`)
      const {seq, subject, headers, data} = parsed.data
      const bytes = Buffer.from(data, 'base64')
      digest.update(subject, bytes)
      yield {seq, subject, headers: headers ? Object.entries(headers) : undefined, data: bytes}
    }
    const read = digest.summary()
    if (end && end.messages !== read.messages) throw new DataError(`${path} is corrupt`, `${read.messages} messages, its end line says ${end.messages}`)
    if (end && end.digest.value !== read.digest) throw new DataError(`${path} is corrupt`, 'the content digest differs from its end line')
    if (!end && opts.endLine === 'required') {
      throw new DataError(`${path} is cut short`, `it ends after ${read.messages} messages without its end line`, {hint: 'do not restore from it; use another set from `cimops backup list`'})
    }
    opts.onEnd?.(end !== undefined)
  } catch (error) {
    if (error instanceof DataError) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw new DataError(`${path} is corrupt`, code?.startsWith('Z_') ? `gzip: ${(error as Error).message}` : (error as Error).message)
  } finally {
    lines.close()
    input.destroy()
  }
}

/** Count and digest of a messages file, as the manifest records them, and whether it had its end line. */
export async function digestMessagesFile(
  path: string,
  opts: Pick<ReadMessagesOptions, 'endLine'> = {},
): Promise<{messages: number; digest: string; firstSeq: number; lastSeq: number; endLine: boolean}> {
  const digest = new ContentDigest(false)
  let endLine = false
  for await (const message of readMessagesFile(path, {...opts, onEnd: (had) => (endLine = had)})) digest.update(message.subject, message.data, message.seq)
  const summary = digest.summary()
  return {messages: summary.messages, digest: summary.digest, firstSeq: summary.firstSeq, lastSeq: summary.lastSeq, endLine}
}
