/**
 * Pipelined JetStream publishing for replay, in the manner of Go's PublishAsync (nats.js v3 has none):
 * every message is published with a reply subject `<inbox>.<index>` on one shared inbox subscription,
 * and each acknowledgement is matched to its message by that index. No promise, timer or JSON parse
 * per message, and publish() is synchronous, so everything published while one batch of source
 * messages is handled leaves in one socket write.
 *
 * Up to maxInFlight are outstanding. Acknowledgements settle in publish order, so "everything up to
 * source sequence N is stored" is always known (the checkpoint). A publish whose ack is overdue may
 * still have been stored, so it is sent again with the same Nats-Msg-Id (an ack of any attempt
 * settles it; a duplicate ack means it was already stored, which counts as done).
 */
import type {NatsConnection, Subscription} from '@nats-io/transport-node'

import {ApiError, InterruptedError, OperationError, TimeoutError} from '../../core/errors.js'
import {backoffMs, TOO_MANY_REQUESTS} from './backpressure.js'
import {toNatsError} from './connection.js'

export interface ReplayOutgoing {
  /** Source sequence (or file line sequence): what the checkpoint records. */
  seq: number
  subject: string
  data: Uint8Array
  /** The header block, from encodeHeaders(). */
  headers: Uint8Array
}

export interface PublisherOptions {
  nc: NatsConnection
  address: string
  /** Sent as Nats-Expected-Stream by the caller's headers: no other stream can take them. */
  stream: string
  maxInFlight: number
  timeoutMs: number
  /**
   * How long a message is retried (after timeouts and no-responders) before the replay fails
   * [default 30 s]: long enough for a restarted server or a new stream leader.
   */
  retryForMs?: number
  /** Messages per second at most; 0 = unlimited. */
  rate?: number
  signal?: AbortSignal
  /** Called when acknowledgements free room in the window (or the publisher failed). */
  onRoom?: () => void
}

export interface PublisherStats {
  /** Newly stored in the target. */
  stored: number
  /** Already there (same Nats-Msg-Id within the duplicate window). */
  duplicates: number
  bytes: number
  retries: number
  /** Every message up to this source sequence is acknowledged. 0: none yet. */
  doneSeq: number
}

interface Pending {
  index: number
  message: ReplayOutgoing
  attempt: number
  firstSentAt: number
  sentAt: number
}

const DEFAULT_RETRY_FOR_MS = 30_000
const STORED = 1
const DUPLICATE = 2

/**
 * A NATS header block (`NATS/1.0` and `Key: value` lines). Built here because nats.js's MsgHdrs
 * validates and re-encodes every key on every publish, a tenth of the replay's CPU time; Buffer.from
 * encodes a short string several times faster than TextEncoder.
 */
export function encodeHeaders(headers: Array<[string, string[]]>): Uint8Array {
  let text = 'NATS/1.0\r\n'
  for (const [key, values] of headers) {
    for (const value of values) text += `${key}: ${value.includes('\r') || value.includes('\n') ? value.replace(/[\r\n]+/g, ' ') : value}\r\n`
  }
  return Buffer.from(`${text}\r\n`)
}

export const CRLF = Buffer.from('\r\n')

/** What the replay's publishing needs of a publisher: the pipelined one here, or fast batches (fast-batch.ts). */
export interface ReplayPublishing {
  readonly stats: PublisherStats
  readonly failure: unknown
  open(): Promise<void>
  room(): number
  publish(message: ReplayOutgoing): void
  whenRoom(): Promise<void>
  drain(): Promise<void>
  close(): void
}

/** The part of nats.js's protocol handler that queues frames for the socket (nats-core 3.x). */
export interface FrameQueue {
  sendCommand(command: Uint8Array, ...payloads: Uint8Array[]): void
  info?: {max_payload?: number}
}

/**
 * nats.js's publish() checks the subjects with a regex and encodes each HPUB line with TextEncoder:
 * about a fifth of the replay's CPU per event. The same frame is queued here directly when the
 * connection exposes nats-core's protocol handler; otherwise publish() is used.
 */
