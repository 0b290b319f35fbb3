/**
 * Fast-ingest batch publishing for replay (ADR-50; nats-server 2.14+, a stream with `allow_batched`): the
 * batch metadata travels in the reply subject (`<inbox>.<batch id>.<flow>.fail.<batch seq>.<op>.$FI`), and
 * the server acknowledges once per flow window (up to 500 messages) instead of once per message, which
 * is most of its per-message cost.
 *
 * Exactly once, as in the pipelined path: every message carries its Nats-Msg-Id, the batch runs in
 * `gap: fail` mode (the server stores nothing past a gap, so "everything up to batch seq N is stored"
 * holds), and whatever is not yet confirmed stays buffered. When a batch is lost (10208 after a server
 * restart or 10 s idle, a gap or refused message ending it early, no acknowledgement within the timeout,
 * a new stream leader) a new batch resends from the first unconfirmed message; what was stored already is
 * skipped by the server as a duplicate.
 *
 * Unlike nats.js 3.4's internal fast-ingest client, the first reply must prove the feature: a server
 * before 2.14 treats a `$FI` reply as an ordinary one and answers a plain PubAck (the message is stored),
 * which fails here instead of passing for an acknowledgement. Per-message errors end the batch (fail mode)
 * and fail the replay with the server's reason; gaps and lost batches are resent.
 */
import {randomBytes} from 'node:crypto'

import type {JetStreamManager} from '@nats-io/jetstream'
import type {Subscription} from '@nats-io/transport-node'

import {ApiError, InterruptedError, OperationError, TimeoutError} from '../../core/errors.js'
import {backoffMs, TOO_MANY_REQUESTS} from './backpressure.js'
import {toNatsError} from './connection.js'
import {CRLF, type FrameQueue, frameQueue, type PublisherOptions, RatePacer, type PublisherStats, type ReplayOutgoing, type ReplayPublishing} from './replay-publish.js'

/** The most messages per flow acknowledgement the server grants. */
const MAX_FLOW = 500
/** Flow windows outstanding (ADR-50 recommends 2). */
const OUTSTANDING_WINDOWS = 2
const DEFAULT_RETRY_FOR_MS = 30_000
const OP_START = 0
const OP_APPEND = 1
const OP_END = 3
const OP_PING = 4
const BATCH_DISABLED = 10_205
const BATCH_UNKNOWN = 10_208
const TOO_MANY_BATCHES = 10_211

/** The flow window asked for: half of --max-in-flight, so that two windows outstanding keep within it. */
export function requestedFlow(maxInFlight: number): number {
  return Math.max(1, Math.min(MAX_FLOW, Math.floor(maxInFlight / OUTSTANDING_WINDOWS)))
}

/** Whether a stream's echoed config has `allow_batched` (2.9 drops the field it does not know, so its echo never has it). */
export async function allowsBatched(jsm: JetStreamManager, stream: string): Promise<boolean> {
  return (await jsm.streams.info(stream)).config.allow_batched === true
}

/** Sets `allow_batched` on an existing stream; true when the server's echo has it. */
export async function enableBatched(jsm: JetStreamManager, stream: string): Promise<boolean> {
  return (await jsm.streams.update(stream, {allow_batched: true})).config.allow_batched === true
}

/** A reply on a batch's inbox: a control message (`type`), or a PubAck (the batch ended, or an error). */
interface BatchReply {
  type?: 'ack' | 'gap' | 'err'
  seq?: number
  msgs?: number
  batch?: string
  count?: number
  error?: {code?: number; err_code?: number; description?: string}
}

/** `idle`: no batch open; `starting`: its first message sent, waiting for the server's first ack; `ending`: end of batch sent; `paused`: waiting to start again. */
type BatchState = 'idle' | 'starting' | 'open' | 'ending' | 'paused'

