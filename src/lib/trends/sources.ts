/** The trends report's sources on a real context: Prometheus, and NATS for the streams' and account's limits. */
import type {NatsSession} from '../adapters/nats/session.js'
import type {ResolvedContext} from '../core/context-types.js'
import type {StorageLimits, StreamEventCounts, TrendSources} from './service.js'

/**
 * `streamCounts` counts a domain's events on the events stream for the days Prometheus has no history of; without
 * it those days say "not available".
 */
export async function trendSources(ctx: ResolvedContext, nats: NatsSession, streamCounts?: StreamEventCounts): Promise<TrendSources> {
  const [{prometheusFor}] = await Promise.all([import('../alerts/clients.js')])
  return {
    prometheus: await prometheusFor(ctx),
    async storageLimits(): Promise<StorageLimits> {
      const [{listStreams, accountUsage}, jsm] = await Promise.all([import('../adapters/nats/jetstream.js'), nats.jsm()])
      const [streams, account] = await Promise.all([listStreams(jsm, nats.address, nats.timeoutMs), accountUsage(jsm, nats.address, nats.timeoutMs)])
      return {maxBytes: new Map(streams.map((s) => [s.name, s.limits.maxBytes])), accountMaxBytes: account.maxStorage}
    },
    ...(streamCounts ? {streamCounts} : {}),
  }
}
