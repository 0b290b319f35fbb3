#!/usr/bin/env node
// Consumer-report benchmark (issue: `consumer report` on a stream with 1,000 durable consumers, each with
// pending work, completes in <= 2 s, requests issued concurrently with a bound; report it next to a bare
// nats.js loop that lists the same consumers and reads each one's oldest unacked message, in the same run).
// Starts a single-node sandbox (nats only) on 127.0.0.1 in a temp dir, builds the backlog, runs the built CLI
// as child processes, prints one summary line, writes bench/results/consumer-report.json.
// Exits 0 when a target is missed (pass: false).
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {sandboxDown, sandboxUp} from '../dist/lib/sandbox/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.env.BENCH_RUNS ?? 5)
const warmups = 1
const consumerCount = Number(process.env.BENCH_CONSUMERS ?? 1000)
const subjects = 20
const messages = 2000
/** Consumers that also hold delivered-but-unacked messages (the rest only have undelivered work). */
const withAckPending = 100
const setupWindow = 64
const target = {reportMs: 2000}
const stream = 'BENCH'
const cli = join(root, 'bin/run.js')

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const ms = (value) => +value.toFixed(1)
const stats = (values) => ({medianMs: ms(median(values)), minMs: ms(Math.min(...values)), maxMs: ms(Math.max(...values)), samplesMs: values.map(ms)})

const tmp = mkdtempSync(join(tmpdir(), 'cimops-bench-cr-'))
const stateDir = join(tmp, 'sandbox')
// Isolated config: nothing from the caller's contexts or NATS/CIMOPS environment leaks into the runs.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(CIMOPS_|NATS_)/.test(key)))
Object.assign(env, {NO_COLOR: '1', XDG_CONFIG_HOME: join(tmp, 'config'), XDG_DATA_HOME: join(tmp, 'data')})

let interrupted
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => (interrupted = signal))
class Interrupted extends Error {}
const checkpoint = async () => {
  await new Promise((resolve) => setImmediate(resolve))
  if (interrupted) throw new Interrupted(interrupted)
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function bounded(items, limit, work) {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      await work(items[i], i)
    }
    await checkpoint()
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
}

/**
 * The bare nats.js loop, as its own Node process (cold, like the CLI): connect, list the consumers,
 * and for each, one after the other, read the first message after its ack floor matching its filter.
 * Sequential on purpose: what a short script would do. Prints its own in-process time.
 */
const BARE_LOOP = `
import {jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
const started = performance.now()
const nc = await connect({servers: process.env.BENCH_SERVERS.split(',')})
const jsm = await jetstreamManager(nc)
let listed = 0
let read = 0
for await (const ci of jsm.consumers.list(process.env.BENCH_STREAM)) {
  listed++
  const reply = await nc.request('$JS.API.STREAM.MSG.GET.' + process.env.BENCH_STREAM, JSON.stringify({seq: ci.ack_floor.stream_seq + 1, next_by_subj: ci.config.filter_subject || '>'}))
  if (reply.json().message) read++
}
await nc.close()
console.log(JSON.stringify({listed, read, inProcessMs: performance.now() - started}))
`

function bareLoop(servers) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', BARE_LOOP], {cwd: root, env: {...env, BENCH_SERVERS: servers.join(','), BENCH_STREAM: stream}, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000})
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`bare loop exited ${result.status ?? result.signal}: ${result.stderr}`)
  return {wallMs, ...JSON.parse(result.stdout.toString())}
}

function runReport(servers) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, [cli, 'consumer', 'report', stream, '--json', '--nats-url', servers.join(','), '--lag-warn', '1d', '--lag-crit', '2d', '--stall-after', '1d'], {env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, maxBuffer: 256 * 1024 * 1024})
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6
  let report
  try {
    report = JSON.parse(result.stdout.toString())
  } catch {
    throw new Error(`consumer report: output is not valid JSON (exit ${result.status ?? result.signal}): ${result.stderr}`)
  }
  if (!Array.isArray(report.consumers)) throw new Error(`consumer report failed (exit ${result.status}): ${JSON.stringify(report).slice(0, 300)}`)
  return {wallMs, exitCode: result.status, report}
}

