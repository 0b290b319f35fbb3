#!/usr/bin/env node
// Event monitor benchmark (issue #11: `cimops monitor` keeps up with 50,000 events/s for 60 s; its derived
// counters equal what was published; its lag behind the stream stays under 1 s; peak RSS <= 150 MB; CPU
// time per 100k events reported). Starts a nats-only sandbox in a temp dir, runs the built CLI's monitor as
// a child process, and a publisher in another child process (core publishes into the EVENTS stream, paced
// per 10 ms), so neither takes the other's event loop. Every 500 ms it samples the stream's last sequence
// and the monitor's counted sequence together, and the monitor's /proc status (VmRSS, VmHWM) and CPU.
// Prints one summary line, writes bench/results/monitor.json, removes everything. Bounded: about 2 minutes.
// BENCH_RATE and BENCH_SECONDS change the load. Exits 0 when a target is missed (pass: false), like the other benches.
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {availableParallelism, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'
import {jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {Interrupted, interruptible, isolatedEnv, processCpuSeconds} from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'bin/run.js')
const RATE = Number(process.env.BENCH_RATE ?? 50_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60)
const STREAM = 'EVENTS'
const SAMPLE_MS = 500
const TICK_MS = 10
const targets = {lagSeconds: 1, peakRssMB: 150}
const DOMAINS = ['workflow', 'document', 'identity', 'agent', 'graph']
const TYPES = ['Created', 'Updated', 'Completed', 'Failed']
const ERRORS = ['timeout', 'validation', 'conflict']

const r1 = (value) => Math.round(value * 10) / 10
const r3 = (value) => Math.round(value * 1000) / 1000
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)] : 0
}

// ---- child mode: the publisher --------------------------------------------------------------------------
if (process.argv[2] === '--publish') {
  const servers = process.argv[3].split(',')
  const nc = await connect({servers, name: 'cimops-bench-publisher'})
  const encoder = new TextEncoder()
  const counts = {}
  const total = RATE * SECONDS
  let sent = 0
  let ticks = 0
  let stopping = false
  process.once('SIGTERM', () => (stopping = true))
  const started = performance.now()
  while (sent < total && !stopping) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE))
    const occurredAt = new Date().toISOString()
    for (; sent < due; sent++) {
      const i = sent
      const domain = DOMAINS[i % 5]
      // 1 in 100 is a failure; the rest spread over the other three types.
      const type = i % 100 === 7 ? 'Failed' : TYPES[(i >> 3) % 3]
      const eventType = `${domain[0].toUpperCase()}${domain.slice(1)}${type}`
      const aggregateId = `${domain.slice(0, 2)}-${i % 10_000}`
      const data = type === 'Failed' ? `{"error":"${ERRORS[(i >> 7) % 3]}","step":${i % 7}}` : `{"seq":${i},"by":"agent-${i % 97}"}`
      const body = `{"id":"ev-${i}","type":"${eventType}","domain":"${domain}","aggregateType":"${domain}","aggregateId":"${aggregateId}","occurredAt":"${occurredAt}","data":${data}}`
      nc.publish(`cim.${domain}.${domain}.${aggregateId}.${eventType}`, encoder.encode(body))
      const key = type === 'Failed' ? `${domain}/${eventType}/${ERRORS[(i >> 7) % 3]}` : `${domain}/${eventType}`
      counts[key] = (counts[key] ?? 0) + 1
    }
    // Flushing every 10 ticks keeps the client's buffer small and paces on the server's answers.
    if (++ticks % 10 === 0) await nc.flush()
    await sleep(TICK_MS)
  }
  await nc.flush()
  const seconds = (performance.now() - started) / 1000
  await nc.close()
  process.stdout.write(JSON.stringify({published: sent, seconds, counts}))
  process.exit(0)
}

// ---- main -----------------------------------------------------------------------------------------------
const {sandboxDown, sandboxUp} = await import('../dist/lib/sandbox/index.js')
const tmp = mkdtempSync(join(tmpdir(), 'cimops-bench-monitor-'))
const stateDir = join(tmp, 'sandbox')
// Isolated config: nothing from the caller's contexts or NATS/CIMOPS environment leaks into the monitor.
const env = isolatedEnv(tmp)
const checkpoint = interruptible()

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** A child process with its stdout and stderr collected; `done` resolves with the exit code. */
function child(argv) {
  const proc = spawn(process.execPath, argv, {env, stdio: ['ignore', 'pipe', 'pipe']})
  const out = {stdout: '', stderr: ''}
  proc.stdout.on('data', (chunk) => (out.stdout += chunk))
  proc.stderr.on('data', (chunk) => (out.stderr += chunk))
  out.done = new Promise((resolve) => proc.on('close', (code, signal) => resolve(code ?? signal)))
  out.proc = proc
  return out
}

