/**
 * Fast streaming read of a stream range, for replay: an ephemeral pull consumer (memory, R1, no acks)
 * from startSeq, pulled with raw CONSUMER.MSG.NEXT requests on one inbox subscription whose callback
 * hands every message to the sink synchronously. Synchronous delivery matters: everything the sink
 * publishes while one socket read is parsed leaves in one write, where an async iterator would flush
 * a write per message. The sink's room() bounds what is pulled (backpressure: never the whole
 * selection in memory).
 *
 * Order and exactly-once delivery are kept by sequence: a message at or below the last delivered
 * sequence is dropped, and a gap in the consumer's delivery sequence (or the consumer vanishing with
 * a restarted server) recreates the consumer from the last delivered sequence + 1. The end is fixed
 * up front (endSeq) and confirmed with STREAM.MSG.GET next_by_subj, never by num_pending alone (it is
 * off by a few for filtered consumers on 2.9.10).
 */
import type {Msg, MsgHdrs, Status, Subscription} from '@nats-io/transport-node'

import {InterruptedError, OperationError, TimeoutError} from '../../core/errors.js'
import type {JetStreamSession} from './session.js'
import {NANOS_PER_MS, toJetStreamError} from './jetstream.js'
import {HELPER_INACTIVE_MS, IDLE_CHECK_MS, type MessageFilter, nextMatching} from './messages.js'

/** Messages asked for by one pull request at most. */
const MAX_BATCH = 2048
/** A pull request expires (the server answers 408) after this long. */
const PULL_EXPIRES_MS = 2000
/** No message for this long while more is stored: the consumer is recreated. */
const STALL_MS = 5000
/** Pull requests outstanding at once: the next is already queued when one completes. */
const MAX_REQUESTS = 2

/** A stored event as replay handles it (also what a replay file line holds). */
export interface RangeEvent {
  seq: number
  subject: string
  /** Stored at, in milliseconds since the epoch. */
  timeMs: number
  headers: Record<string, string[]>
  data: Uint8Array
}

const NO_HEADERS: Record<string, string[]> = Object.freeze({}) as Record<string, string[]>

function headerRecord(headers: MsgHdrs | undefined): Record<string, string[]> {
  if (!headers) return NO_HEADERS
  const out: Record<string, string[]> = {}
  for (const key of headers.keys()) out[key] = headers.values(key)
  return out
}

export interface RangeSink {
  /** Called synchronously for every message of the range, in sequence order. Throwing stops the read. */
  onEvent(event: RangeEvent): void
  /** How many more messages the sink can take now; the reader pulls no more than that. */
  room(): number
}

export interface RangeReadOptions {
  startSeq: number
  /** Inclusive. */
  endSeq: number
  /** Only subjects and headers travel (dry-run). */
  headersOnly?: boolean
  signal?: AbortSignal
  /** No progress for this long while more is expected (server gone, consumer not recreated): TimeoutError. */
  idleLimitMs: number
}

interface PullRequest {
  remaining: number
  expiresAt: number
}

/**
 * The fields of a JetStream delivery reply subject, v1 (`$JS.ACK.<stream>.<consumer>.<delivered>.<seq>.
 * <delivery seq>.<nanos>.<pending>`, 9 tokens) or v2 (with domain and account hash after ACK, and a
 * trailing token). Scanned by hand: it runs once per replayed event.
 */
export function parseDeliveryReply(reply: string): {consumer: string; seq: number; deliverySeq: number; timeMs: number; pending: number} | undefined {
  if (!reply.startsWith('$JS.ACK.')) return undefined
  const dots: number[] = []
  for (let i = reply.indexOf('.'); i !== -1; i = reply.indexOf('.', i + 1)) dots.push(i)
  const tokens = dots.length + 1
  const base = tokens === 9 ? 2 : tokens >= 11 ? 4 : -1
  if (base < 0) return undefined
  const token = (n: number) => reply.slice(dots[n - 1] + 1, n < dots.length ? dots[n] : reply.length)
  const nanos = token(base + 5)
  return {
    consumer: token(base + 1),
    seq: Number(token(base + 3)),
    deliverySeq: Number(token(base + 4)),
    // Nanoseconds exceed 2^53: milliseconds are exact from the string.
    timeMs: Number(nanos.slice(0, -6)),
    pending: Number(token(base + 6)),
  }
}

/**
 * Reads the messages of [startSeq, endSeq] matching the filter, in order, each handed to the sink
 * once. Call wake() when the sink's room grows. read() resolves with the number delivered.
 */
