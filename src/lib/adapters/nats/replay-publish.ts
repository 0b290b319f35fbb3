/**
 * Pipelined JetStream publishing for replay: publishes with reply subjects on one shared inbox, up to
 * `maxInFlight` outstanding, settled in order so "everything up to source sequence N is stored" is
 * always known (the checkpoint). A timed-out publish may still have been stored, so it is retried
 * with the same Nats-Msg-Id; a duplicate ack means it already is, which counts as done.
 */
import type {NatsConnection} from '@nats-io/transport-node'

import {ApiError, InterruptedError, OperationError, TimeoutError} from '../../core/errors.js'
import {toNatsError} from './connection.js'

export interface ReplayOutgoing {
  /** Source sequence (or file line sequence): what the checkpoint records. */
  seq: number
  subject: string
  data: Uint8Array
  headers: Array<[string, string[]]>
}

export interface PublisherOptions {
  nc: NatsConnection
  address: string
  /** Sent as Nats-Expected-Stream: no other stream can take them. */
  stream: string
  maxInFlight: number
  timeoutMs: number
  /** Publish attempts per message before giving up (timeouts and no-responders only). */
  attempts?: number
  /** Messages per second at most; 0 = unlimited. */
  rate?: number
  signal?: AbortSignal
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
  message: ReplayOutgoing
  headers: import('@nats-io/transport-node').MsgHdrs
  attempt: number
  sentAt: number
  resolve(duplicate: boolean): void
  reject(error: unknown): void
}

/**
 * Publishes with reply subjects on one shared inbox subscription and matches the acknowledgements by
 * token (Go's PublishAsync, which nats.js v3 lacks): no per-message request and timer. One sweep
 * retries publishes whose ack is overdue, with the same Nats-Msg-Id.
 */
export class ReplayPublisher {
  readonly stats: PublisherStats = {stored: 0, duplicates: 0, bytes: 0, retries: 0, doneSeq: 0}
  private readonly inFlight: Array<{seq: number; ack: Promise<boolean>}> = []
  private readonly pending = new Map<string, Pending>()
  private started = 0
  private sent = 0
  private token = 0
  private inbox?: string
  private subscription?: import('@nats-io/transport-node').Subscription
  private sweeper?: NodeJS.Timeout
  private headersCtor?: typeof import('@nats-io/transport-node').headers

  constructor(private readonly options: PublisherOptions) {}

  /** Queues one message; resolves once there is room for the next one. */
  async push(message: ReplayOutgoing): Promise<void> {
    if (this.options.signal?.aborted) throw new InterruptedError('replay was interrupted')
    if (!this.inbox) await this.open()
    if (this.options.rate) await this.pace()
    const h = this.headersCtor!()
    for (const [key, values] of message.headers) for (const value of values) h.append(key, value)
    h.set('Nats-Expected-Stream', this.options.stream)
    const ack = new Promise<boolean>((resolve, reject) => this.send({message, headers: h, attempt: 1, sentAt: 0, resolve, reject}))
    ack.catch(() => undefined)
    this.inFlight.push({seq: message.seq, ack})
    this.stats.bytes += message.data.length
    // A full window is refilled by halves: publishes then leave in bursts (fewer socket writes).
    if (this.inFlight.length >= this.options.maxInFlight) {
      const low = Math.floor(this.options.maxInFlight / 2)
      while (this.inFlight.length > low) await this.settleOldest()
    }
  }

  /** Waits for every outstanding acknowledgement. */
  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.settleOldest()
  }

  /** After a failure: observe what is left so nothing is unhandled. */
  abandon(): void {
    for (const {ack} of this.inFlight) ack.catch(() => undefined)
    this.inFlight.length = 0
    for (const entry of this.pending.values()) entry.reject(new InterruptedError('replay was stopped'))
    this.pending.clear()
  }

  close(): void {
    this.abandon()
    clearInterval(this.sweeper)
    this.subscription?.unsubscribe()
  }

  private async open(): Promise<void> {
    const {createInbox, headers} = await import('@nats-io/transport-node')
    this.headersCtor = headers
    const prefix = (this.options.nc as unknown as {options?: {inboxPrefix?: string}}).options?.inboxPrefix
    this.inbox = createInbox(prefix)
    this.subscription = this.options.nc.subscribe(`${this.inbox}.*`, {callback: (_error, msg) => this.onAck(msg.subject, msg.data, msg.headers?.code ?? 0)})
    const every = Math.max(50, Math.min(500, this.options.timeoutMs / 4))
    this.sweeper = setInterval(() => this.sweep(), every)
    this.sweeper.unref()
  }

  private send(entry: Pending): void {
    const token = String(++this.token)
    entry.sentAt = Date.now()
    this.pending.set(token, entry)
    try {
      this.options.nc.publish(entry.message.subject, entry.message.data, {reply: `${this.inbox}.${token}`, headers: entry.headers})
    } catch (error) {
      this.pending.delete(token)
      entry.reject(toNatsError(error, this.options.address, this.options.timeoutMs))
    }
  }

  private retry(entry: Pending, why: () => unknown): void {
    const attempts = this.options.attempts ?? 5
    if (entry.attempt >= attempts || this.options.signal?.aborted) {
      entry.reject(why())
      return
    }
    entry.attempt++
    this.stats.retries++
    this.send(entry)
  }

  private sweep(): void {
    const now = Date.now()
    const {address, timeoutMs} = this.options
    for (const [token, entry] of this.pending) {
      if (now - entry.sentAt < timeoutMs) continue
      this.pending.delete(token)
      this.retry(entry, () => new TimeoutError('nats', address, timeoutMs))
    }
  }

  private onAck(subject: string, data: Uint8Array, status: number): void {
    const token = subject.slice(subject.lastIndexOf('.') + 1)
    const entry = this.pending.get(token)
    if (!entry) return // a late ack of a publish already retried
    this.pending.delete(token)
    const {address} = this.options
    const {message} = entry
    if (status === 503 || data.length === 0) {
      // No responders: no stream (yet) for the subject, e.g. while a server restarts.
      const why = () =>
        new OperationError(`publishing ${message.subject} failed`, `no stream stored it (no responders) after ${entry.attempt} attempts`, {system: 'nats', address, hint: `check that stream ${this.options.stream} exists and captures the subject`})
      setTimeout(() => this.retry(entry, why), Math.min(2000, 100 * 2 ** entry.attempt)).unref()
      return
    }
    let ack: {seq?: number; duplicate?: boolean; error?: {code?: number; description?: string}}
    try {
      ack = JSON.parse(new TextDecoder().decode(data))
    } catch {
      entry.reject(new ApiError('nats', address, `publishing ${message.subject}: the acknowledgement is not JSON`))
      return
    }
    if (ack.error) {
      entry.reject(new OperationError(`publishing ${message.subject} (source sequence ${message.seq}) failed`, `the server refused it: ${ack.error.description ?? 'unknown error'} (${ack.error.code ?? '?'})`, {system: 'nats', address}))
      return
    }
    entry.resolve(ack.duplicate === true)
  }

  private async settleOldest(): Promise<void> {
    const {seq, ack} = this.inFlight[0]
    const duplicate = await ack
    this.inFlight.shift()
    if (duplicate) this.stats.duplicates++
    else this.stats.stored++
    this.stats.doneSeq = seq
  }

  private async pace(): Promise<void> {
    const rate = this.options.rate ?? 0
    this.started ||= Date.now()
    this.sent++
    const wait = this.started + (this.sent / rate) * 1000 - Date.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  }
}
