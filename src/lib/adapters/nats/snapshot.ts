/**
 * The JetStream snapshot and restore wire protocol over plain NATS requests (nats.js has none).
 * Verified against nats-server 2.9.10; written to the documented behaviour of newer servers too
 * (reference/nats-jetstream.md §2):
 *
 * Snapshot: subscribe to a deliver subject, request `$JS.API.STREAM.SNAPSHOT.<stream>`; the server
 * sends the S2/tar archive in chunks, each with a reply subject to ack. Acks go out the moment a chunk
 * arrives (2.10.12–2.13 give up after 2s without one). EOF is an empty message: no headers on 2.9,
 * status 204 from 2.10.12; any other status is an error.
 *
 * Restore: request `$JS.API.STREAM.RESTORE.<stream>` with backup.json's `{config, state}`, then send the
 * archive to the returned subject in chunks, RESTORE_WINDOW requests in flight (every chunk needs a reply
 * subject; the server acks each with an empty message, or answers a failed one with the error), then,
 * once every chunk is acked, an empty request whose reply is the stream info.
 */
import type {Msg, Subscription} from '@nats-io/transport-node'

import {InterruptedError, OperationError, UnreachableError} from '../../core/errors.js'
import {untilAborted} from '../../core/sleep.js'
import {isJsonObject, type JsonObject, stringifyJson} from './backup-json.js'
import {type JsApi, JsApiError, jsRequest, natsFailure, parseApiReply} from './backup-streams.js'

const SYSTEM = 'nats'
/** The server's default; jsm.go and natscli use it too. */
export const DEFAULT_SNAPSHOT_CHUNK = 128 * 1024
/** jsm.go's restore chunk, sent one at a time: the bare exchange cimops is measured against. */
export const RESTORE_CHUNK = 64 * 1024
/** The largest restore chunk cimops sends: a 1 MiB message is what every server takes by default (max_payload). */
const MAX_RESTORE_CHUNK = 1024 * 1024
/**
 * Restore chunks in flight. Not more: from 2.2 to 2.15 the server hands the result of a chunk it refuses
 * (over the account's limits, a write error) to the restore over a channel of one slot, which is read
 * once. A second refused chunk fills the slot; a third would block the connection's reader on the
 * server for good. Two in flight means at most two refusals.
 */
export const RESTORE_WINDOW = 2

/** As large as the server takes in one message (its max_payload), at most 1 MiB, at least jsm.go's 64 KiB. */
export function restoreChunkBytes(api: Pick<JsApi, 'nc'>): number {
  const maxPayload = api.nc.info?.max_payload
  if (maxPayload === undefined || !Number.isFinite(maxPayload)) return RESTORE_CHUNK
  return Math.max(RESTORE_CHUNK, Math.min(MAX_RESTORE_CHUNK, Math.floor(maxPayload)))
}
/** natscli: a backup fails when nothing arrives for max(5s, --timeout). */
export const MIN_IDLE_TIMEOUT_MS = 5000

export interface SnapshotOptions {
  stream: string
  /** Include file-backed consumers (natscli default). */
  consumers: boolean
  /** jsck: the server verifies every message's checksum before it starts. */
  check: boolean
  chunkSize?: number
  /** Fail when no chunk arrives for this long. */
  idleTimeoutMs: number
  /** How long to wait for the snapshot response (the server prepares first; --check makes that slow). */
  responseTimeoutMs: number
  signal?: AbortSignal
  /** Every data chunk in order, called synchronously on receipt, right after its ack went out. */
  onChunk(data: Uint8Array): void
  /**
   * True while the receiver is far behind (its disk cannot keep up). Acks are then held back — at most
   * MAX_ACK_DELAY_MS, well inside the 2s (2.10.12–2.13) and 5s (2.14+) ack timeouts — the only way to make
   * the server slow down, so memory stays bounded. Otherwise every chunk is acked the moment it arrives.
   */
  behind?: () => boolean
}

/** Longest an ack is held back while the receiver catches up. */
export const MAX_ACK_DELAY_MS = 500

export interface SnapshotResult {
  /** From the snapshot response, exactly as sent: this is backup.json. */
  config: JsonObject
  state: JsonObject
  chunks: number
  bytes: number
}