export class RangeReader {
  private consumer?: string
  private lastSeq: number
  private lastDeliverySeq = 0
  private delivered = 0
  private readonly requests = new Map<number, PullRequest>()
  private requestId = 0
  private inbox = ''
  private subscription?: Subscription
  private statusIterator?: AsyncIterable<Status> & {stop(): void}
  private watchdog?: NodeJS.Timeout
  /** The last delivery (or the last time the sink had no room): the idle limit counts from here. */
  private lastProgress = Date.now()
  private createdAt = 0
  private checkingEnd = false
  private recreating = false
  private finished = false
  private resolve!: (count: number) => void
  private reject!: (error: unknown) => void

  constructor(
    private readonly session: JetStreamSession,
    private readonly filter: MessageFilter,
    private readonly options: RangeReadOptions,
    private readonly sink: RangeSink,
  ) {
    this.lastSeq = options.startSeq - 1
  }

  async read(): Promise<number> {
    const {address, timeoutMs} = this.session
    if (this.options.signal?.aborted) throw this.interrupted()
    try {
      if (await this.isEnd(this.lastSeq)) return 0
      const done = new Promise<number>((resolve, reject) => {
        this.resolve = resolve
        this.reject = reject
      })
      const {createInbox} = await import('@nats-io/transport-node')
      const {nc} = this.session
      this.inbox = createInbox((nc as unknown as {options?: {inboxPrefix?: string}}).options?.inboxPrefix)
      this.subscription = nc.subscribe(`${this.inbox}.*`, {callback: (_error, msg) => this.onMessage(msg)})
      this.options.signal?.addEventListener('abort', this.onAbort, {once: true})
      this.watchStatus()
      this.watchdog = setInterval(() => this.onIdle(), IDLE_CHECK_MS)
      await this.createConsumer()
      this.pull()
      return await done
    } catch (error) {
      this.stop()
      throw toJetStreamError(error, address, timeoutMs)
    }
  }

  /** The sink has room again. */
  wake(): void {
    if (!this.finished && !this.recreating) this.pull()
  }

  /** Stops reading: read() rejects with `error`. */
  cancel(error: unknown): void {
    this.fail(error)
  }

  private readonly onAbort = () => this.fail(this.interrupted())

  private interrupted(): unknown {
    const reason = this.options.signal?.reason
    return reason instanceof Error ? reason : new InterruptedError('replay was interrupted')
  }

  private api() {
    const {nc, jsApiPrefix, timeoutMs, address} = this.session
    return {nc, jsApiPrefix, timeoutMs, address}
  }

  /** Nothing matching after `afterSeq` up to the end. */
  private async isEnd(afterSeq: number): Promise<boolean> {
    if (afterSeq >= this.options.endSeq) return true
    const next = await nextMatching(this.api(), this.filter, afterSeq + 1)
    return !next || next.seq > this.options.endSeq
  }

  private async createConsumer(): Promise<void> {
    const filters = this.filter.filterSubjects
    const info = await this.session.jsm.consumers.add(this.filter.stream, {
      ack_policy: 'none',
      deliver_policy: 'by_start_sequence',
      opt_start_seq: this.lastSeq + 1,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: HELPER_INACTIVE_MS * NANOS_PER_MS,
      ...(filters.length === 0 ? {} : filters.length === 1 ? {filter_subject: filters[0]} : {filter_subjects: filters}),
      ...(this.options.headersOnly ? {headers_only: true} : {}),
    } as never)
    this.consumer = info.name
    this.lastDeliverySeq = 0
    this.requests.clear()
    this.createdAt = Date.now()
  }

  /**
   * A new consumer from the last delivered sequence: after a gap, a reconnect, or the consumer gone.
   * Retried until it works or the idle limit passes (the server may be restarting).
   */
  private recreate(): void {
    if (this.recreating || this.finished) return
    this.recreating = true
    const old = this.consumer
    this.consumer = undefined
    this.requests.clear()
    if (old) void this.session.jsm.consumers.delete(this.filter.stream, old).catch(() => undefined)
    const attempt = (delayMs: number) => {
      if (this.finished) return
      this.createConsumer()
        .then(() => {
          this.recreating = false
          this.pull()
        })
        .catch(() => {
          if (Date.now() - this.lastProgress > this.options.idleLimitMs) this.fail(new TimeoutError('nats', this.session.address, this.options.idleLimitMs))
          else setTimeout(() => attempt(Math.min(2000, delayMs * 2)), delayMs).unref()
        })
    }
    attempt(100)
  }

  private outstanding(): number {
    let sum = 0
    for (const request of this.requests.values()) sum += request.remaining
    return sum
  }

