/**
 * The replay file: JSON Lines, gzip-compressed when the name ends in .gz. One event per line:
 * `{"seq", "time", "subject", "headers", "data"}` — `data` the body as text when it is valid UTF-8,
 * else `dataBase64`. Written to a temp file and renamed at the end, so a file is never half-written.
 */
import {createReadStream, createWriteStream} from 'node:fs'
import {rename, rm} from 'node:fs/promises'
import {createInterface} from 'node:readline'
import {once} from 'node:events'
import type {Writable} from 'node:stream'
import {createGunzip, createGzip} from 'node:zlib'

import type {RangeEvent} from '../adapters/nats/range-reader.js'
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
  return {
    write(message) {
      check()
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
      out.end()
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

/** The events of a replay file, in file order; a bad line is a DataError (exit 65) naming the line. */
export async function* readReplayFile(path: string): AsyncGenerator<RangeEvent> {
  const input = createReadStream(path)
  const opened = await Promise.race([once(input, 'open'), once(input, 'error').then(([error]) => Promise.reject(error))]).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new NotFoundError(`cannot read ${path}`, 'no such file')
    throw new DataError(`cannot read ${path}`, error.message)
  })
  void opened
  const lines = createInterface({input: path.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity})
  let n = 0
  try {
    for await (const text of lines) {
      n++
      if (text.trim() === '') continue
      yield fromLine(text, `${path}:${n}`)
    }
  } catch (error) {
    if (error instanceof DataError) throw error
    throw new DataError(`cannot read ${path}`, (error as Error).message, {hint: 'is it a replay file (.jsonl or .jsonl.gz)?'})
  } finally {
    lines.close()
    input.destroy()
  }
}
