/**
 * The replay file: JSON Lines, gzip-compressed when the name ends in .gz. One event per line:
 * `{"seq", "time", "subject", "headers", "data"}` — `data` the body as text when it is valid UTF-8,
 * else `dataBase64`. Written to a temp file and renamed at the end, so a file is never half-written.
 * It opens with `{"format": "cimops-replay/2"}` and ends with `{"end": {"events", "digest"}}` (count
 * and content digest of the events before it), so a file cut short or edited is caught when read, even
 * cut at a line boundary; files of older cimops versions have neither and are read with a warning.
 */
import {createReadStream, createWriteStream} from 'node:fs'
import {rename, rm} from 'node:fs/promises'
import {createInterface} from 'node:readline'
import {once} from 'node:events'
import type {Writable} from 'node:stream'
import {createGunzip, createGzip} from 'node:zlib'

import type {RangeEvent} from '../adapters/nats/range-reader.js'
import {ContentDigest, DIGEST_ALGORITHM} from '../backup/digest.js'
import {DataError, NotFoundError, OperationError} from '../core/errors.js'

export interface ReplayLine {
  seq: number
  time: string
  subject: string
  headers: Record<string, string[]>
  data?: string
  dataBase64?: string
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

export function toLine(message: RangeEvent): ReplayLine {
  const line: ReplayLine = {seq: message.seq, time: new Date(message.timeMs).toISOString(), subject: message.subject, headers: message.headers}
  try {
    line.data = utf8.decode(message.data)
  } catch {
    line.dataBase64 = Buffer.from(message.data).toString('base64')
  }
  return line
}

export function fromLine(text: string, where: string): RangeEvent {
  let line: ReplayLine
  try {
    line = JSON.parse(text)
  } catch {
    throw new DataError(`bad replay file line ${where}`, 'not JSON')
  }
  const ok = line && Number.isInteger(line.seq) && line.seq > 0 && typeof line.subject === 'string' && line.subject !== '' && typeof line.time === 'string' && (typeof line.data === 'string' || typeof line.dataBase64 === 'string')
  if (!ok) throw new DataError(`bad replay file line ${where}`, 'expected {seq, time, subject, headers, data|dataBase64}')
  const headers: Record<string, string[]> = {}
  for (const [key, values] of Object.entries(line.headers ?? {})) headers[key] = Array.isArray(values) ? values.map(String) : [String(values)]
  const data = typeof line.data === 'string' ? new TextEncoder().encode(line.data) : new Uint8Array(Buffer.from(line.dataBase64!, 'base64'))
  const timeMs = Date.parse(line.time)
  if (Number.isNaN(timeMs)) throw new DataError(`bad replay file line ${where}`, `time "${line.time}" is not an RFC 3339 time`)
  return {seq: line.seq, timeMs, subject: line.subject, headers, data}
}

export interface ReplayFileWriter {
  /** Queues one line; false when the buffer is full (wait for drained() before writing much more). */
  write(message: RangeEvent): boolean
  drained(): Promise<void>
  /** Called whenever the buffer has drained. */
  onDrain(listener: () => void): void
  /** Flushes and renames into place. */
  close(): Promise<void>
  /** Removes the temp file. */
  discard(): Promise<void>
}

export const REPLAY_FILE_FORMAT = 'cimops-replay/2'

interface EndLine {
  end: {events: number; digest: {algorithm: typeof DIGEST_ALGORITHM; value: string}}
}

export function openReplayFile(path: string): ReplayFileWriter {
  const temp = `${path}.${process.pid}.partial`
  const file = createWriteStream(temp, {mode: 0o640})
  const gzip = path.endsWith('.gz') ? createGzip() : undefined
  if (gzip) gzip.pipe(file)
  const out: Writable = gzip ?? file
  // The file opens after this returns: a directory that does not exist or cannot be written fails
  // then, as an 'error' event that would otherwise crash the process. Kept, and thrown by the next call.
  let failed: OperationError | undefined
  const failure = new Promise<never>((_resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      failed ??= new OperationError(`cannot write ${path}`, error.code === 'ENOENT' ? 'its directory does not exist' : (error.code ?? error.message), {
        hint: 'give --to-file a path in a directory that exists and is writable',
      })
      reject(failed)
    }
    file.on('error', onError)
    gzip?.on('error', onError)
  })
  failure.catch(() => {})
  const check = () => {
    if (failed) throw failed
  }
  const digest = new ContentDigest(false)
  out.write(`${JSON.stringify({format: REPLAY_FILE_FORMAT})}\n`)
  return {
    write(message) {
      check()
      digest.update(message.subject, message.data)
      return out.write(`${JSON.stringify(toLine(message))}\n`)
    },
    async drained() {
      check()
      if (out.writableNeedDrain) await Promise.race([once(out, 'drain'), failure])
    },
    onDrain(listener) {
      out.on('drain', listener)
    },
    async close() {
      check()
      const closed = once(file, 'close')
      const {messages, digest: value} = digest.summary()
      const end: EndLine = {end: {events: messages, digest: {algorithm: DIGEST_ALGORITHM, value}}}
      out.end(`${JSON.stringify(end)}\n`)
      await Promise.race([closed, failure])
      check()
      await rename(temp, path)
    },
    async discard() {
      out.destroy()
      file.destroy()
      await rm(temp, {force: true})
    },
  }
}