export function frameQueue(nc: NatsConnection): FrameQueue | undefined {
  const protocol = (nc as unknown as {protocol?: FrameQueue}).protocol
  return typeof protocol?.sendCommand === 'function' ? protocol : undefined
}

/** --rate for a publisher: how many more messages it allows now, waking the publisher when the next one is due. */
export class RatePacer {
  private started = 0
  private timer?: NodeJS.Timeout

  /** `rate` messages a second; 0 is no limit. */
  constructor(
    private readonly rate: number,
    private readonly wake: () => void,
  ) {}

  /** How many more may go now, `published` having gone since the first call (Infinity without a rate). */
  allowance(published: number): number {
    if (this.rate <= 0) return Number.POSITIVE_INFINITY
    this.started ||= Date.now()
    const allowed = Math.floor(((Date.now() - this.started) / 1000) * this.rate) + 1 - published
    if (allowed <= 0) this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.wake()
    }, Math.max(1, Math.ceil(1000 / this.rate)))
    return allowed
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }
}

export class ReplayPublisher implements ReplayPublishing {
  readonly stats: PublisherStats = {stored: 0, duplicates: 0, bytes: 0, retries: 0, doneSeq: 0}
  /** Published so far; a message's index is its position in publish order. */
  private published = 0
  /** Every message below this index is acknowledged. */
  private settled = 0
  private seqs: Float64Array
  private outcomes: Uint8Array
  private readonly pending = new Map<number, Pending>()
  private inbox = ''
  private replyPrefix = ''
  private frames?: FrameQueue
  private subscription?: Subscription
  private sweeper?: NodeJS.Timeout
  private readonly pacer: RatePacer
  private failed?: unknown
  private waiters: Array<{resolve(): void; reject(error: unknown): void; until: number}> = []

