#!/usr/bin/env node
// Health-check benchmark (issue 22: against a healthy local sandbox the whole `cimops health-check` process
// takes <= 350 ms median and <= 450 ms p90; with Alertmanager unreachable and --timeout 2s it still returns
// in <= 2.5 s). Also where the time goes: the whole process with one component at a time, beside
// `node -e 0` and `cimops --version` (node and oclif loading), in the same run.
// Starts a seeded sandbox of real servers on 127.0.0.1 in a temp dir, runs the built CLI as child processes,
// prints one summary line, writes bench/results/health-check.json. Exits 0 when a target is missed (pass: false).
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {sandboxDown, sandboxUp, seedSandbox} from '../dist/lib/sandbox/index.js'
import {runCliJson} from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.env.BENCH_RUNS ?? 15)
const warmups = 2
const blackHoleRuns = 5
const targets = {healthyMs: 350, healthyP90Ms: 450, blackHoleMs: 2500}
const breakdownRuns = Number(process.env.BENCH_BREAKDOWN_RUNS ?? 7)
const breakdownComponents = ['system', 'nats', 'prometheus', 'alertmanager']
const cli = join(root, 'bin/run.js')

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
const p90 = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.9) - 1)]
}
const ms = (value) => +value.toFixed(1)
const stats = (values) => ({medianMs: ms(median(values)), p90Ms: ms(p90(values)), maxMs: ms(Math.max(...values)), samplesMs: values.map(ms)})

const tmp = mkdtempSync(join(tmpdir(), 'cimops-bench-hc-'))
const stateDir = join(tmp, 'sandbox')
// Isolated config: nothing from the caller's contexts or NATS/CIMOPS environment leaks into the runs.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(CIMOPS_|NATS_)/.test(key)))
// A fresh cache too: the first warm-up run writes the command's code cache (bin/run.js), as a user's first run does.
Object.assign(env, {NO_COLOR: '1', XDG_CONFIG_HOME: join(tmp, 'config'), XDG_DATA_HOME: join(tmp, 'data'), XDG_CACHE_HOME: join(tmp, 'cache')})
/** The same environment without the code cache: how a build's first run of a command starts. */
const uncachedEnv = {...env, CIMOPS_NO_CODE_CACHE: '1'}

let sandboxStarted = false
const servers = []
// spawnSync blocks the event loop, so a signal is only seen between runs: note it and stop at the next checkpoint.
let interrupted
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => (interrupted = signal))
class Interrupted extends Error {}
const tick = () => new Promise((resolve) => setImmediate(resolve))
const checkpoint = async () => {
  await tick()
  if (interrupted) throw new Interrupted(interrupted)
}

/** Runs the CLI once; returns wall time and the parsed JSON report. Only invalid JSON fails the benchmark. */
function runCli(name, args, runEnv = env) {
  return runCliJson(cli, args, {env: runEnv, what: name})
}

/** A TCP server on 127.0.0.1 that accepts connections and never answers. */
async function blackHole() {
  const server = createServer((socket) => {
    server.sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => server.sockets.delete(socket))
  })
  server.sockets = new Set()
  servers.push(server)
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  return server.address().port
}

