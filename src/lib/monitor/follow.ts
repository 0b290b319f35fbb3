/**
 * Counting the events stream: an ordered consumer (the follower) reads it from where counting starts
 * and tallies every event once. It starts when the stream is found, and restarts when it stopped,
 * stalled, or the stream was created anew; a restart resumes after the last event counted, so an
 * outage neither counts an event twice nor loses one stored meanwhile.
 */
import type {StreamSummary} from '../adapters/nats/jetstream.js'
import type {FollowedMessage, Follower} from '../adapters/nats/messages.js'
import type {ProblemLog} from './problems.js'
import type {JetStreamLink} from './state.js'
import type {EventTally} from './tally.js'

type Messages = typeof import('../adapters/nats/messages.js')

/** Where to start counting once the stream is found. */
type CountFrom = 'first' | 'next' | {storedSince: Date}

export const FOLLOW_FAILED = 'cannot follow the events stream'

export interface CounterOptions {
  stream: string
  fromStart: boolean
  /** Messages per pull of the follower. */
  batch: number
  /** Of the follower's ordered consumers, which refreshes leave out. */
  namePrefix: string
  address: string
  timeoutMs: number
  /** Unread events and none read for this long: the follower is restarted. */
  stalledAfterMs: number
  signal: AbortSignal
  log: (line: string) => void
  problems: ProblemLog
}

export class StreamCounter {
  private countFrom: CountFrom
  /** The events stream as last read; undefined until found. */
  private known?: StreamSummary
  /** Whether the last refresh found the stream (it may be deleted, and created anew, while the monitor runs). */
  private present = false
  private follower?: Follower
  private followerStarting = false
  /** Stream sequence of the last event counted. */
  private counted = 0
  /** Ready once the counters have reached this sequence (the stream's last when it was found). */
  private catchUpTo = 0
  private delivered = 0
  /** Events read so far and when that number last grew (or there was nothing to read). */
  private progress = {delivered: 0, at: Date.now()}
  /** A restarted follower gets this long before the next restart; the progress clock keeps running meanwhile. */
  private followerStartedAt = 0

  constructor(
    private readonly events: EventTally,
    private readonly messages: Messages,
    private readonly options: CounterOptions,
  ) {
    this.countFrom = options.fromStart ? 'first' : 'next'
  }

  get countedSeq(): number {
    return this.counted
  }

  /** The events stream as the last refresh found it; undefined while it is not there. */
  get stream(): StreamSummary | undefined {
    return this.present ? this.known : undefined
  }

  get caughtUpAt(): number {
    return this.catchUpTo
  }

  /** When the number of events read last grew (or there was nothing to read). */
  get progressAt(): number {
    return this.progress.at
  }

  /** NATS was down at start: "from now" becomes "stored since the monitor started". */
  startedLate(startedAt: Date): void {
    if (this.countFrom === 'next') this.countFrom = {storedSince: startedAt}
  }

  /** The stream is not there (yet, or any more): every event it will hold is stored after the monitor looked. */
  missing(): void {
    this.present = false
    if (!this.known) this.countFrom = 'first'
  }

  /** Starts the follower when the stream is first found, restarts it when it stopped, stalled, or the stream was recreated. */
  async follow(events: StreamSummary, link: JetStreamLink): Promise<void> {
    const {log, problems} = this.options
    const known = this.known
    this.known = events
    this.present = true
    if (known) problems.resolve(notFound(events.name))
    if (!known) {
      const from = await this.startSeqFor(events, link)
      this.counted = from - 1
      this.catchUpTo = from <= events.lastSeq ? events.lastSeq : 0
      problems.resolve(notFound(events.name), `stream ${events.name} found; counting from sequence ${from}`)
      this.progress = {delivered: this.delivered, at: Date.now()}
      await this.startFollower(from, link)
      return
    }
    if (known.created.getTime() !== events.created.getTime()) {
      log(`stream ${events.name} was created anew; counting its events from sequence ${events.firstSeq}`)
      await this.restartFollower(events.firstSeq, true, link)
      return
    }
    if (!this.follower) {
      await this.startFollower(this.counted + 1, link)
      return
    }
    // Unread events and no progress for a while: nats.js did not recover the consumer; start afresh.
    if (this.delivered !== this.progress.delivered || events.lastSeq <= this.counted) {
      this.progress = {delivered: this.delivered, at: Date.now()}
    } else if (Date.now() - Math.max(this.progress.at, this.followerStartedAt) > this.options.stalledAfterMs) {
      log(`no events read for ${Math.round((Date.now() - this.progress.at) / 1000)}s with ${events.lastSeq - this.counted} unread; restarting the follower after sequence ${this.counted}`)
      await this.restartFollower(this.counted + 1, false, link)
    }
  }

  async stop(): Promise<void> {
    await this.follower?.stop().catch(() => undefined)
  }

  private async startSeqFor(events: StreamSummary, link: JetStreamLink): Promise<number> {
    if (this.countFrom === 'first') return events.firstSeq
    if (this.countFrom === 'next') return events.lastSeq + 1
    return this.messages.seqForTime(link.jsm, events.name, this.countFrom.storedSince, this.options.address, this.options.timeoutMs)
  }

  private async restartFollower(fromSeq: number, anew: boolean, link: JetStreamLink): Promise<void> {
    const old = this.follower
    this.follower = undefined
    await old?.stop().catch(() => undefined)
    if (anew) {
      this.counted = fromSeq - 1
      this.catchUpTo = 0
      this.progress = {delivered: this.delivered, at: Date.now()}
    }
    await this.startFollower(fromSeq, link)
  }

  private async startFollower(fromSeq: number, link: JetStreamLink): Promise<void> {
    const {signal, log, problems} = this.options
    if (this.followerStarting || signal.aborted) return
    this.followerStarting = true
    try {
      const onMessage = (message: FollowedMessage) => {
        const seq = message.seq
        // The ordered consumer resumes after a gap from the last sequence it delivered, and a restarted
        // follower from the last one counted: never count one twice.
        if (seq <= this.counted) return
        this.counted = seq
        this.delivered++
        this.events.add(message)
      }
      const follower = await this.messages.startFollowing(
        link.js,
        {stream: this.options.stream, filterSubjects: []},
        {startSeq: fromSeq, batch: this.options.batch, namePrefix: this.options.namePrefix, onMessage},
        this.options.address,
        this.options.timeoutMs,
      )
      this.follower = follower
      this.followerStartedAt = Date.now()
      problems.resolve(FOLLOW_FAILED, `following the events stream again after sequence ${this.counted}`)
      void follower.stopped.then((reason) => {
        if (this.follower !== follower || signal.aborted) return
        this.follower = undefined
        log(`the follower stopped${reason instanceof Error ? ` (${reason.message})` : ''}; it resumes after sequence ${this.counted}`)
      })
    } finally {
      this.followerStarting = false
    }
  }
}

/** The problem while the stream is missing, and the prefix that recognises it. */
export function notFound(stream: string): string {
  return `stream ${stream} not found`
}