export class FastBatchPublisher implements ReplayPublishing {
  readonly stats: PublisherStats = {stored: 0, duplicates: 0, bytes: 0, retries: 0, doneSeq: 0}
  readonly flow: number
  /** Unconfirmed messages, oldest first, from `head` on: the one at `head` has publish index `confirmed`. */
  private queue: ReplayOutgoing[] = []
  private head = 0
  private published = 0
  private confirmed = 0
  private state: BatchState = 'idle'
  private batchId = ''
  private replyPrefix = ''
  /** Publish index of the batch's first message (batch seq 1). */
  private batchStart = 0
  /** Highest batch seq sent, and confirmed. */
  private sent = 0
  private acked = 0
  /** The server's latest flow window (`msgs`). */
  private window = 1
  /** A message the server refused (`type: err`): the batch ends just before it. */
  private refused?: {seq: number; description: string; code: number}
  /** A captured subject for pings: the batch's first message's. */
  private batchSubject = ''
  private draining = false
  private attempts = 0
  /** When the server last answered for the current batch (a live batch answers pings). */
  private heardAt = 0
  /** When the last flow ack or PubAck came: the retry budget runs from there, across new batches. */
  private progressAt = 0
  private inbox = ''
  private frames?: FrameQueue
  private subscription?: Subscription
  private ticker?: NodeJS.Timeout
  private pause?: NodeJS.Timeout
  private readonly pacer: RatePacer
  private failed?: unknown
  private waiters: Array<{ready(): boolean; resolve(): void; reject(error: unknown): void}> = []

  constructor(private readonly options: PublisherOptions) {
    this.flow = requestedFlow(options.maxInFlight)
    this.pacer = new RatePacer(options.rate ?? 0, () => this.notify())
  }

  async open(): Promise<void> {
    const {createInbox} = await import('@nats-io/transport-node')
    const prefix = (this.options.nc as unknown as {options?: {inboxPrefix?: string}}).options?.inboxPrefix
    this.inbox = createInbox(prefix)
    this.frames = frameQueue(this.options.nc)
    this.subscription = this.options.nc.subscribe(`${this.inbox}.>`, {callback: (_error, msg) => this.onReply(msg.subject, msg.data, msg.headers?.code ?? 0)})
    this.progressAt = Date.now()
    this.ticker = setInterval(() => this.tick(), this.pingEveryMs())
    this.ticker.unref()
  }

  get failure(): unknown {
    return this.failed
  }

  get inFlight(): number {
    return this.published - this.confirmed
  }

  room(): number {
    if (this.failed !== undefined) return 0
    return Math.max(0, Math.min(this.options.maxInFlight - this.inFlight, this.pacer.allowance(this.published)))
  }

  /** Queues one message and sends what the server's window allows (synchronously); callers keep within room(). */
  publish(message: ReplayOutgoing): void {
    if (this.failed !== undefined) throw this.failed
    if (this.options.signal?.aborted) throw new InterruptedError('replay was interrupted')
    this.queue.push(message)
    this.published++
    this.stats.bytes += message.data.length
    this.pump()
  }

  whenRoom(until = Math.floor(this.options.maxInFlight / 2)): Promise<void> {
    return this.waitFor(() => this.inFlight <= until && this.room() > 0)
  }

  /** Sends the rest, ends the batch and waits until every message is confirmed. */
  drain(): Promise<void> {
    this.draining = true
    this.pump()
    return this.waitFor(() => this.inFlight === 0 && this.state === 'idle')
  }

  close(): void {
    clearInterval(this.ticker)
    clearTimeout(this.pause)
    this.pacer.stop()
    this.subscription?.unsubscribe()
    this.fail(new InterruptedError('replay was stopped'))
  }

