import {spawnSync} from 'node:child_process'
import {mkdir, readdir, readFile, stat} from 'node:fs/promises'
import {createServer, type Server, type Socket} from 'node:net'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createAlertmanagerClient} from '../../src/lib/adapters/alertmanager/client.js'
import {addScrapeTarget, restartProcess, seedSandbox, stopProcess} from '../../src/lib/sandbox/index.js'
import {finished, isolatedHome, runCli, startCli} from '../helpers/cli.js'
import {check, checkNamed, eventually, sandboxContext, statuses} from '../helpers/health.js'
import {useSandbox} from '../helpers/sandbox.js'

/** Fault injection against real servers: each fault, the exact status of each check, and the exit code. */
describe('health-check against a seeded single-node sandbox', () => {
  const sandbox = useSandbox()
  let home: Awaited<ReturnType<typeof isolatedHome>>
  const cli = (args: string[], alertmanagerUrl = sandbox().state.alertmanagerUrl!) => {
    const {state} = sandbox()
    return runCli(['health-check', '--nats-url', state.natsServers.join(','), '--prometheus-url', state.prometheusUrl!, '--alertmanager-url', alertmanagerUrl, ...args], home.env)
  }

  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
  })
  afterAll(() => home.cleanup())

  it('reports every component OK when healthy (lag thresholds above the seeded backlog)', async () => {
    // CPU load depends on what else the machine runs (other test files): not this test's subject.
    const report = await check(await sandboxContext(sandbox().state, {}, {lagWarn: 3600, lagCrit: 7200, loadWarn: 1000, loadCrit: 1000}))
    expect(statuses(report)).toMatchObject({
      nats: 'OK',
      jetstream: 'OK',
      'stream:EVENTS': 'OK',
      'stream:CIM_OPS': 'OK',
      'consumer:graph-projection': 'OK',
      'consumer:workflow-analytics': 'OK',
      prometheus: 'OK',
      alertmanager: 'OK',
      memory: 'OK',
      'disk:/': 'OK',
      gpu: 'OK',
    })
    expect(checkNamed(report, 'gpu').summary).toBe('no GPU on this host')
    expect(report.status).toBe('OK')
    expect(report.score).toBe(100)
  })

  it('a consumer falling behind: lag from its oldest unacked message, WARNING then CRITICAL', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const warn = await check(await sandboxContext(sandbox().state, {}, {lagWarn: 1, lagCrit: 3600}), ['consumers'])
    const behind = checkNamed(warn, 'consumer:workflow-analytics')
    expect(behind.status).toBe('WARNING')
    expect(behind.metrics.find((m) => m.name === 'lag')!.value).toBeGreaterThan(1)
    expect(behind.metrics.find((m) => m.name === 'ack_pending')!.value).toBe(12)
    expect(checkNamed(warn, 'consumer:graph-projection').status).toBe('OK')

    const crit = await check(await sandboxContext(sandbox().state, {}, {lagWarn: 0.5, lagCrit: 1}), ['consumers'])
    expect(statuses(crit)).toMatchObject({'consumer:workflow-analytics': 'CRITICAL', 'consumer:graph-projection': 'OK'})
    expect(crit.status).toBe('CRITICAL')
  })

  it('a consumer with pending work and no delivery for --stall-after is a stalled stream: CRITICAL', async () => {
    const result = await cli(['--json', '--component', 'consumers', '--lag-warn', '1h', '--lag-crit', '2h', '--stall-after', '1s'])
    expect(result.code).toBe(2)
    const report = JSON.parse(result.stdout)
    const stalled = report.checks.find((c: {name: string}) => c.name === 'consumer:workflow-analytics')
    expect(stalled.status).toBe('CRITICAL')
    expect(stalled.summary).toContain('STALLED')
    expect(report.checks.find((c: {name: string}) => c.name === 'consumer:graph-projection').status).toBe('OK')
  })

  it('a firing critical alert in Alertmanager is CRITICAL; a warning one is WARNING', async () => {
    const {state} = sandbox()
    const am = createAlertmanagerClient({url: state.alertmanagerUrl!}, 2000)
    const endsAt = new Date(Date.now() + 10 * 60_000).toISOString()
    await am.postAlerts([{labels: {alertname: 'DiskSpaceLow', severity: 'warning', instance: 'n1'}, endsAt}])
    const warning = await check(await sandboxContext(state), ['alertmanager'])
    expect(statuses(warning)).toEqual({alertmanager: 'WARNING'})

    await am.postAlerts([{labels: {alertname: 'EventStreamStalled', severity: 'critical', domain: 'graph'}, endsAt}])
    const critical = await check(await sandboxContext(state), ['alertmanager'])
    expect(statuses(critical)).toEqual({alertmanager: 'CRITICAL'})
    expect(checkNamed(critical, 'alertmanager').summary).toContain('1 critical (EventStreamStalled)')
    // The score reads the same checks as the verdict: the critical alert costs points in the whole report too.
    const whole = await check(await sandboxContext(state, {}, {lagWarn: 3600, lagCrit: 7200, loadWarn: 1000, loadCrit: 1000}))
    expect(whole.status).toBe('CRITICAL')
    expect(whole.score).toBeLessThan(100)

    const result = await cli(['--component', 'alertmanager', '--format', 'nagios'])
    expect(result.code).toBe(2)
    expect(result.stdout).toMatch(/^CRITICAL alertmanager: .* \| alertmanager_alerts_active=2 alertmanager_alerts_critical=1;;1 alertmanager_alerts_warning=1;1\n$/)

    const resolved = new Date(Date.now() - 1000).toISOString()
    await am.postAlerts([
      {labels: {alertname: 'DiskSpaceLow', severity: 'warning', instance: 'n1'}, endsAt: resolved},
      {labels: {alertname: 'EventStreamStalled', severity: 'critical', domain: 'graph'}, endsAt: resolved},
    ])
  })

  it('a Prometheus scrape target down is WARNING, naming the target', async () => {
    const {state} = sandbox()
    const closed = await closedPort()
    await addScrapeTarget(state, 'dead-exporter', `127.0.0.1:${closed}`)
    const report = await eventually(
      async () => check(await sandboxContext(state), ['prometheus']),
      (r) => r.status !== 'OK',
      30_000,
    )
    expect(statuses(report)).toEqual({prometheus: 'WARNING'})
    expect(checkNamed(report, 'prometheus').summary).toContain(`cim/127.0.0.1:${closed}`)
  })

  it('--format prometheus passes promtool check metrics, and --textfile writes the same text atomically with the Nagios exit code', async () => {
    const result = await cli(['--format', 'prometheus', '--lag-warn', '1h', '--lag-crit', '2h'])
    expect(result.code).toBe(Number(/^cimops_health_status (\d)$/m.exec(result.stdout)?.[1]))
    const lint = spawnSync('promtool', ['check', 'metrics'], {input: result.stdout, encoding: 'utf8'})
    expect(lint.status, lint.stdout + lint.stderr).toBe(0)

    const file = join(home.dir, 'textfile', 'cimops.prom')
    // A directory that does not exist is a usage error naming it, before anything runs; no tree is created.
    const missing = await cli(['--textfile', file])
    expect(missing.code).toBe(64)
    expect(missing.stderr).toBe(`cimops: cannot write --textfile ${file}: directory ${join(home.dir, 'textfile')} does not exist (cimops creates no directories for the files you name: check the path, or create it first)\n`)
    await expect(stat(join(home.dir, 'textfile'))).rejects.toThrow(/ENOENT/)
    await mkdir(join(home.dir, 'textfile'))
    const written = await cli(['--textfile', file, '--json', '--stall-after', '1s'])
    expect(written.code).toBe(2)
    const text = await readFile(file, 'utf8')
    expect(text).toContain('cimops_check_status{check="consumer:workflow-analytics",component="consumers"} 2')
    expect(await readdir(join(home.dir, 'textfile'))).toEqual(['cimops.prom'])
  })

  it('disk thresholds set to trip make the disk check CRITICAL, and exit 2', async () => {
    const result = await cli(['--json', '--component', 'system', '--disk-free-warn', '99.9', '--disk-free-crit', '99.8'])
    expect(result.code).toBe(2)
    const report = JSON.parse(result.stdout)
    expect(Object.fromEntries(report.checks.map((c: {name: string; status: string}) => [c.name, c.status]))).toMatchObject({'disk:/': 'CRITICAL', memory: 'OK'})
  })

  it('--component takes the table\'s check names, comma-separated or repeated; an unknown one exits 64 naming the known ones', async () => {
    const result = await cli(['--json', '--component', 'cpu,memory', '--component', 'nats', '--load-warn', '1000', '--load-crit', '1000', '--mem-warn', '100', '--mem-crit', '100'])
    expect(result.code).toBe(0)
    expect((JSON.parse(result.stdout) as {checks: Array<{name: string}>}).checks.map((c) => c.name).sort()).toEqual(['cpu', 'memory', 'nats'])
    const unknown = await cli(['--component', 'nats,cpus'])
    expect(unknown.code).toBe(64)
    expect(unknown.stderr).toMatch(/^cimops: unknown --component "cpus": the checks are nats, jetstream, .*\n$/)
  })

  it('--watch without a terminal prints one report after another until Ctrl-C (JSON lines with --json)', async () => {
    const {state} = sandbox()
    const child = startCli(['health-check', '--watch', '--interval', '300ms', '--json', '--component', 'nats', '--nats-url', state.natsServers[0]], home.env)
    const done = finished(child)
    await new Promise((resolve) => setTimeout(resolve, 2500))
    child.kill('SIGINT')
    const result = await done
    expect(result.code).toBe(130)
    const reports = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as {status: string})
    expect(reports.length).toBeGreaterThanOrEqual(2)
    expect(reports.every((r) => r.status === 'OK')).toBe(true)
  })

  it('rejects thresholds in the wrong order as a usage error, each with its unit', async () => {
    const lag = await cli(['--lag-warn', '2m', '--lag-crit', '30s'])
    expect(lag.code).toBe(64)
    expect(lag.stderr).toBe('cimops: inconsistent --lag-warn/--lag-crit: warning 2m must be at most critical 30s\n')
    const disk = await cli(['--disk-free-warn', '5'])
    expect(disk.code).toBe(64)
    expect(disk.stderr).toBe('cimops: inconsistent --disk-free-warn/--disk-free-crit: warning 5% free must be at least critical 10% free\n')
  })

  it('Prometheus down is CRITICAL with its address, within the timeout', async () => {
    const {state} = sandbox()
    await stopProcess(state, 'prometheus')
    try {
      const started = Date.now()
      const report = await check(await sandboxContext(state, {timeout: '1s'}), ['prometheus', 'alertmanager'])
      // Well under the 5 s default: the 1 s --timeout is what bounds it, with margin for a loaded machine.
      expect(Date.now() - started).toBeLessThan(3500)
      expect(statuses(report)).toEqual({prometheus: 'CRITICAL', alertmanager: 'OK'})
      expect(checkNamed(report, 'prometheus').summary).toContain(state.prometheusUrl)
    } finally {
      await restartProcess(state, 'prometheus')
    }
  })

  it('NATS down makes every NATS-side check CRITICAL and exits 2 under --json and --format prometheus', async () => {
    const {state} = sandbox()
    await stopProcess(state, 'nats-1')
    try {
      const report = await check(await sandboxContext(state, {timeout: '1s'}), ['nats', 'jetstream', 'streams', 'consumers'])
      expect(statuses(report)).toEqual({nats: 'CRITICAL', jetstream: 'CRITICAL', streams: 'CRITICAL', consumers: 'CRITICAL'})
      expect(checkNamed(report, 'nats').summary).toContain(`cannot reach nats at ${state.natsServers[0]}`)

      const json = await cli(['--json', '--timeout', '1s'])
      expect(json.code).toBe(2)
      expect(JSON.parse(json.stdout).status).toBe('CRITICAL')
      const prom = await cli(['--format', 'prometheus', '--timeout', '1s'])
      expect(prom.code).toBe(2)
      expect(prom.stdout).toContain('cimops_check_status{check="nats",component="nats"} 2')
    } finally {
      await restartProcess(state, 'nats-1')
    }
  })

  describe('with Alertmanager a black hole (accepts, never answers)', () => {
    let blackHole: Server
    let port: number
    const accepted = new Set<Socket>()
    beforeAll(async () => {
      blackHole = createServer((socket) => accepted.add(socket))
      await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve))
      port = (blackHole.address() as {port: number}).port
    })
    afterAll(() => {
      for (const socket of accepted) socket.destroy()
      return new Promise<void>((resolve) => blackHole.close(() => resolve()))
    })

    it('the whole command still returns within the timeout plus a small margin', async () => {
      const result = await cli(['--json', '--timeout', '1s', '--lag-warn', '1h', '--lag-crit', '2h'], `http://127.0.0.1:${port}`)
      // The black hole holds for the whole 1 s; the 5 s default would take far longer. The rest is process start.
      expect(result.durationMs).toBeLessThan(4500)
      const report = JSON.parse(result.stdout)
      const am = report.checks.find((c: {name: string}) => c.name === 'alertmanager')
      expect(am.status).toBe('CRITICAL')
      expect(am.summary).toContain(`127.0.0.1:${port}`)
      expect(result.code).toBe(2)
    })
  })
})