/** VmRSS/VmHWM (MB) and CPU seconds (utime + stime) of a process, from /proc. */
function procStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0)
  return {rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024, cpuSeconds: processCpuSeconds(pid)}
}

function parseMetrics(text) {
  const out = []
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match) continue
    const labels = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value
    out.push({name: match[1], labels, value: Number(match[3])})
  }
  return out
}

async function scrape(base) {
  const response = await fetch(`${base}/metrics`, {signal: AbortSignal.timeout(5000)})
  return parseMetrics(await response.text())
}

const countedSeq = (metrics) => metrics.find((m) => m.name === 'cim_monitor_counted_sequence')?.value ?? 0

let sandboxStarted = false
let monitor
let publisher
let nc
try {
  sandboxStarted = true
  const {state} = await sandboxUp({stateDir, components: ['nats']})
  checkpoint()
  const servers = state.natsServers.join(',')
  nc = await connect({servers: state.natsServers, name: 'cimops-bench-sampler'})
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({name: STREAM, subjects: ['cim.>'], storage: 'file', max_bytes: 1_800_000_000})

  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  monitor = child([cli, 'monitor', '--listen', `127.0.0.1:${port}`, '--nats-url', servers, '--refresh', '1s'])
  const readyBy = Date.now() + 20_000
  for (;;) {
    const ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false)
    if (ready) break
    if (Date.now() > readyBy) throw new Error(`the monitor is not ready after 20s: ${monitor.stderr}`)
    await sleep(100)
    checkpoint()
  }
  const startStats = procStats(monitor.proc.pid)

  publisher = child([fileURLToPath(import.meta.url), '--publish', servers])
  const samples = []
  const publishStarted = performance.now()
  let published
  publisher.done.then(() => (published = true))
  while (!published) {
    await sleep(SAMPLE_MS)
    checkpoint()
    const [info, metrics] = await Promise.all([jsm.streams.info(STREAM), scrape(base)])
    const at = (performance.now() - publishStarted) / 1000
    samples.push({at, streamSeq: info.state.last_seq, countedSeq: countedSeq(metrics), ...procStats(monitor.proc.pid)})
  }
  const publish = JSON.parse(publisher.stdout)
  // Drain: how long until the monitor has counted everything stored.
  const storedInfo = await jsm.streams.info(STREAM)
  const drainStarted = performance.now()
  let final
  for (;;) {
    final = await scrape(base)
    if (countedSeq(final) >= storedInfo.state.last_seq) break
    if (performance.now() - drainStarted > 30_000) break
    await sleep(50)
  }
  const drainSeconds = (performance.now() - drainStarted) / 1000
  const endStats = procStats(monitor.proc.pid)

  // Counters against what was published.
  const expected = {}
  const expectedFailed = {}
  const expectedSent = {}
  for (const [key, count] of Object.entries(publish.counts)) {
    const [domain, eventType, error] = key.split('/')
    expected[`${domain}/${eventType}`] = (expected[`${domain}/${eventType}`] ?? 0) + count
    if (error) expectedFailed[key] = count
    expectedSent[`cim.${domain}`] = (expectedSent[`cim.${domain}`] ?? 0) + count
  }
  const got = {}
  const gotFailed = {}
  const gotSent = {}
  for (const m of final) {
    if (m.name === 'cim_events_total') got[`${m.labels.domain}/${m.labels.event_type}`] = m.value
    if (m.name === 'cim_events_failed_total') gotFailed[`${m.labels.domain}/${m.labels.event_type}/${m.labels.error}`] = m.value
    if (m.name === 'cim_nats_messages_sent_total') gotSent[m.labels.subject] = m.value
  }
  const sameCounts = (a, b) => Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([key, value]) => b[key] === value)
  const counters = {
    stored: storedInfo.state.messages,
    allStored: storedInfo.state.messages === publish.published,
    eventsTotal: sameCounts(expected, got),
    eventsFailed: sameCounts(expectedFailed, gotFailed),
    messagesSent: sameCounts(expectedSent, gotSent),
    counted: Object.values(got).reduce((sum, value) => sum + value, 0),
  }
  counters.pass = counters.allStored && counters.eventsTotal && counters.eventsFailed && counters.messagesSent

  // Lag: events the monitor had not counted yet when sampled, in seconds at the rate the stream grew then.
  const lags = samples.map((s, i) => {
    const previous = samples[Math.max(0, i - 2)]
    const rate = i === 0 ? RATE : Math.max(1, (s.streamSeq - previous.streamSeq) / Math.max(0.001, s.at - previous.at))
    const behind = Math.max(0, s.streamSeq - s.countedSeq)
    return {behind, seconds: behind / rate}
  })
  const lagSeconds = lags.map((l) => l.seconds)
  const behind = lags.map((l) => l.behind)
  const events = publish.published
  const cpuSeconds = endStats.cpuSeconds - startStats.cpuSeconds
  const achievedRate = events / publish.seconds
  const peakRssMB = endStats.hwmMB
  const lagPass = Math.max(...lagSeconds, 0) < targets.lagSeconds && drainSeconds < targets.lagSeconds
  const ratePass = achievedRate >= RATE * 0.98
  const rssPass = peakRssMB <= targets.peakRssMB
  const result = {
    benchmark: 'monitor',
    node: process.version,
    server: nc.info?.version,
    cpus: availableParallelism(),
    load: {targetRatePerSecond: RATE, seconds: SECONDS, events, achievedRatePerSecond: Math.round(achievedRate), publishSeconds: r3(publish.seconds), pass: ratePass},
    targets: {counters: 'equal to the published counts', lag: `< ${targets.lagSeconds}s behind the stream`, peakRss: `<= ${targets.peakRssMB} MB`},
    pass: ratePass && counters.pass && lagPass && rssPass,
    counters,
    lag: {
      maxSeconds: r3(Math.max(...lagSeconds, 0)),
      p99Seconds: r3(percentile(lagSeconds, 0.99)),
      p50Seconds: r3(percentile(lagSeconds, 0.5)),
      maxEventsBehind: Math.max(...behind, 0),
      drainSeconds: r3(drainSeconds),
      samples: samples.length,
      method: `every ${SAMPLE_MS}ms: stream last_seq (STREAM.INFO) and the monitor's cim_monitor_counted_sequence read together; events behind / the stream's growth rate`,
      pass: lagPass,
    },
    memory: {peakRssMB: r1(peakRssMB), maxSampledRssMB: r1(Math.max(...samples.map((s) => s.rssMB), endStats.rssMB)), startRssMB: r1(startStats.rssMB), pass: rssPass},
    cpu: {
      monitorSeconds: r3(cpuSeconds),
      secondsPer100kEvents: r3((cpuSeconds / events) * 100_000),
      shareOfOneCore: r3(cpuSeconds / (publish.seconds + drainSeconds)),
      method: '/proc/<pid>/stat utime+stime of the monitor process, from ready to fully counted',
    },
    at: new Date().toISOString(),
  }
  mkdirSync(join(root, 'bench/results'), {recursive: true})
  writeFileSync(join(root, 'bench/results/monitor.json'), `${JSON.stringify(result, null, 2)}\n`)
  console.log(
    `monitor: ${events} events at ${Math.round(achievedRate)}/s for ${r1(publish.seconds)}s (target ${RATE}/s ${ratePass ? 'PASS' : 'FAIL'}) | counters ${counters.pass ? 'equal (PASS)' : `DIFFER (FAIL): ${JSON.stringify(counters)}`} | lag max ${r3(result.lag.maxSeconds)}s p50 ${r3(result.lag.p50Seconds)}s, drained ${r3(drainSeconds)}s after the last publish (target < ${targets.lagSeconds}s ${lagPass ? 'PASS' : 'FAIL'}) | peak RSS ${r1(peakRssMB)} MB (target <= ${targets.peakRssMB} MB ${rssPass ? 'PASS' : 'FAIL'}) | CPU ${r3(result.cpu.secondsPer100kEvents)}s per 100k events (${Math.round(result.cpu.shareOfOneCore * 100)}% of a core)`,
  )
} catch (error) {
  if (!(error instanceof Interrupted)) throw error
  console.error(`monitor bench: interrupted by ${error.message}; stopping the sandbox`)
  process.exitCode = 130
} finally {
  publisher?.proc.kill('SIGTERM')
  monitor?.proc.kill('SIGTERM')
  await Promise.all([publisher?.done, monitor?.done].filter(Boolean))
  await nc?.close().catch(() => undefined)
  if (sandboxStarted) await sandboxDown(stateDir).catch((error) => console.error(`monitor bench: sandbox down failed: ${error.message}`))
  rmSync(tmp, {recursive: true, force: true})
}