  constructor(private readonly options: PublisherOptions) {
    this.pacer = new RatePacer(options.rate ?? 0, () => this.notify())
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(16, options.maxInFlight * 2)))
    this.seqs = new Float64Array(capacity)
    this.outcomes = new Uint8Array(capacity)
  }

  async open(): Promise<void> {
    const {createInbox} = await import('@nats-io/transport-node')
    const prefix = (this.options.nc as unknown as {options?: {inboxPrefix?: string}}).options?.inboxPrefix
    this.inbox = createInbox(prefix)
    this.replyPrefix = `${this.inbox}.`
    this.frames = frameQueue(this.options.nc)
    this.subscription = this.options.nc.subscribe(`${this.inbox}.*`, {callback: (_error, msg) => this.onAck(msg.subject, msg.data, msg.headers?.code ?? 0)})
    const every = Math.max(50, Math.min(500, this.options.timeoutMs / 4))
    this.sweeper = setInterval(() => this.sweep(), every)
    this.sweeper.unref()
  }

  /** Why publishing stopped (a refused or never-acknowledged message), if it did. */
  get failure(): unknown {
    return this.failed
  }

  get inFlight(): number {
    return this.published - this.settled
  }

  /** How many more may be published now (window and --rate); 0 once failed. */
  room(): number {
    if (this.failed !== undefined) return 0
    return Math.max(0, Math.min(this.options.maxInFlight - this.inFlight, this.pacer.allowance(this.published)))
  }

  /** Publishes one message (synchronously); callers keep within room(). */
  publish(message: ReplayOutgoing): void {
    if (this.failed !== undefined) throw this.failed
    if (this.options.signal?.aborted) throw new InterruptedError('replay was interrupted')
    if (this.inFlight >= this.seqs.length) this.grow()
    const index = this.published++
    this.seqs[index & (this.seqs.length - 1)] = message.seq
    this.stats.bytes += message.data.length
    this.send({index, message, attempt: 1, firstSentAt: Date.now(), sentAt: 0})
  }

  /** Resolves once at most `until` messages are outstanding (default: half the window). */
  whenRoom(until = Math.floor(this.options.maxInFlight / 2)): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed)
    if (this.inFlight <= until && this.room() > 0) return Promise.resolve()
    return new Promise((resolve, reject) => this.waiters.push({resolve, reject, until}))
  }

  /** Waits for every outstanding acknowledgement. */
  drain(): Promise<void> {
    return this.whenRoom(0)
  }

  close(): void {
    clearInterval(this.sweeper)
    this.pacer.stop()
    this.subscription?.unsubscribe()
    this.pending.clear()
    this.fail(new InterruptedError('replay was stopped'))
  }

  private grow(): void {
    const seqs = new Float64Array(this.seqs.length * 2)
    const outcomes = new Uint8Array(this.outcomes.length * 2)
    for (let i = this.settled; i < this.published; i++) {
      seqs[i & (seqs.length - 1)] = this.seqs[i & (this.seqs.length - 1)]
      outcomes[i & (outcomes.length - 1)] = this.outcomes[i & (this.outcomes.length - 1)]
    }
    this.seqs = seqs
    this.outcomes = outcomes
  }

  private send(entry: Pending): void {
    entry.sentAt = Date.now()
    this.pending.set(entry.index, entry)
    const {subject, data, headers} = entry.message
    const reply = this.replyPrefix + entry.index
    try {
      const {nc} = this.options
      const maxPayload = this.frames?.info?.max_payload
      if (this.frames && maxPayload !== undefined && !nc.isClosed()) {
        const size = headers.length + data.length
        if (size > maxPayload) throw new OperationError(`publishing ${subject} failed`, `the event is ${size} bytes, over the server's max_payload of ${maxPayload}`, {system: 'nats', address: this.options.address})
        this.frames.sendCommand(Buffer.from(`HPUB ${subject} ${reply} ${headers.length} ${size}\r\n`), headers, data, CRLF)
      } else {
        // nats.js only calls encode() on the headers it is given: the block built by encodeHeaders().
        nc.publish(subject, data, {reply, headers: {encode: () => headers} as unknown as import('@nats-io/transport-node').MsgHdrs})
      }
    } catch (error) {
      this.pending.delete(entry.index)
      this.fail(toNatsError(error, this.options.address, this.options.timeoutMs))
    }
  }

  private retry(entry: Pending, why: () => unknown): void {
    if (this.failed !== undefined || this.isAcknowledged(entry.index)) return
    if (Date.now() - entry.firstSentAt >= (this.options.retryForMs ?? DEFAULT_RETRY_FOR_MS) || this.options.signal?.aborted) {
      this.fail(why())
      return
    }
    entry.attempt++
    this.stats.retries++
    this.send(entry)
  }

  private sweep(): void {
    const now = Date.now()
    const {address, timeoutMs} = this.options
    for (const entry of [...this.pending.values()]) {
      if (now - entry.sentAt < timeoutMs) continue
      this.pending.delete(entry.index)
      this.retry(entry, () => new TimeoutError('nats', address, timeoutMs))
    }
  }

  private onAck(subject: string, data: Uint8Array, status: number): void {
    const index = Number(subject.slice(this.inbox.length + 1))
    const entry = this.pending.get(index)
    if (!entry || this.isAcknowledged(index)) return // a late ack of a publish already settled
    this.pending.delete(index)
    const {address} = this.options
    const {message} = entry
    if (status === 503 || data.length === 0) {
      // No responders: no stream (yet) for the subject, e.g. while a server restarts or a leader is elected.
      const why = () =>
        new OperationError(`publishing ${message.subject} failed`, `no stream stored it (no responders) after ${entry.attempt} attempts`, {
          system: 'nats',
          address,
          hint: `check that stream ${this.options.stream} exists and captures the subject`,
        })
      setTimeout(() => this.retry(entry, why), Math.min(2000, 100 * 2 ** entry.attempt)).unref()
      this.pending.set(index, {...entry, sentAt: Number.POSITIVE_INFINITY}) // not swept while it waits
      return
    }
    const outcome = parseAck(data)
    if (outcome === 'invalid') {
      this.fail(new ApiError('nats', address, `publishing ${message.subject}: the acknowledgement is not a JetStream PubAck`))
      return
    }
    if (typeof outcome === 'object' && outcome.status === TOO_MANY_REQUESTS) {
      // Backpressure (2.11+): the stream's inbound queue is full. Sent again after a growing pause, within the retry budget.
      const why = () =>
        new OperationError(`publishing ${message.subject} failed`, `the stream kept answering 429 ${outcome.description} for ${Math.round((Date.now() - entry.firstSentAt) / 1000)}s`, {
          system: 'nats',
          address,
          hint: 'the server is overloaded; lower --rate or --max-in-flight and resume',
        })
      setTimeout(() => this.retry(entry, why), backoffMs(entry.attempt + 1)).unref()
      this.pending.set(index, {...entry, sentAt: Number.POSITIVE_INFINITY}) // not swept while it waits
      return
    }
    if (typeof outcome === 'object') {
      this.fail(new OperationError(`publishing ${message.subject} (source sequence ${message.seq}) failed`, `the server refused it: ${outcome.description} (${outcome.code})`, {system: 'nats', address}))
      return
    }
    this.outcomes[index & (this.outcomes.length - 1)] = outcome === 'duplicate' ? DUPLICATE : STORED
    this.advance()
  }

  private isAcknowledged(index: number): boolean {
    return index < this.settled || this.outcomes[index & (this.outcomes.length - 1)] !== 0
  }

  /** Settles the acknowledged run at the head of the window, in publish order. */
  private advance(): void {
    const mask = this.outcomes.length - 1
    const before = this.settled
    while (this.settled < this.published && this.outcomes[this.settled & mask] !== 0) {
      const slot = this.settled & mask
      if (this.outcomes[slot] === DUPLICATE) this.stats.duplicates++
      else this.stats.stored++
      this.stats.doneSeq = this.seqs[slot]
      this.outcomes[slot] = 0
      this.settled++
    }
    if (this.settled !== before) this.notify()
  }

  private notify(): void {
    if (this.waiters.length > 0) {
      const room = this.room() > 0
      this.waiters = this.waiters.filter((waiter) => {
        if (this.inFlight > waiter.until || !room) return true
        waiter.resolve()
        return false
      })
    }
    this.options.onRoom?.()
  }

  private fail(error: unknown): void {
    if (this.failed !== undefined) return
    this.failed = error
    for (const waiter of this.waiters) waiter.reject(error)
    this.waiters = []
    this.options.onRoom?.()
  }
}

