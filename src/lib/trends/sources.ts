/** The trends report's sources on a real context: Prometheus, and NATS for the streams' and account's limits. */
import type {NatsSession} from '../adapters/nats/session.js'
import type {ResolvedContext} from '../core/context-types.js'
import type {StorageLimits, StreamEventCounts, TrendSources} from './service.js'

/** A day's events are counted one by one on the stream (headers only): past this, the day is "not available". */
export const STREAM_COUNT_LIMIT_PER_DAY = 200_000

/**
 * The events stream counts a domain's events for the days Prometheus has no history of, exactly, up to
 * STREAM_COUNT_LIMIT_PER_DAY a day, and only for days after its oldest stored event: before that, events
 * may have aged out, and a count would be too low without saying so.
 */
export async function trendSources(ctx: ResolvedContext, nats: NatsSession): Promise<TrendSources> {
  const [{prometheusFor}] = await Promise.all([import('../alerts/clients.js')])
  const stream = ctx.streams.events
  let oldest: Promise<Date | undefined> | undefined
  const oldestEvent = () =>
    (oldest ??= (async () => {
      const [{findStream}, jsm] = await Promise.all([import('../adapters/nats/jetstream.js'), nats.jsm()])
      return (await findStream(jsm, stream, nats.address, nats.timeoutMs))?.firstTime
    })())
  const streamCounts: StreamEventCounts = {
    stream,
    async countMatching(filter, from, to) {
      const first = await oldestEvent()
      if (first === undefined || from < first) throw new Error(`${stream} holds no events from before ${first?.toISOString() ?? 'now'} (aged out, or never stored)`)
      const [{countMatchingSince}, session] = await Promise.all([import('../adapters/nats/window-counts.js'), nats.jetstream()])
      const count = await countMatchingSince(session, stream, filter, from, {limit: STREAM_COUNT_LIMIT_PER_DAY, until: to})
      if (count > STREAM_COUNT_LIMIT_PER_DAY) throw new Error(`more than ${STREAM_COUNT_LIMIT_PER_DAY.toLocaleString('en-US')} ${filter} events on ${from.toISOString().slice(0, 10)}, too many to count one by one`)
      return count
    },
  }
  return {
    prometheus: await prometheusFor(ctx),
    async storageLimits(): Promise<StorageLimits> {
      const [{listStreams, accountUsage}, jsm] = await Promise.all([import('../adapters/nats/jetstream.js'), nats.jsm()])
      const [streams, account] = await Promise.all([listStreams(jsm, nats.address, nats.timeoutMs), accountUsage(jsm, nats.address, nats.timeoutMs)])
      return {maxBytes: new Map(streams.map((s) => [s.name, s.limits.maxBytes])), accountMaxBytes: account.maxStorage}
    },
    streamCounts,
  }
}