  private pull(): void {
    if (!this.consumer || this.finished) return
    if (this.requests.size >= MAX_REQUESTS) return
    const want = Math.min(MAX_BATCH, this.sink.room() - this.outstanding())
    // Small pulls cost as much as big ones: wait for a quarter batch of room unless nothing is coming.
    if (want <= 0 || (want < MAX_BATCH / 4 && this.requests.size > 0)) return
    const id = ++this.requestId
    this.requests.set(id, {remaining: want, expiresAt: Date.now() + PULL_EXPIRES_MS + this.session.timeoutMs})
    try {
      this.session.nc.publish(`${this.session.jsApiPrefix}.CONSUMER.MSG.NEXT.${this.filter.stream}.${this.consumer}`, JSON.stringify({batch: want, expires: PULL_EXPIRES_MS * NANOS_PER_MS}), {
        reply: `${this.inbox}.${id}`,
      })
    } catch (error) {
      this.fail(error)
    }
  }

  private onMessage(msg: Msg): void {
    if (this.finished) return
    if (!msg.reply) {
      // Status messages come on the request's own reply subject.
      if (msg.headers && msg.headers.code !== 0) this.onStatus(Number(msg.subject.slice(this.inbox.length + 1)), msg.headers.code, msg.headers.description)
      return
    }
    const meta = parseDeliveryReply(msg.reply)
    if (!meta || meta.consumer !== this.consumer) return // a late message of a consumer replaced since
    // Messages keep their own subject, so they cannot name their request: the server serves requests in order.
    for (const [id, request] of this.requests) {
      if (--request.remaining <= 0) this.requests.delete(id)
      break
    }
    if (meta.deliverySeq !== this.lastDeliverySeq + 1 && this.lastDeliverySeq !== 0) {
      this.recreate()
      return
    }
    this.lastDeliverySeq = meta.deliverySeq
    if (meta.seq <= this.lastSeq) return
    if (meta.seq > this.options.endSeq) {
      this.finish()
      return
    }
    this.lastSeq = meta.seq
    this.lastProgress = Date.now()
    this.delivered++
    try {
      this.sink.onEvent({seq: meta.seq, subject: msg.subject, timeMs: meta.timeMs, headers: headerRecord(msg.headers), data: msg.data})
    } catch (error) {
      this.fail(error)
      return
    }
    if (meta.seq >= this.options.endSeq) {
      this.finish()
      return
    }
    if (meta.pending === 0) this.checkEnd()
    this.pull()
  }

  private onStatus(id: number, code: number, description: string): void {
    if (code === 100) return // heartbeat
    this.requests.delete(id)
    if (code === 503 || (code === 409 && /deleted/i.test(description))) {
      // No responders: the consumer is gone (its server restarted), or the server is between leaders.
      this.recreate()
      return
    }
    if (code === 404 || code === 408 || code === 409) {
      // The request ended (no messages, expired, or a limit such as max waiting): ask again.
      this.pull()
      return
    }
    this.fail(new OperationError(`reading ${this.filter.stream} failed`, `the server answered ${code} ${description}`, {system: 'nats', address: this.session.address}))
  }

  private checkEnd(): void {
    if (this.checkingEnd) return
    this.checkingEnd = true
    const seen = this.lastSeq
    this.isEnd(seen)
      .then((end) => {
        if (end && seen === this.lastSeq) this.finish()
      })
      .catch(() => undefined) // asked again by the watchdog
      .finally(() => (this.checkingEnd = false))
  }

  private onIdle(): void {
    const now = Date.now()
    for (const [id, request] of this.requests) if (now > request.expiresAt) this.requests.delete(id) // lost with a connection
    // Waiting for the sink (a target electing a leader, --rate) is not the source's idleness.
    if (this.sink.room() <= 0) {
      this.lastProgress = now
      return
    }
    const idle = now - this.lastProgress
    if (idle < IDLE_CHECK_MS) return
    if (idle > this.options.idleLimitMs) {
      this.fail(new TimeoutError('nats', this.session.address, this.options.idleLimitMs))
      return
    }
    this.checkEnd()
    if (this.recreating) return
    // Pulls unanswered for this long while more is stored: the consumer died with a node, or is stuck.
    if (!this.consumer || now - Math.max(this.lastProgress, this.createdAt) > STALL_MS) this.recreate()
    else this.pull()
  }

  private watchStatus(): void {
    const iterator = this.session.nc.status() as AsyncIterable<Status> & {stop(): void}
    this.statusIterator = iterator
    void (async () => {
      for await (const status of iterator) {
        // A new connection: the consumer may have died with the old server, and pulls were lost.
        if (status.type === 'reconnect') this.recreate()
      }
    })().catch(() => undefined)
  }

  private finish(): void {
    if (this.finished) return
    this.stop()
    this.resolve(this.delivered)
  }

  private fail(error: unknown): void {
    if (this.finished) return
    this.stop()
    this.reject(error)
  }

  private stop(): void {
    this.finished = true
    clearInterval(this.watchdog)
    this.statusIterator?.stop()
    this.options.signal?.removeEventListener('abort', this.onAbort)
    this.subscription?.unsubscribe()
    if (this.consumer) void this.session.jsm.consumers.delete(this.filter.stream, this.consumer).catch(() => undefined)
  }
}
