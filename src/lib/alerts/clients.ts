/** The adapters the alerts commands need, created from the resolved context; loaded lazily (axios). */
import type {ResolvedContext} from '../core/context-types.js'
import type {AlertmanagerClient} from '../adapters/alertmanager/client.js'
import type {PrometheusClient} from '../adapters/prometheus/client.js'

export async function alertmanagerFor(ctx: ResolvedContext): Promise<AlertmanagerClient> {
  const {createAlertmanagerClient} = await import('../adapters/alertmanager/client.js')
  return createAlertmanagerClient(ctx.alertmanager, ctx.timeoutMs)
}

export async function prometheusFor(ctx: ResolvedContext): Promise<PrometheusClient> {
  const {createPrometheusClient} = await import('../adapters/prometheus/client.js')
  return createPrometheusClient(ctx.prometheus, ctx.timeoutMs)
}