describe('health-check with JetStream disabled', () => {
  const sandbox = useSandbox({components: ['nats'], jetstream: false})

  it('reports JetStream CRITICAL while NATS itself is OK', async () => {
    const report = await check(await sandboxContext(sandbox().state), ['nats', 'jetstream'])
    expect(statuses(report)).toEqual({nats: 'OK', jetstream: 'CRITICAL'})
    expect(checkNamed(report, 'jetstream').summary).toContain('JetStream is not enabled')
  })
})

describe('health-check against a 3-node cluster', () => {
  const sandbox = useSandbox({cluster: 3, components: ['nats']})

  beforeAll(async () => {
    await seedSandbox(sandbox().state.natsServers)
  })

  it('is OK with all three nodes up', async () => {
    const report = await check(await sandboxContext(sandbox().state), ['nats', 'jetstream'])
    expect(statuses(report)).toEqual({nats: 'OK', jetstream: 'OK'})
    expect(checkNamed(report, 'nats').metrics.find((m) => m.name === 'cluster_size')!.value).toBe(3)
  })

  it('one node killed is WARNING naming it; a second one loses quorum: CRITICAL', async () => {
    const {state} = sandbox()
    await stopProcess(state, 'nats-3', 'SIGKILL')
    // Right after a kill the groups the node led have no leader (CRITICAL) until the survivors elect one: on 2.9.10 in a
    // whole-suite run, once longer than 20s (as the sandbox's placement wait, a minute is allowed).
    const oneDown = await eventually(
      async () => check(await sandboxContext(state), ['nats', 'jetstream']),
      (r) => r.checks.every((c) => c.status === 'WARNING'),
      60_000,
    )
    expect(statuses(oneDown)).toEqual({nats: 'WARNING', jetstream: 'WARNING'})
    expect(checkNamed(oneDown, 'nats').summary).toContain(state.natsServers[2])

    await stopProcess(state, 'nats-2', 'SIGKILL')
    const quorumLost = await check(await sandboxContext(state, {timeout: '1s'}), ['nats'])
    expect(statuses(quorumLost)).toEqual({nats: 'CRITICAL'})
    expect(checkNamed(quorumLost, 'nats').summary).toContain('quorum lost')
  }, 90_000)
})

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