let sandboxStarted = false
try {
  sandboxStarted = true
  const {state} = await sandboxUp({stateDir, components: ['nats']})
  const servers = state.natsServers
  await checkpoint()

  // The backlog: one stream, 2,000 messages over 20 subjects, 1,000 filtered durable consumers that have
  // consumed nothing (all their matching messages unprocessed), 100 of them with delivered-unacked messages.
  const setupStarted = performance.now()
  const nc = await connect({servers})
  try {
    const jsm = await jetstreamManager(nc)
    const js = jetstream(nc)
    await jsm.streams.add({name: stream, subjects: ['bench.>'], storage: 'file'})
    const payload = JSON.stringify({type: 'BenchEvent', data: 'x'.repeat(100)})
    for (let start = 0; start < messages; start += 500) {
      await Promise.all(Array.from({length: Math.min(500, messages - start)}, (_, i) => js.publish(`bench.${(start + i) % subjects}.e${start + i}`, payload)))
    }
    const names = Array.from({length: consumerCount}, (_, i) => `projection-${String(i).padStart(4, '0')}`)
    await bounded(names, setupWindow, (name, i) =>
      jsm.consumers.add(stream, {durable_name: name, ack_policy: 'explicit', ack_wait: 3600e9, filter_subject: `bench.${i % subjects}.>`}),
    )
    await bounded(names.slice(0, withAckPending), 16, async (name) => {
      const consumer = await js.consumers.get(stream, name)
      for await (const _m of await consumer.fetch({max_messages: 3, expires: 2000})) {
        // delivered, left unacked
      }
    })
  } finally {
    await nc.close()
  }
  const setupMs = performance.now() - setupStarted
  await checkpoint()

  // Alternate the CLI and the bare loop so both see the same machine state.
  const reportWall = []
  const reportInternal = []
  const bare = []
  const bareInProcess = []
  let rows = 0
  let reportedWithLag = 0
  let exitCodes = {}
  let bareCounts
  for (let i = 0; i < runs + warmups; i++) {
    const run = runReport(servers)
    await checkpoint()
    const loop = bareLoop(servers)
    await checkpoint()
    if (i < warmups) continue
    reportWall.push(run.wallMs)
    reportInternal.push(run.report.durationSeconds * 1000)
    bare.push(loop.wallMs)
    bareInProcess.push(loop.inProcessMs)
    rows = run.report.consumers.length
    reportedWithLag = run.report.consumers.filter((c) => c.oldestUnacked !== null).length
    exitCodes[run.exitCode] = (exitCodes[run.exitCode] ?? 0) + 1
    bareCounts = {listed: loop.listed, read: loop.read}
  }
  const baseline = []
  for (let i = 0; i < 3; i++) {
    const started = process.hrtime.bigint()
    spawnSync(process.execPath, ['-e', '0'], {env, stdio: 'ignore'})
    baseline.push(Number(process.hrtime.bigint() - started) / 1e6)
  }

  const wall = stats(reportWall)
  const pass = wall.medianMs <= target.reportMs && rows === consumerCount && reportedWithLag === consumerCount
  const result = {
    benchmark: 'consumer-report',
    runs,
    warmups,
    node: process.version,
    server: 'nats-server (sandbox, single node)',
    setup: {stream, messages, subjects, consumers: consumerCount, withAckPending, createdConcurrently: setupWindow, setupMs: ms(setupMs)},
    target: `cimops consumer report ${stream} --json wall time median <= ${target.reportMs}ms`,
    pass,
    consumerReport: {...wall, internalMedianMs: ms(median(reportInternal)), rows, rowsWithOldestUnacked: reportedWithLag, exitCodes},
    bareNatsJsLoop: {
      ...stats(bare),
      inProcessMedianMs: ms(median(bareInProcess)),
      note: 'own node process, sequential: connect, consumers.list, one STREAM.MSG.GET next_by_subj per consumer',
      ...bareCounts,
    },
    baseline: {'node -e 0': stats(baseline)},
    at: new Date().toISOString(),
  }
  mkdirSync(join(root, 'bench/results'), {recursive: true})
  writeFileSync(join(root, 'bench/results/consumer-report.json'), `${JSON.stringify(result, null, 2)}\n`)
  console.log(
    `consumer-report: ${consumerCount} consumers, cimops consumer report --json median ${Math.round(wall.medianMs)}ms (max ${Math.round(wall.maxMs)}ms, in-command ${Math.round(median(reportInternal))}ms; target <= ${target.reportMs}ms ${pass ? 'PASS' : 'FAIL'}) | bare nats.js loop (own process, sequential) ${Math.round(median(bare))}ms, in-process ${Math.round(median(bareInProcess))}ms | node -e 0 ${Math.round(median(baseline))}ms | setup ${Math.round(setupMs / 1000)}s`,
  )
} catch (error) {
  if (!(error instanceof Interrupted)) throw error
  console.error(`consumer-report bench: interrupted by ${error.message}; stopping the sandbox`)
  process.exitCode = 130
} finally {
  if (sandboxStarted) await sandboxDown(stateDir).catch((error) => console.error(`consumer-report bench: sandbox down failed: ${error.message}`))
  rmSync(tmp, {recursive: true, force: true})
}
