/**
 * Event rates per domain from the monitor's counters in Prometheus (cim_events_total and
 * cim_events_failed_total, labelled by domain: monitor/metrics.ts). Read by `domain health` and by the
 * morning check's events area. The counters only count since the monitor started, so a window longer
 * than its uptime undercounts: callers say which source gave each number.
 */
import type {PrometheusClient} from '../adapters/prometheus/client.js'

export interface DomainRate {
  domain: string
  /** Events per second over the last 5 minutes; null when unknown. */
  ratePerSecond: number | null
  /** Events in the window; null when unknown. */
  windowCount: number | null
  /** Messages stored for the domain (JetStream source). */
  stored?: number
  /** RFC 3339 of the domain's newest event (JetStream source); null when none. */
  lastEventAt?: string | null
}

export interface RateResult {
  domains: DomainRate[]
  windowCount: number | null
  ratePerSecond: number | null
}

/** From the monitor's counters; undefined when Prometheus has no cim_events_total (the monitor does not run). */
export async function ratesFromPrometheus(prometheus: PrometheusClient, windowSeconds: number, now: Date): Promise<RateResult | undefined> {
  const window = promWindow(windowSeconds)
  const [current, total] = await Promise.all([
    prometheus.query('sum by (domain) (rate(cim_events_total[5m]))', now),
    prometheus.query(`sum by (domain) (increase(cim_events_total[${window}]))`, now),
  ])
  if (vector(current).length === 0 && vector(total).length === 0) return undefined
  const domains = new Map<string, DomainRate>()
  const entry = (domain: string) => {
    const existing = domains.get(domain) ?? {domain, ratePerSecond: null, windowCount: null}
    domains.set(domain, existing)
    return existing
  }
  for (const sample of vector(current)) entry(sample.metric.domain ?? '(none)').ratePerSecond = finite(sample.value)
  for (const sample of vector(total)) entry(sample.metric.domain ?? '(none)').windowCount = Math.round(finite(sample.value))
  const list = [...domains.values()]
  return {
    domains: list,
    windowCount: list.reduce((sum, d) => sum + (d.windowCount ?? 0), 0),
    ratePerSecond: list.reduce((sum, d) => sum + (d.ratePerSecond ?? 0), 0),
  }
}

/**
 * Failed events per domain over the window (cim_events_failed_total); undefined when Prometheus has none of
 * it. A domain the monitor counts events for but no failures is simply absent: 0 for a caller that has its rate.
 */
export async function failuresFromPrometheus(prometheus: PrometheusClient, windowSeconds: number, now: Date): Promise<Map<string, number> | undefined> {
  const result = vector(await prometheus.query(`sum by (domain) (increase(cim_events_failed_total[${promWindow(windowSeconds)}]))`, now))
  if (result.length === 0) return undefined
  return new Map(result.map((sample) => [sample.metric.domain ?? '(none)', Math.round(finite(sample.value))]))
}

type QueryData = Awaited<ReturnType<PrometheusClient['query']>>

function vector(data: QueryData) {
  return data.resultType === 'vector' ? data.result : []
}

function promWindow(seconds: number): string {
  return `${Math.max(60, Math.round(seconds))}s`
}

function finite(value: number): number {
  return Number.isFinite(value) ? value : 0
}
