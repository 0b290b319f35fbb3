#!/usr/bin/env node
// dr status benchmark (issue #20: `cimops dr status` over 50 mirrored streams <= 1 s). Starts a two-site sandbox
// of real servers on 127.0.0.1 in a temp dir (nats only), creates 50 streams at the primary and a mirror of each at
// the DR site, waits until every mirror is complete, then times the whole `cimops dr status --context sandbox-dr
// --json` process. Prints one summary line, writes bench/results/dr-status.json. Exits 0 when the target is missed (pass: false).
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'
import {interruptible, Interrupted, isolatedEnv, median, runCliJson} from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'bin/run.js')
const runs = Number(process.env.BENCH_RUNS ?? 10)
const warmups = 2
const streams = 50
const messagesEach = 20
const targetMs = 1000
const mirrorWaitMs = 60_000

const p90 = (values) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * 0.9) - 1)]
const ms = (value) => +value.toFixed(1)
const stats = (values) => ({medianMs: ms(median(values)), p90Ms: ms(p90(values)), maxMs: ms(Math.max(...values)), samplesMs: values.map(ms)})

const tmp = mkdtempSync(join(tmpdir(), 'cimops-bench-dr-status-'))
const env = isolatedEnv(tmp)
const checkpoint = interruptible()
const stateDir = join(tmp, 'sandbox')

const [{sandboxDown, sandboxUp}, {selectSandboxContext}, {connect}, {jetstreamManager}] = await Promise.all([
  import('../dist/lib/sandbox/index.js'),
  import('../dist/lib/sandbox/context.js'),
  import('@nats-io/transport-node'),
  import('@nats-io/jetstream'),
])

/** The whole CLI process, as cron or an operator runs it. */
function runCli(args) {
  return runCliJson(cli, args, {env, what: 'dr status'})
}

let sandboxStarted = false
try {
  sandboxStarted = true
  const {state} = await sandboxUp({stateDir, sites: 2, components: ['nats']})
  // The contexts sandbox up writes (sandbox, sandbox-dr), in the bench's own config.
  process.env.XDG_CONFIG_HOME = env.XDG_CONFIG_HOME
  delete process.env.CIMOPS_CONFIG
  await selectSandboxContext(state)
  await checkpoint()

  const primary = await connect({servers: state.natsServers})
  const dr = await connect({servers: state.drNatsServers})
  try {
    const [origin, copy] = await Promise.all([jetstreamManager(primary), jetstreamManager(dr)])
    const js = (await import('@nats-io/jetstream')).jetstream(primary)
    for (let i = 0; i < streams; i++) {
      await origin.streams.add({name: `BENCH_${i}`, subjects: [`bench.${i}.>`]})
      await Promise.all(Array.from({length: messagesEach}, (_, n) => js.publish(`bench.${i}.event`, JSON.stringify({i, n}))))
      await copy.streams.add({name: `BENCH_${i}_DR`, mirror: {name: `BENCH_${i}`, external: {api: '$JS.primary.API', deliver: ''}}})
    }
    await checkpoint()
    const deadline = Date.now() + mirrorWaitMs
    for (;;) {
      const counts = await Promise.all(Array.from({length: streams}, async (_, i) => (await copy.streams.info(`BENCH_${i}_DR`)).state.messages))
      if (counts.every((count) => count === messagesEach)) break
      if (Date.now() > deadline) throw new Error(`mirrors incomplete after ${mirrorWaitMs}ms: ${counts.filter((c) => c < messagesEach).length} behind`)
      await sleep(250)
      await checkpoint()
    }
  } finally {
    await primary.close()
    await dr.close()
  }

  // Alternated with `stream list` on the same site (the CLI's own start and one listing) and `node -e 0`, so all
  // three see the same machine load: what dr status adds is the difference.
  const wall = []
  const reportMs = []
  const baseline = []
  const streamList = []
  const exitCodes = {}
  let links = 0
  for (let i = 0; i < runs + warmups; i++) {
    const run = runCli(['dr', 'status', '--context', 'sandbox-dr', '--json'])
    const list = runCli(['stream', 'list', '--context', 'sandbox-dr', '--json'])
    const started = process.hrtime.bigint()
    spawnSync(process.execPath, ['-e', '0'], {env, stdio: 'ignore'})
    const nodeMs = Number(process.hrtime.bigint() - started) / 1e6
    await checkpoint()
    if (i < warmups) continue
    wall.push(run.wallMs)
    baseline.push(nodeMs)
    streamList.push(list.wallMs)
    reportMs.push(run.report.durationSeconds * 1000)
    exitCodes[run.exitCode] = (exitCodes[run.exitCode] ?? 0) + 1
    links = run.report.links.length
  }
  const figures = stats(wall)
  const pass = figures.medianMs <= targetMs && links === streams
  const versions = Object.fromEntries(state.processes.map((p) => [p.name, p.version]))
  const result = {
    benchmark: 'dr-status',
    runs,
    warmups,
    node: process.version,
    servers: versions,
    mirroredStreams: streams,
    linksReported: links,
    target: `median <= ${targetMs}ms for the whole process over ${streams} mirrored streams`,
    pass,
    wall: figures,
    reportDurationMedianMs: ms(median(reportMs)),
    exitCodes,
    baseline: {'node -e 0': stats(baseline), 'cimops stream list --context sandbox-dr --json': stats(streamList)},
    at: new Date().toISOString(),
  }
  mkdirSync(join(root, 'bench/results'), {recursive: true})
  writeFileSync(join(root, 'bench/results/dr-status.json'), `${JSON.stringify(result, null, 2)}\n`)
  console.log(
    `dr-status: ${links} links, whole process median ${Math.round(figures.medianMs)}ms p90 ${Math.round(figures.p90Ms)}ms max ${Math.round(figures.maxMs)}ms (target <= ${targetMs}ms ${pass ? 'PASS' : 'FAIL'}) | in-process ${Math.round(median(reportMs))}ms | stream list ${Math.round(median(streamList))}ms | node -e 0 ${Math.round(median(baseline))}ms | nats-server ${versions['nats-1']}`,
  )
} catch (error) {
  if (!(error instanceof Interrupted)) throw error
  console.error(`dr-status bench: interrupted by ${error.message}; stopping the sandbox`)
  process.exitCode = 130
} finally {
  if (sandboxStarted) await sandboxDown(stateDir).catch((error) => console.error(`dr-status bench: sandbox down failed: ${error.message}`))
  rmSync(tmp, {recursive: true, force: true})
}
