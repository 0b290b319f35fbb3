/**
 * The whole monitoring loop of issue #11 on real servers, with the real alert rule: a projection falls
 * behind -> the sandbox's event monitor exports its lag -> Prometheus (1s scrape, 1s evaluation) fires
 * HighEventProcessingLag (lag > 10s for 1m, deploy/prometheus/rules/cim.yml) -> Alertmanager has it ->
 * `cimops alerts list --json` shows it with its runbook -> the projection catches up -> the alert
 * resolves and leaves the list. Every wait is bounded; the rule's `for: 1m` sets the pace (~80s).
 * Run `npm run build` first.
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {AlertListResult, AlertView} from '../../src/lib/alerts/model.js'
import {catchUpSandbox, seedSandbox} from '../../src/lib/sandbox/index.js'
import {isolatedHome, ROOT, runCli} from '../helpers/cli.js'
import {samples, scrape, until} from '../helpers/monitor.js'
import {useSandbox} from '../helpers/sandbox.js'

const sandbox = useSandbox({components: ['nats', 'prometheus', 'alertmanager', 'monitor']})
let home: Awaited<ReturnType<typeof isolatedHome>>

beforeAll(async () => {
  home = await isolatedHome()
})
afterAll(async () => {
  await home?.cleanup()
})

function connectionFlags(): string[] {
  const {natsServers, prometheusUrl, alertmanagerUrl} = sandbox().state
  return ['--nats-url', natsServers.join(','), '--prometheus-url', prometheusUrl!, '--alertmanager-url', alertmanagerUrl!]
}

async function alertsList(): Promise<AlertListResult> {
  const result = await runCli(['alerts', 'list', '--json', ...connectionFlags()], home.env)
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as AlertListResult
}

const lagAlert = (list: AlertListResult): AlertView | undefined =>
  list.alerts.find((a) => a.alertname === 'HighEventProcessingLag' && a.labels.domain === 'workflow' && a.labels.severity === 'warning')

async function promQuery(query: string): Promise<Array<{metric: Record<string, string>; value: [number, string]}>> {
  const response = await fetch(`${sandbox().state.prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`)
  const body = (await response.json()) as {data: {result: Array<{metric: Record<string, string>; value: [number, string]}>}}
  return body.data.result
}

describe('the monitoring loop: lag -> monitor -> Prometheus -> Alertmanager -> cimops alerts list -> catch up -> resolved', () => {
  it('the sandbox runs the monitor, Prometheus scrapes it as cim-monitor and has the project rules', async () => {
    const {state, stateDir} = sandbox()
    expect(state.processes.map((p) => p.name)).toEqual(['nats-1', 'prometheus', 'alertmanager', 'monitor'])
    expect(state.eventMonitorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const rules = await readFile(join(stateDir, 'prometheus', 'rules', 'cim.yml'), 'utf8')
    expect(rules).toBe(await readFile(join(ROOT, 'deploy', 'prometheus', 'rules', 'cim.yml'), 'utf8'))
    const up = await until('Prometheus to scrape the monitor', async () => {
      const found = await promQuery('up{job="cim-monitor"}')
      return found[0]?.value[1] === '1' ? found[0] : undefined
    }, 15_000, 250)
    expect(up.metric).toMatchObject({job: 'cim-monitor', component: 'event-monitor', instance: state.eventMonitorUrl!.replace('http://', '')})
  })

  it('fires HighEventProcessingLag with its runbook while workflow-analytics lags, and resolves it once caught up', async () => {
    const {state} = sandbox()
    const seededAt = Date.now()
    await seedSandbox(state.natsServers)

    // The monitor exports the lag of the projection left behind by the seed.
    const lag = await until('the monitor to export a workflow lag above 10s', async () => {
      const text = await scrape(state.eventMonitorUrl!)
      const value = text ? samples(text, 'cim_event_processing_lag_seconds').find((s) => s.labels.domain === 'workflow')?.value : undefined
      return value !== undefined && value > 10 ? value : undefined
    }, 25_000, 500)
    expect(lag).toBeGreaterThan(10)

    // Prometheus: pending as soon as it sees the lag, firing after the rule's `for: 1m`, then sent to Alertmanager.
    await until('the alert to be pending in Prometheus', async () => ((await promQuery('ALERTS{alertname="HighEventProcessingLag",domain="workflow"}')).length > 0 ? true : undefined), 10_000, 500)
    const firing = await until('cimops alerts list to show HighEventProcessingLag', async () => lagAlert(await alertsList()), 100_000 - (Date.now() - seededAt), 2000)
    expect(firing.state).toBe('active')
    expect(firing.severity).toBe('warning')
    expect(firing.annotations.summary).toMatch(/^workflow events are processed .+ late$/)
    expect(firing.runbook).toMatchObject({source: 'runbooks', name: 'high-event-lag'})
    const firedAfterS = (Date.now() - seededAt) / 1000
    expect(firedAfterS).toBeGreaterThan(60)

    // The projection catches up: its lag drops to 0, the rule stops matching, Prometheus sends the resolution.
    const caughtUp = await catchUpSandbox(state.natsServers)
    expect(caughtUp).toMatchObject({consumer: 'workflow-analytics', ackPending: 0})
    expect(caughtUp.acked).toBeGreaterThanOrEqual(12)
    await until('the monitor to export a workflow lag of 0', async () => {
      const text = await scrape(state.eventMonitorUrl!)
      return text && samples(text, 'cim_event_processing_lag_seconds').find((s) => s.labels.domain === 'workflow')?.value === 0 ? true : undefined
    }, 10_000, 250)
    await until('HighEventProcessingLag to leave cimops alerts list', async () => (lagAlert(await alertsList()) ? undefined : true), 30_000, 1000)
    const text = await runCli(['alerts', 'list', ...connectionFlags()], home.env)
    expect(text.stdout).not.toContain('HighEventProcessingLag')
  }, 150_000)
})