export async function snapshotStream(api: JsApi, opts: SnapshotOptions): Promise<SnapshotResult> {
  const {createInbox} = await import('@nats-io/transport-node')
  const {nc} = api
  const what = `the snapshot of ${opts.stream}`
  const inbox = createInbox(api.inboxPrefix)

  let settle!: {resolve: () => void; reject: (error: unknown) => void}
  let settled = false
  const finished = new Promise<void>((resolve, reject) => {
    settle = {resolve, reject}
  })
  const fail = (error: unknown) => {
    if (settled) return
    settled = true
    settle.reject(error)
  }
  const succeed = () => {
    if (settled) return
    settled = true
    settle.resolve()
  }

  let chunks = 0
  let bytes = 0
  let lastActivity = Date.now()
  let idleClock = false
  const onChunk = (error: Error | null, m: Msg) => {
    if (settled) return
    if (error) return fail(natsFailure(error, api, opts.idleTimeoutMs, what))
    lastActivity = Date.now()
    idleClock = true
    if (m.data.length === 0) {
      const status = m.headers?.code ?? 0
      // 2.9: no headers; 2.10.12+: 204 on success, 408 No Interest / No Flow Response, 500 on failure (2.14+).
      if (status !== 0 && status !== 204) {
        return fail(new OperationError(`${what} failed`, `the server ended the transfer with ${status} ${m.headers?.description ?? ''}`.trim(), {
          hint: 'run the backup again; on a busy server try a larger --timeout',
          system: SYSTEM,
          address: api.address,
        }))
      }
      // The archive is complete: whatever acks are still held go out now.
      for (const {reply} of held.splice(0)) nc.publish(reply)
      return succeed()
    }
    // Ack before anything else (2.9.10 may send its last partial chunk without a reply subject).
    if (m.reply) {
      if (held.length > 0 || opts.behind?.()) hold(m.reply)
      else m.respond()
    }
    chunks++
    bytes += m.data.length
    try {
      opts.onChunk(m.data)
    } catch (error_) {
      fail(error_)
    }
  }

  // Acks held back while the receiver is behind, oldest first, released in order.
  const held: Array<{reply: string; since: number}> = []
  let releaseTimer: NodeJS.Timeout | undefined
  const release = () => {
    while (held.length > 0 && (!opts.behind?.() || Date.now() - held[0].since >= MAX_ACK_DELAY_MS)) nc.publish(held.shift()!.reply)
    if (held.length === 0 && releaseTimer) {
      clearInterval(releaseTimer)
      releaseTimer = undefined
    }
  }
  const hold = (reply: string) => {
    held.push({reply, since: Date.now()})
    releaseTimer ??= setInterval(release, 10)
  }

  let sub: Subscription | undefined
  const onAbort = () => fail(opts.signal?.reason instanceof Error ? opts.signal.reason : new InterruptedError(`${what} was interrupted`))
  const idleTimer = setInterval(() => {
    if (idleClock && Date.now() - lastActivity > opts.idleTimeoutMs) {
      fail(
        new OperationError(`${what} failed`, `timed out after receiving no data for ${Math.round(opts.idleTimeoutMs / 1000)}s (${bytes} bytes in ${chunks} chunks so far)`, {
          hint: 'the server stopped sending; run the backup again, or raise --timeout',
          system: SYSTEM,
          address: api.address,
        }),
      )
    }
  }, Math.min(1000, opts.idleTimeoutMs))
  try {
    if (opts.signal?.aborted) onAbort()
    opts.signal?.addEventListener('abort', onAbort, {once: true})
    nc.closed().then(
      () => fail(new UnreachableError(SYSTEM, api.address, `the connection was lost during ${what}`, {hint: 'the server restarted or the network failed; run the backup again'})),
      () => {},
    )
    // nats.js puts no pending limit on a subscription: 2.9 does not wait for acks, and no chunk may be dropped.
    sub = nc.subscribe(inbox, {callback: onChunk})
    const request = {
      deliver_subject: inbox,
      no_consumers: !opts.consumers,
      chunk_size: opts.chunkSize ?? DEFAULT_SNAPSHOT_CHUNK,
      jsck: opts.check,
    }
    const response = jsRequest(api, `STREAM.SNAPSHOT.${opts.stream}`, JSON.stringify(request), opts.responseTimeoutMs).then((reply) => {
      // The idle clock starts once the server has prepared the snapshot (--check can take long).
      idleClock = true
      lastActivity = Math.max(lastActivity, Date.now())
      return reply
    })
    const [reply] = await Promise.all([response, finished])
    const {config, state} = reply
    if (!isJsonObject(config) || !isJsonObject(state)) throw new OperationError(`${what} failed`, 'the snapshot response has no config or state', {system: SYSTEM, address: api.address})
    return {config, state, chunks, bytes}
  } catch (error) {
    settled = true
    throw error
  } finally {
    clearInterval(idleTimer)
    if (releaseTimer) clearInterval(releaseTimer)
    opts.signal?.removeEventListener('abort', onAbort)
    sub?.unsubscribe()
  }
}