/** A loopback port that was free a moment ago: connections are refused. */
async function closedPort() {
  const server = createServer()
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const {port} = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

try {
  sandboxStarted = true
  const {state} = await sandboxUp({stateDir})
  await checkpoint()
  await seedSandbox(state.natsServers)
  await checkpoint()
  const urls = ['--nats-url', state.natsServers.join(','), '--prometheus-url', state.prometheusUrl]

  // Healthy: alternate with `node -e 0` so both see the same machine load.
  const healthy = []
  const uncached = []
  const baseline = []
  const perCheck = {}
  const reportSeconds = []
  const exitCodes = {}
  for (let i = 0; i < runs + warmups; i++) {
    const healthyArgs = ['health-check', '--json', ...urls, '--alertmanager-url', state.alertmanagerUrl]
    const run = runCli('healthy', healthyArgs)
    const uncachedRun = runCli('healthy, no code cache', healthyArgs, uncachedEnv)
    const started = process.hrtime.bigint()
    const node = spawnSync(process.execPath, ['-e', '0'], {env, stdio: 'ignore'})
    const nodeMs = Number(process.hrtime.bigint() - started) / 1e6
    await checkpoint()
    if (node.status !== 0) throw new Error(`node -e 0 exited ${node.status}`)
    if (i < warmups) continue // the first rounds warm the file cache
    healthy.push(run.wallMs)
    uncached.push(uncachedRun.wallMs)
    baseline.push(nodeMs)
    reportSeconds.push(run.report.durationSeconds * 1000)
    exitCodes[run.exitCode] = (exitCodes[run.exitCode] ?? 0) + 1
    for (const check of run.report.checks) {
      if (typeof check.durationSeconds === 'number') (perCheck[check.name] ??= []).push(check.durationSeconds * 1000)
    }
  }

  // Where the time goes: each component alone, whole process, interleaved so all see the same load.
  const breakdownSamples = Object.fromEntries(['cimops --version', ...breakdownComponents.map((c) => `--component ${c}`)].map((name) => [name, []]))
  for (let i = 0; i < breakdownRuns + 1; i++) {
    const started = process.hrtime.bigint()
    const version = spawnSync(process.execPath, [cli, '--version'], {env, stdio: 'ignore'})
    const versionMs = Number(process.hrtime.bigint() - started) / 1e6
    if (version.status !== 0) throw new Error(`cimops --version exited ${version.status}`)
    const alone = breakdownComponents.map((component) => runCli(`--component ${component}`, ['health-check', '--json', '--component', component, ...urls, '--alertmanager-url', state.alertmanagerUrl]))
    await checkpoint()
    if (i === 0) continue
    breakdownSamples['cimops --version'].push(versionMs)
    breakdownComponents.forEach((component, k) => breakdownSamples[`--component ${component}`].push(alone[k].wallMs))
  }
  const breakdown = Object.fromEntries(Object.entries(breakdownSamples).map(([name, values]) => [name, ms(median(values))]))

  // Alertmanager a black hole (connect succeeds, no answer ever), --timeout 2s.
  const holePort = await blackHole()
  const hole = []
  const holeAlertmanager = []
  const holeStatuses = []
  for (let i = 0; i < blackHoleRuns; i++) {
    const run = runCli('AM black-hole', ['health-check', '--json', '--timeout', '2s', ...urls, '--alertmanager-url', `http://127.0.0.1:${holePort}`])
    await checkpoint() // also lets the server accept and account for the leftover connections
    const am = run.report.checks.find((check) => check.name === 'alertmanager')
    holeStatuses.push(am?.status ?? 'missing')
    hole.push(run.wallMs)
    if (typeof am?.durationSeconds === 'number') holeAlertmanager.push(am.durationSeconds * 1000)
  }
  const holeCritical = holeStatuses.every((status) => status === 'CRITICAL')

  // For comparison: Alertmanager port closed (connection refused), once.
  const refusedRun = runCli('AM refused', ['health-check', '--json', '--timeout', '2s', ...urls, '--alertmanager-url', `http://127.0.0.1:${await closedPort()}`])
  await checkpoint()
  const refusedAm = refusedRun.report.checks.find((check) => check.name === 'alertmanager')

  const checkMedians = Object.fromEntries(
    Object.entries(perCheck)
      .map(([name, values]) => [name, ms(median(values))])
      .sort((a, b) => b[1] - a[1]),
  )
  const healthyFigures = stats(healthy)
  const holeFigures = stats(hole)
  const healthyPass = healthyFigures.medianMs <= targets.healthyMs && healthyFigures.p90Ms <= targets.healthyP90Ms
  const holePass = holeFigures.maxMs <= targets.blackHoleMs && holeCritical
  const result = {
    benchmark: 'health-check',
    runs,
    warmups,
    node: process.version,
    sandbox: {cluster: state.cluster, natsServers: state.natsServers.length},
    targets: {healthy: `median <= ${targets.healthyMs}ms, p90 <= ${targets.healthyP90Ms}ms`, alertmanagerBlackHole: `<= ${targets.blackHoleMs}ms with --timeout 2s, alertmanager CRITICAL`},
    pass: healthyPass && holePass,
    healthy: {
      ...healthyFigures,
      pass: healthyPass,
      reportDurationMedianMs: ms(median(reportSeconds)),
      exitCodes,
      perCheckMedianMs: checkMedians,
    },
    healthyWithoutCodeCache: {...stats(uncached), note: 'CIMOPS_NO_CODE_CACHE=1: what the first run of a command after a build or Node upgrade costs'},
    alertmanagerBlackHole: {
      runs: blackHoleRuns,
      timeout: '2s',
      ...holeFigures,
      pass: holePass,
      alertmanagerStatuses: holeStatuses,
      alertmanagerCritical: holeCritical,
      alertmanagerCheckMedianMs: holeAlertmanager.length ? ms(median(holeAlertmanager)) : null,
    },
    alertmanagerRefused: {
      timeout: '2s',
      wallMs: ms(refusedRun.wallMs),
      alertmanagerStatus: refusedAm?.status ?? 'missing',
      alertmanagerCheckMs: typeof refusedAm?.durationSeconds === 'number' ? ms(refusedAm.durationSeconds * 1000) : null,
    },
    baseline: {'node -e 0': stats(baseline)},
    breakdownMedianMs: {runs: breakdownRuns, 'node -e 0': ms(median(baseline)), ...breakdown, all: healthyFigures.medianMs},
    at: new Date().toISOString(),
  }
  mkdirSync(join(root, 'bench/results'), {recursive: true})
  writeFileSync(join(root, 'bench/results/health-check.json'), `${JSON.stringify(result, null, 2)}\n`)
  const slowest = Object.entries(checkMedians)
    .slice(0, 4)
    .map(([name, value]) => `${name} ${Math.round(value)}ms`)
    .join(', ')
  console.log(
    `health-check: healthy median ${Math.round(healthyFigures.medianMs)}ms p90 ${Math.round(healthyFigures.p90Ms)}ms (target median <= ${targets.healthyMs}ms, p90 <= ${targets.healthyP90Ms}ms ${healthyPass ? 'PASS' : 'FAIL'}) | without code cache median ${Math.round(median(uncached))}ms | AM black-hole, --timeout 2s: median ${Math.round(holeFigures.medianMs)}ms max ${Math.round(holeFigures.maxMs)}ms, alertmanager ${holeCritical ? 'CRITICAL' : holeStatuses.join('/')} (target <= ${targets.blackHoleMs}ms ${holePass ? 'PASS' : 'FAIL'}) | AM refused ${Math.round(refusedRun.wallMs)}ms | node -e 0 ${Math.round(median(baseline))}ms | slowest checks: ${slowest}`,
  )
  console.log(`health-check breakdown (whole process, median): node -e 0 ${Math.round(median(baseline))}ms | ${Object.entries(breakdown).map(([name, value]) => `${name} ${Math.round(value)}ms`).join(' | ')} | all ${Math.round(healthyFigures.medianMs)}ms`)
} catch (error) {
  if (!(error instanceof Interrupted)) throw error
  console.error(`health-check bench: interrupted by ${error.message}; stopping the sandbox`)
  process.exitCode = 130
} finally {
  for (const server of servers) server.close()
  for (const server of servers) for (const socket of server.sockets) socket.destroy()
  if (sandboxStarted) await sandboxDown(stateDir).catch((error) => console.error(`health-check bench: sandbox down failed: ${error.message}`))
  rmSync(tmp, {recursive: true, force: true})
}