/**
 * Reads a replay file through once and refuses it (DataError, exit 65) when a line is bad, it is cut
 * short, or its end line does not match its events: callers check before any side effect.
 */
export async function checkReplayFile(path: string, opts: {onWarning?: (line: string) => void} = {}): Promise<void> {
  const digest = new ContentDigest(false)
  let format: string | undefined
  let end: EndLine['end'] | undefined
  for await (const line of replayFileLines(path)) {
    if ('event' in line) digest.update(line.event.subject, line.event.data)
    else if ('format' in line) format = line.format
    else end = line.end
  }
  const read = digest.summary()
  if (format === undefined && end === undefined) {
    opts.onWarning?.(`${path} was made by an older cimops: it has no end line, so a file cut short would go unnoticed`)
  } else if (end === undefined) {
    throw new DataError(`${path} is cut short`, `it ends after ${read.messages} events without its end line`, {hint: 'export it again; nothing was replayed from it'})
  } else if (end.events !== read.messages || end.digest.value !== read.digest) {
    const why = end.events === read.messages ? 'the content digest differs from its end line' : `${read.messages} events, its end line says ${end.events}`
    throw new DataError(`${path} is corrupt`, why, {hint: 'export it again; nothing was replayed from it'})
  }
}

/** The events of a file that checkReplayFile accepted, in file order. */
export async function* readReplayFile(path: string): AsyncGenerator<RangeEvent> {
  for await (const line of replayFileLines(path)) if ('event' in line) yield line.event
}

type FileLine = {event: RangeEvent} | {format: string} | EndLine

async function* replayFileLines(path: string): AsyncGenerator<FileLine> {
  const input = createReadStream(path)
  const opened = await Promise.race([once(input, 'open'), once(input, 'error').then(([error]) => Promise.reject(error))]).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new NotFoundError(`cannot read ${path}`, 'no such file')
    throw new DataError(`cannot read ${path}`, error.message)
  })
  void opened
  const lines = createInterface({input: path.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity})
  let n = 0
  let ended = false
  try {
    for await (const text of lines) {
      n++
      if (text.trim() === '') continue
      if (ended) throw new DataError(`bad replay file line ${path}:${n}`, 'comes after the end line')
      const marker = markerLine(text, n)
      if (marker && 'end' in marker) ended = true
      yield marker ?? {event: fromLine(text, `${path}:${n}`)}
    }
  } catch (error) {
    if (error instanceof DataError) throw error
    throw new DataError(`cannot read ${path}`, (error as Error).message, {hint: 'is it a replay file (.jsonl or .jsonl.gz)?'})
  } finally {
    lines.close()
    input.destroy()
  }
}

/** The format line (first) or the end line; undefined for an event line. */
function markerLine(text: string, n: number): {format: string} | EndLine | undefined {
  if (!text.startsWith('{"format"') && !text.startsWith('{"end"')) return undefined
  let json: Partial<{format: unknown} & EndLine>
  try {
    json = JSON.parse(text)
  } catch {
    return undefined // fromLine reports it
  }
  if (n === 1 && json.format !== undefined) return {format: String(json.format)}
  const end = json.end
  if (end && Number.isInteger(end.events) && typeof end.digest?.value === 'string') return {end}
  return undefined
}