export interface RestoreOptions {
  /** Stream name; the archive must hold a stream of this name (the server checks). */
  stream: string
  /** backup.json's `{config, state}`, possibly patched (replicas). */
  request: JsonObject
  /** The archive in chunks of at most restoreChunkBytes(the server's max_payload). */
  chunks: AsyncIterable<Uint8Array>
  /** Per chunk ack. */
  chunkTimeoutMs: number
  /** For the final reply: the server unpacks and recovers the stream first (jsm.go waits up to 1h). */
  finalTimeoutMs: number
  signal?: AbortSignal
  onChunk?(bytes: number): void
}

export interface RestoredStream {
  config: JsonObject
  state: JsonObject
}

export async function restoreSnapshot(api: JsApi, opts: RestoreOptions): Promise<RestoredStream> {
  const {nc} = api
  const what = `the restore of ${opts.stream}`
  const throwIfAborted = () => {
    if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new InterruptedError(`${what} was interrupted`)
  }
  throwIfAborted()
  const started = await jsRequest(api, `STREAM.RESTORE.${opts.stream}`, stringifyJson(opts.request))
  const deliver = started.deliver_subject
  if (typeof deliver !== 'string' || deliver === '') throw new OperationError(`${what} failed`, 'the server gave no subject to upload to', {system: SYSTEM, address: api.address})

  const send = async (chunk: Uint8Array, timeoutMs: number): Promise<Msg> => {
    try {
      return await nc.request(deliver, chunk, {timeout: timeoutMs})
    } catch (error) {
      const mapped = natsFailure(error, api, timeoutMs, what)
      if (mapped instanceof Error && /no responders/i.test(mapped.message)) {
        throw new OperationError(`${what} failed`, 'the server abandoned the upload (it gives up after 5s without a chunk)', {system: SYSTEM, address: api.address})
      }
      throw mapped
    }
  }
  // Acks come back in order; the oldest is awaited once the window is full. The first refusal ends the
  // upload: a chunk behind it is never answered, so its request is left to fail quietly.
  const inFlight: Array<{ack: Promise<Msg>; bytes: number}> = []
  const settleOldest = async () => {
    const {ack, bytes} = inFlight.shift()!
    const reply = await ack
    if (reply.data.length > 0) checkChunkAck(reply, api, what)
    opts.onChunk?.(bytes)
  }
  try {
    for await (const chunk of opts.chunks) {
      throwIfAborted()
      if (chunk.length === 0) continue
      inFlight.push({ack: send(chunk, opts.chunkTimeoutMs), bytes: chunk.length})
      if (inFlight.length >= RESTORE_WINDOW) await settleOldest()
    }
    while (inFlight.length > 0) await settleOldest()
  } finally {
    for (const {ack} of inFlight) ack.catch(() => undefined)
  }
  throwIfAborted()
  const final = await untilAborted(send(new Uint8Array(0), opts.finalTimeoutMs), opts.signal)
  let reply: JsonObject
  try {
    reply = parseApiReply(new TextDecoder().decode(final.data), api.address, what)
  } catch (error) {
    if (error instanceof JsApiError) throw new OperationError(`${what} failed`, `the server refused the archive: ${error.why}`, {system: SYSTEM, address: api.address})
    throw error
  }
  const {config, state} = reply
  if (!isJsonObject(config) || !isJsonObject(state)) throw new OperationError(`${what} failed`, 'the final reply has no stream info', {system: SYSTEM, address: api.address})
  return {config, state}
}

/** A chunk ack is empty; anything else is `-ERR ...` (2.9) or a JSON error (newer servers). */
function checkChunkAck(ack: Msg, api: JsApi, what: string): void {
  const text = new TextDecoder().decode(ack.data)
  if (text.startsWith('-ERR')) throw new OperationError(`${what} failed`, `the server refused a chunk: ${text.slice(4).trim().replace(/^'|'$/g, '')}`, {system: SYSTEM, address: api.address})
  try {
    parseApiReply(text, api.address, what)
  } catch (error) {
    if (error instanceof JsApiError) throw new OperationError(`${what} failed`, `the server refused a chunk: ${error.why}`, {system: SYSTEM, address: api.address})
    throw error
  }
}