/**
 * A PubAck without JSON.parse on the hot path: `{"stream":…,"seq":…[,"domain":…][,"duplicate":true]}`
 * (Go's field order: duplicate is last when present), or `{"error":{…}}`.
 */
/** A refusal carries the status (`code`: 400, 429, 503, ...) and JetStream's own `err_code` (as `code` when present). */
export function parseAck(data: Uint8Array): 'stored' | 'duplicate' | 'invalid' | {status: number; code: number; description: string} {
  const n = data.length
  if (n < 2 || data[0] !== 0x7b /* { */ || data[n - 1] !== 0x7d /* } */) return 'invalid'
  // `{"error"`: byte 2 is 'e'; a PubAck starts `{"stream"`.
  if (data[2] === 0x65) {
    try {
      const {error} = JSON.parse(new TextDecoder().decode(data)) as {error?: {code?: number; err_code?: number; description?: string}}
      return {status: error?.code ?? 0, code: error?.err_code ?? error?.code ?? 0, description: error?.description ?? 'unknown error'}
    } catch {
      return 'invalid'
    }
  }
  if (data[2] !== 0x73 /* s */) return 'invalid'
  // ...,"duplicate":true}
  const duplicate = n > 5 && data[n - 2] === 0x65 && data[n - 3] === 0x75 && data[n - 4] === 0x72 && data[n - 5] === 0x74
  return duplicate ? 'duplicate' : 'stored'
}
