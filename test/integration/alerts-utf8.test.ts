/**
 * A label name outside the classic charset (`service.name`, as OpenTelemetry writes them) end to end on
 * the set's real servers: an alert carrying it is listed by that matcher, silenced by it, seen silenced
 * by the amtool of the same Alertmanager, and found by `alerts history` in Prometheus' ALERTS series.
 * Alertmanager 0.27+ and Prometheus 3 hold such names; on older servers each command refuses in one
 * line naming the version needed. Gated on the versions the servers report. Run `npm run build` first.
 */
import {randomUUID} from 'node:crypto'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {compareVersions, parseServerVersion} from '../../src/lib/core/version.js'
import type {AlertHistoryResult, AlertListResult, SilenceListResult} from '../../src/lib/alerts/model.js'
import {isolatedHome, okJson, runCli, type CliResult} from '../helpers/cli.js'
import {eventually} from '../helpers/health.js'
import {useSandbox} from '../helpers/sandbox.js'
import {runServerTool} from '../helpers/server-tools.js'

const sandbox = useSandbox({components: ['nats', 'prometheus', 'alertmanager']})
const RUN = randomUUID()
let home: Awaited<ReturnType<typeof isolatedHome>>

const versionOf = (component: 'prometheus' | 'alertmanager') => sandbox().state.processes.find((p) => p.component === component)?.version ?? ''
const atLeast = (version: string, minimum: [number, number, number]) => {
  const parsed = parseServerVersion(version)
  return parsed !== undefined && compareVersions(parsed, minimum) >= 0
}
const amReadsUtf8 = () => atLeast(versionOf('alertmanager'), [0, 27, 0])
const promReadsUtf8 = () => atLeast(versionOf('prometheus'), [3, 0, 0])

const cli = (...args: string[]): Promise<CliResult> =>
  runCli([...args, '--timeout', '3s'], {
    ...home.env,
    CIMOPS_ALERTMANAGER_URL: sandbox().state.alertmanagerUrl ?? '',
    CIMOPS_PROMETHEUS_URL: sandbox().state.prometheusUrl ?? '',
    NATS_URL: sandbox().state.natsServers.join(','),
  })
const json = okJson

/** `amtool silence query` of the same Alertmanager, in its own default output. */
async function amtoolQuery(): Promise<string> {
  return (await runServerTool('amtool', [`--alertmanager.url=${sandbox().state.alertmanagerUrl}`, 'silence', 'query'])).stdout
}

const RULES = `groups:
  - name: cimops-utf8-test
    interval: 1s
    rules:
      - alert: CimopsUtf8Rule
        expr: vector(1)
        labels: {severity: warning, "service.name": checkout, test_run: "${RUN}"}
`

beforeAll(async () => {
  home = await isolatedHome()
  // Prometheus 2 refuses the whole rule file for that label name, so the rule is written only for 3.
  if (!promReadsUtf8()) return
  await writeFile(join(sandbox().stateDir, 'prometheus', 'rules', 'cimops-utf8-test.yml'), RULES)
  const reload = await fetch(`${sandbox().state.prometheusUrl}/-/reload`, {method: 'POST'})
  expect(reload.status, await reload.text()).toBe(200)
})

afterAll(async () => {
  await home?.cleanup()
})

describe('a dotted label name end to end', () => {
  it('is listed, silenced by that matcher, and amtool of the same Alertmanager shows the silence alike', async ({skip}) => {
    if (!amReadsUtf8()) skip(`Alertmanager ${versionOf('alertmanager')} cannot hold the label; the refusal is tested below`)
    const amUrl = sandbox().state.alertmanagerUrl ?? ''
    const posted = await fetch(`${amUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify([{labels: {alertname: 'CimopsUtf8Posted', 'service.name': 'checkout', test_run: RUN, severity: 'warning'}, annotations: {summary: 'posted'}}]),
    })
    expect(posted.status, await posted.text()).toBe(200)

    const listed = await eventually(
      async () => json<AlertListResult>(await cli('alerts', 'list', 'service.name=checkout', `test_run=${RUN}`, '--json')),
      (result) => result.alerts.some((a) => a.alertname === 'CimopsUtf8Posted'),
      10_000,
      200,
    )
    expect(listed.alerts.find((a) => a.alertname === 'CimopsUtf8Posted')?.labels['service.name']).toBe('checkout')
    // The quoted spelling is the same matcher.
    const quoted = json<AlertListResult>(await cli('alerts', 'list', '"service.name"="checkout"', `test_run=${RUN}`, 'alertname=CimopsUtf8Posted', '--json'))
    expect(quoted.alerts.map((a) => a.alertname)).toEqual(['CimopsUtf8Posted'])

    const added = json<{id: string}>(await cli('alerts', 'silence', 'add', '"service.name"=checkout', `test_run=${RUN}`, '--comment', 'utf8 end to end', '--duration', '10m', '--yes', '--json'))
    const amtool = (await amtoolQuery()).split('\n').find((line) => line.startsWith(added.id))
    expect(amtool, 'amtool lists the silence').toBeDefined()
    const ours = json<SilenceListResult>(await cli('alerts', 'silence', 'list', '--json')).silences.find((s) => s.id === added.id)
    const {formatMatcher} = await import('../../src/lib/alerts/matchers.js')
    const matcherText = ours!.matchers.map(formatMatcher).join(' ')
    expect(matcherText).toBe(`service.name="checkout" test_run="${RUN}"`)
    expect(amtool).toContain(matcherText)

    const silenced = await eventually(
      async () => json<AlertListResult>(await cli('alerts', 'list', 'service.name=checkout', `test_run=${RUN}`, 'alertname=CimopsUtf8Posted', '--silenced', '--json')),
      (result) => result.alerts[0]?.state === 'silenced',
      10_000,
      200,
    )
    expect(silenced.alerts[0].silencedBy).toEqual([added.id])
  })

  it('on an Alertmanager older than 0.27, list and silence add refuse in one line naming the version needed', async ({skip}) => {
    if (amReadsUtf8()) skip(`Alertmanager ${versionOf('alertmanager')} reads the name`)
    for (const args of [
      ['alerts', 'list', 'service.name=checkout'],
      ['alerts', 'silence', 'add', 'service.name=checkout', '--comment', 'x', '--yes'],
    ]) {
      const result = await cli(...args)
      expect(result.code, result.stderr).toBe(64)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(result.stderr).toContain(`the label name service.name needs Alertmanager 0.27.0 or newer: the one at ${sandbox().state.alertmanagerUrl} is ${versionOf('alertmanager')}`)
    }
  })

  it('alerts history finds the rule by that matcher in Prometheus 3; Prometheus 2 refuses in one line', async () => {
    if (!promReadsUtf8()) {
      const result = await cli('alerts', 'history', 'service.name=checkout', '--since', '5m')
      expect(result.code, result.stderr).toBe(64)
      expect(result.stderr).toContain(`the label name service.name needs Prometheus 3.0.0 or newer`)
      return
    }
    const history = await eventually(
      async () => json<AlertHistoryResult>(await cli('alerts', 'history', 'service.name=checkout', `test_run=${RUN}`, '--since', '2m', '--step', '1s', '--json')),
      (result) => result.episodes.some((e) => e.alertname === 'CimopsUtf8Rule'),
      20_000,
      1000,
    )
    expect(history.query).toContain('"service.name"="checkout"')
    expect(history.episodes.find((e) => e.alertname === 'CimopsUtf8Rule')).toMatchObject({labels: {'service.name': 'checkout'}, stillFiring: true})
  })
})
