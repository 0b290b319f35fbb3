import {joinAddresses} from '../../adapters/redact.js'
import type {CheckOutcome} from '../../core/check/result.js'
import {type Status, statusAbove, worstStatus} from '../../core/check/status.js'
import type {CheckContext, HealthCheck} from '../runner.js'
import {formatBytes, plural, round} from '../../core/output/units.js'

/**
 * JetStream: enabled, account storage and memory against their limits, and the replicas of every
 * replicated stream (a stream without a leader is CRITICAL; an offline or lagging replica is WARNING), and
 * streams the server lists as offline or missing (WARNING with the server's reason).
 */
export const jetstreamCheck: HealthCheck = {
  name: 'jetstream',
  component: 'jetstream',
  target: (ctx) => ({system: 'nats', address: joinAddresses(ctx.nats.servers)}),
  async run({ctx, nats}: CheckContext): Promise<CheckOutcome> {
    const jsm = await nats.jsm()
    const {nc} = await nats.connection()
    const {accountUsage, listStreamsReporting, jsApiPrefix} = await import('../../adapters/nats/jetstream.js')
    const [usage, {items: streams, unlisted}] = await Promise.all([
      accountUsage(jsm, nats.address, ctx.timeoutMs),
      listStreamsReporting(nc, {jsApiPrefix: jsApiPrefix(ctx.nats.jsDomain), timeoutMs: ctx.timeoutMs}),
    ])
    const {jsWarn, jsCrit} = ctx.thresholds

    const percent = (used: number, max?: number) => (max ? (used / max) * 100 : undefined)
    const storagePct = percent(usage.storage, usage.maxStorage)
    const memoryPct = percent(usage.memory, usage.maxMemory)

    const replicated = streams.filter((s) => s.replicas > 1)
    const leaderless = replicated.filter((s) => !s.cluster?.leader)
    const degraded = replicated.filter((s) => s.cluster?.leader && s.cluster.replicas.some((r) => r.offline || !r.current))

    const statuses: Status[] = [
      storagePct === undefined ? 'OK' : statusAbove(storagePct, jsWarn, jsCrit),
      memoryPct === undefined ? 'OK' : statusAbove(memoryPct, jsWarn, jsCrit),
      leaderless.length > 0 ? 'CRITICAL' : degraded.length > 0 ? 'WARNING' : 'OK',
      unlisted.length > 0 ? 'WARNING' : 'OK',
    ]
    const usageText = (label: string, used: number, max?: number, pct?: number) =>
      max ? `${label} ${formatBytes(used)} of ${formatBytes(max)} (${pct!.toFixed(0)}%)` : `${label} ${formatBytes(used)} (no account limit)`
    const problems = [
      // Offline (2.11.9 / 2.12+) or missing from the listing: a finding, never silently absent.
      ...unlisted.map((u) => `stream ${u.name} is ${u.state}: ${u.reason}`),
      ...leaderless.map((s) => `${s.name} has no leader`),
      ...degraded.map((s) => `${s.name} replicas ${s.cluster!.replicas.filter((r) => r.offline || !r.current).map((r) => `${r.name} ${r.offline ? 'offline' : `behind by ${r.lag} ops`}`).join(', ')}`),
    ]
    return {
      name: 'jetstream',
      component: 'jetstream',
      status: worstStatus(statuses),
      summary: [
        `${usageText('storage', usage.storage, usage.maxStorage, storagePct)}, ${usageText('memory', usage.memory, usage.maxMemory, memoryPct)}`,
        `${plural(usage.streams, 'stream')}, ${plural(usage.consumers, 'consumer')}`,
        replicated.length > 0 ? `${replicated.length - leaderless.length - degraded.length}/${replicated.length} replicated streams healthy` : undefined,
        ...problems,
      ]
        .filter(Boolean)
        .join('; '),
      metrics: [
        {name: 'storage', value: usage.storage, unit: 'B'},
        ...(storagePct === undefined ? [] : [{name: 'storage_used', value: round(storagePct, 2), unit: '%' as const, warn: jsWarn, crit: jsCrit}]),
        {name: 'memory', value: usage.memory, unit: 'B'},
        ...(memoryPct === undefined ? [] : [{name: 'memory_used', value: round(memoryPct, 2), unit: '%' as const, warn: jsWarn, crit: jsCrit}]),
        {name: 'streams', value: usage.streams},
        {name: 'consumers', value: usage.consumers},
        {name: 'replicas_no_leader', value: leaderless.length, crit: 1},
        {name: 'replicas_degraded', value: degraded.length, warn: 1},
        {name: 'streams_unlisted', value: unlisted.length, warn: 1},
      ],
    }
  },
}