  private waitFor(ready: () => boolean): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed)
    if (ready()) return Promise.resolve()
    return new Promise((resolve, reject) => this.waiters.push({ready, resolve, reject}))
  }

  private pingEveryMs(): number {
    return Math.max(50, Math.min(3000, this.options.timeoutMs / 3))
  }

  private at(index: number): ReplayOutgoing {
    return this.queue[this.head + index - this.confirmed]
  }

  /** Sends what the window allows: a new batch's first message, or appends; the end of batch once drained. */
  private pump(): void {
    if (this.failed !== undefined) return
    if (this.state === 'idle') {
      if (this.inFlight > 0) this.startBatch()
      return
    }
    if (this.state !== 'open') return
    const limit = this.acked + this.window * OUTSTANDING_WINDOWS
    let next = this.batchStart + this.sent
    while (next < this.published && this.sent < limit) {
      this.sent++
      this.send(this.at(next++), this.sent, OP_APPEND)
    }
    if (this.draining && next === this.published) {
      this.state = 'ending'
      this.sendControl(OP_END, this.sent + 1)
    }
  }

  private startBatch(): void {
    // A fresh id each time: the server keys a batch by (stream, id), and an abandoned one must not be continued.
    this.batchId = randomBytes(12).toString('base64url')
    this.replyPrefix = `${this.inbox}.${this.batchId}.${this.flow}.fail.`
    this.batchStart = this.confirmed
    this.sent = 1
    this.acked = 0
    this.window = 1
    this.refused = undefined
    this.state = 'starting'
    this.heardAt = Date.now()
    const first = this.at(this.confirmed)
    this.batchSubject = first.subject
    this.send(first, 1, OP_START)
  }

  private send(message: ReplayOutgoing, batchSeq: number, op: number): void {
    const {subject, data, headers} = message
    const reply = `${this.replyPrefix}${batchSeq}.${op}.$FI`
    try {
      const {nc} = this.options
      const maxPayload = this.frames?.info?.max_payload
      if (this.frames && maxPayload !== undefined && !nc.isClosed()) {
        const size = headers.length + data.length
        if (size > maxPayload) throw new OperationError(`publishing ${subject} failed`, `the event is ${size} bytes, over the server's max_payload of ${maxPayload}`, {system: 'nats', address: this.options.address})
        this.frames.sendCommand(Buffer.from(`HPUB ${subject} ${reply} ${headers.length} ${size}\r\n`), headers, data, CRLF)
      } else {
        nc.publish(subject, data, {reply, headers: {encode: () => headers} as unknown as import('@nats-io/transport-node').MsgHdrs})
      }
    } catch (error) {
      this.fail(toNatsError(error, this.options.address, this.options.timeoutMs))
    }
  }

  /** An end of batch or a ping: an empty message to a subject the stream captures (never stored). */
  private sendControl(op: number, batchSeq: number): void {
    try {
      this.options.nc.publish(this.batchSubject, new Uint8Array(0), {reply: `${this.replyPrefix}${batchSeq}.${op}.$FI`})
    } catch (error) {
      this.fail(toNatsError(error, this.options.address, this.options.timeoutMs))
    }
  }

  private onReply(subject: string, data: Uint8Array, status: number): void {
    const rest = subject.slice(this.inbox.length + 1)
    // A late reply to a batch given up (or one not started yet) says nothing about the current one.
    if (rest.slice(0, rest.indexOf('.')) !== this.batchId || this.state === 'idle' || this.state === 'paused' || this.failed !== undefined) return
    const {address, stream} = this.options
    if (status === 503 || data.length === 0) {
      // No responders: no stream leader for the subject yet (a restarting server, an election).
      this.startLater(() => new OperationError(`publishing to ${stream} failed`, `no stream stored the batch (no responders) after ${this.attempts} attempts`, {system: 'nats', address, hint: `check that stream ${stream} exists and captures the subjects`}))
      return
    }
    let reply: BatchReply
    try {
      reply = JSON.parse(new TextDecoder().decode(data)) as BatchReply
    } catch {
      this.fail(new ApiError('nats', address, 'a fast batch reply is not JSON'))
      return
    }
    if (reply.type === 'ack') this.onFlowAck(reply.seq ?? 0, reply.msgs ?? 1)
    else if (reply.type === 'err') this.refused ??= {seq: reply.seq ?? 0, description: reply.error?.description ?? 'unknown error', code: reply.error?.err_code ?? reply.error?.code ?? 0}
    // `type: gap` is informational: in fail mode the PubAck that ends the batch follows, counting up to the gap.
    else if (reply.type === undefined) this.onPubAck(reply)
  }

  private onFlowAck(seq: number, msgs: number): void {
    this.heardAt = this.progressAt = Date.now()
    this.attempts = 0
    if (this.state === 'starting') this.state = 'open'
    this.window = Math.max(1, msgs)
    this.confirm(seq)
    this.pump()
  }

  private onPubAck(reply: BatchReply): void {
    const {address, stream} = this.options
    if (reply.error) {
      const code = reply.error.err_code ?? reply.error.code ?? 0
      const description = reply.error.description ?? 'unknown error'
      if (code === BATCH_UNKNOWN) {
        // The server lost the batch (restarted, or 10 s without a message): a new one resends what is unconfirmed.
        this.restart()
      } else if (code === TOO_MANY_BATCHES || reply.error.code === TOO_MANY_REQUESTS) {
        this.startLater(() => new OperationError(`publishing to ${stream} failed`, `the stream kept answering ${description}`, {system: 'nats', address, hint: 'the server is overloaded; resume later'}))
      } else if (code === BATCH_DISABLED) {
        this.fail(new OperationError(`publishing to ${stream} failed`, 'the stream no longer allows batched publishing', {system: 'nats', address, hint: 'resume with --publish-mode async'}))
      } else {
        this.fail(new OperationError(`publishing to ${stream} failed`, `the server refused the batch: ${description} (${code})`, {system: 'nats', address}))
      }
      return
    }
    if (reply.batch === undefined) {
      // Before 2.14 a `$FI` reply subject is an ordinary reply: the message was stored as a plain publish.
      this.fail(new OperationError(`publishing to ${stream} failed`, 'the server answered a fast batch with a plain PubAck: it has no fast batch publishing', {system: 'nats', address, hint: 'resume with --publish-mode async'}))
      return
    }
    this.heardAt = this.progressAt = Date.now()
    this.confirm(reply.count ?? 0)
    this.state = 'idle'
    const {refused} = this
    if (refused && this.inFlight > 0) {
      const message = this.at(this.confirmed)
      this.fail(new OperationError(`publishing ${message.subject} (source sequence ${message.seq}) failed`, `the server refused it: ${refused.description} (${refused.code})`, {system: 'nats', address}))
      return
    }
    // Ended early (a gap: messages lost in transit): the rest goes in a new batch.
    this.stats.retries += Math.max(0, this.batchStart + this.sent - this.confirmed)
    this.pump()
    this.notify()
  }

  /** Everything up to batch seq `seq` is stored: settled, in order. */
  private confirm(seq: number): void {
    const upTo = Math.min(seq, this.sent)
    if (upTo <= this.acked) return
    const count = upTo - this.acked
    this.stats.stored += count
    this.stats.doneSeq = this.at(this.batchStart + upTo - 1).seq
    this.acked = upTo
    this.confirmed += count
    this.head += count
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    this.notify()
  }

  /** Gives up the current batch and resends what is unconfirmed in a new one. */
  private restart(): void {
    this.stats.retries += Math.max(0, this.batchStart + this.sent - this.confirmed)
    this.state = 'idle'
    this.attempts++
    this.pump()
  }

  /** Starts a new batch after a growing pause (no stream leader yet, too many batches open). */
  private startLater(why: () => unknown): void {
    if (Date.now() - this.progressAt >= (this.options.retryForMs ?? DEFAULT_RETRY_FOR_MS)) {
      this.fail(why())
      return
    }
    this.stats.retries += Math.max(0, this.batchStart + this.sent - this.confirmed)
    this.state = 'paused'
    this.attempts++
    this.pause = setTimeout(() => {
      this.state = 'idle'
      this.pump()
    }, backoffMs(this.attempts + 1))
    this.pause.unref()
  }

  /**
   * Keeps the batch alive and notices when it is lost: a ping when the server was quiet for a while (it
   * answers with its flow ack, and a ping counts as activity against its 10 s idle limit; acks of a large
   * window are far apart at a low --rate); no answer within the timeout, a new batch; no progress within
   * the retry budget, the replay fails.
   */
  private tick(): void {
    if (this.failed !== undefined || this.state === 'idle' || this.state === 'paused') return
    const now = Date.now()
    const {address, timeoutMs, retryForMs = DEFAULT_RETRY_FOR_MS, signal} = this.options
    if (now - this.progressAt >= retryForMs || signal?.aborted) {
      this.fail(new TimeoutError('nats', address, timeoutMs))
      return
    }
    if (now - this.heardAt >= timeoutMs) this.restart()
    else if (this.state === 'open' && now - this.heardAt >= this.pingEveryMs()) this.sendControl(OP_PING, this.sent)
  }

  private notify(): void {
    if (this.waiters.length > 0) {
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.ready()) return true
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
