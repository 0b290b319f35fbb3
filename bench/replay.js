#!/usr/bin/env node
// Replay benchmark (issue: 1,000,000 events of ~200 bytes replayed into a file-backed stream: >= 100,000
// events/s with every event acknowledged, >= 3x the throughput of a windowed js.publish loop measured in
// the same run, peak RSS <= 200 MB). Starts a nats-only sandbox in a temp dir, stores the events with core
// publishes, then alternates the baseline (a fresh process publishing the same number of events from
// memory with nats.js js.publish, `WINDOW` promises in flight, each with a msgID) and `cimops replay
// --to-stream` (the built CLI, under /usr/bin/time -v), each into a new file-backed stream, and a ceiling:
// the leanest acked publisher from memory (core publishes with the same headers and a reply subject each),
// which shows what the server can take on this machine. Checks that each target holds every event, prints
// one summary line, writes bench/results/replay.json.
// The machine's two cores are shared by the client and nats-server: the server's CPU time per run is
// reported too. Exits 0 when a target is missed (pass: false), like the other benches.
import {mkdirSync, writeFileSync} from 'node:fs'
import {availableParallelism, loadavg} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect, createInbox} from '@nats-io/transport-node'
import {cimEvent, interruptible, median, natsBench, processCpuSeconds, r1, r3, runNode, storeCimEvents, timeBin} from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'bin/run.js')
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
/** js.publish promises in flight in the baseline (the reference measured 38-41k/s for 100-1000). */
const WINDOW = 256
const CEILING_WINDOW = 1024
/** cimops replay --max-in-flight, when not its default. */
const MAX_IN_FLIGHT = process.env.BENCH_MAX_IN_FLIGHT
const SOURCE = 'BENCH'
const targets = {eventsPerSecond: 100_000, ratioToBaseline: 3, peakRssMB: 200}
const checkpoint = interruptible()

/** The baseline, in a fresh process: the same events, js.publish with a window, every ack awaited. */
async function baseline(servers, stream) {
  const nc = await connect({servers: servers.split(','), name: 'cimops-bench-baseline'})
  const js = jetstream(nc)
  const encoder = new TextEncoder()
  const now = Date.now()
  const inFlight = []
  const started = performance.now()
  for (let i = 0; i < EVENTS; i++) {
    const {subject, body} = cimEvent(i, EVENTS, now)
    inFlight.push(js.publish(`base.${subject}`, encoder.encode(body), {msgID: `base:${i + 1}`, expect: {streamName: stream}}))
    if (inFlight.length >= WINDOW) await inFlight.shift()
  }
  await Promise.all(inFlight)
  const seconds = (performance.now() - started) / 1000
  await nc.close()
  return {seconds}
}

/**
 * The ceiling, in a fresh process: the leanest acked publishing nats.js allows, from memory (no source
 * to read): core publishes with the replay's headers and a reply subject each, `CEILING_WINDOW` in
 * flight, acks counted by one subscription. What the server can take with every event acknowledged.
 */
async function ceiling(servers, stream) {
  const nc = await connect({servers: servers.split(','), name: 'cimops-bench-ceiling'})
  const inbox = createInbox()
  const now = Date.now()
  let sent = 0
  let acked = 0
  const started = performance.now()
  await new Promise((resolve) => {
    const send = () => {
      while (sent < EVENTS && sent - acked < CEILING_WINDOW) {
        const i = sent++
        const {subject, body} = cimEvent(i, EVENTS, now)
        const block = Buffer.from(`NATS/1.0\r\nCim-Replay-Id: ceiling\r\nCim-Replay-Source: ${SOURCE}:${i + 1}\r\nNats-Msg-Id: ceiling:${i + 1}\r\nNats-Expected-Stream: ${stream}\r\n\r\n`)
        nc.publish(`ceil.${subject}`, Buffer.from(body), {reply: `${inbox}.${i}`, headers: {encode: () => block}})
      }
    }
    nc.subscribe(`${inbox}.*`, {
      callback: () => {
        if (++acked === EVENTS) resolve()
        else if (sent - acked <= CEILING_WINDOW / 2) send()
      },
    })
    send()
  })
  const seconds = (performance.now() - started) / 1000
  await nc.close()
  return {seconds}
}

if (process.argv[2] === '--ceiling') {
  process.stdout.write(JSON.stringify(await ceiling(process.argv[3], process.argv[4])))
  process.exit(0)
}

if (process.argv[2] === '--baseline') {
  process.stdout.write(JSON.stringify(await baseline(process.argv[3], process.argv[4])))
  process.exit(0)
}

const bench = natsBench('replay')
const {env} = bench
await bench.run(async ({state, url, nc}) => {
  const serverPid = state.processes.find((p) => p.component === 'nats').pid
  const jsm = await jetstreamManager(nc)
  const source = await storeCimEvents(nc, jsm, SOURCE, EVENTS, checkpoint)
  checkpoint()

  /** Runs one measured step; returns its figures plus the server's CPU seconds meanwhile. */
  const measured = async (run) => {
    const before = processCpuSeconds(serverPid)
    const result = await run()
    const after = processCpuSeconds(serverPid)
    return {...result, serverCpuSeconds: before === undefined || after === undefined ? undefined : after - before}
  }
  const expectAll = async (stream) => {
    const info = await jsm.streams.info(stream)
    if (info.state.messages !== EVENTS) throw new Error(`${stream} holds ${info.state.messages} of ${EVENTS} events`)
    await jsm.streams.delete(stream)
  }

  const baselines = []
  const ceilings = []
  const replays = []
  for (let round = 0; round < ROUNDS; round++) {
    const runBaseline = async () => {
      const stream = `BASE_${round}`
      await jsm.streams.add({name: stream, subjects: ['base.>'], storage: 'file'})
      const run = await measured(() => runNode([fileURLToPath(import.meta.url), '--baseline', url, stream], {env, what: 'baseline'}))
      await expectAll(stream)
      baselines.push({seconds: run.json.seconds, eventsPerSecond: EVENTS / run.json.seconds, cpuSeconds: run.cpuSeconds, serverCpuSeconds: run.serverCpuSeconds, peakRssMB: run.peakRssMB})
      checkpoint()
    }
    const runCeiling = async () => {
      const stream = `CEIL_${round}`
      await jsm.streams.add({name: stream, subjects: ['ceil.>'], storage: 'file', duplicate_window: 24 * 3600 * 1e9})
      const run = await measured(() => runNode([fileURLToPath(import.meta.url), '--ceiling', url, stream], {env, what: 'ceiling'}))
      await expectAll(stream)
      ceilings.push({seconds: run.json.seconds, eventsPerSecond: EVENTS / run.json.seconds, cpuSeconds: run.cpuSeconds, serverCpuSeconds: run.serverCpuSeconds})
      checkpoint()
    }
    const runReplay = async () => {
      const stream = `COPY_${round}`
      const args = ['replay', '--stream', SOURCE, '--to-stream', stream, '--create-target', '--subject-map', `cim=copy${round}`, '--json', '--quiet', '--nats-url', url]
      if (MAX_IN_FLIGHT) args.push('--max-in-flight', MAX_IN_FLIGHT)
      const run = await measured(() => runNode([cli, ...args], {env, what: 'cimops replay'}))
      const {selected, published, duplicates, durationSeconds} = run.json
      if (selected !== EVENTS || published + duplicates !== EVENTS) throw new Error(`replay acknowledged ${published + duplicates} of ${selected}`)
      await expectAll(stream)
      replays.push({seconds: durationSeconds, eventsPerSecond: EVENTS / durationSeconds, wallSeconds: run.wallSeconds, cpuSeconds: run.cpuSeconds, serverCpuSeconds: run.serverCpuSeconds, peakRssMB: run.peakRssMB})
      checkpoint()
    }
    // Alternate which goes first, so load drifting over the run hits both alike.
    if (round % 2 === 0) {
      await runBaseline()
      await runReplay()
      await runCeiling()
    } else {
      await runCeiling()
      await runReplay()
      await runBaseline()
    }
  }

  const replayRate = median(replays.map((r) => r.eventsPerSecond))
  const baselineRate = median(baselines.map((b) => b.eventsPerSecond))
  const ceilingRate = median(ceilings.map((c) => c.eventsPerSecond))
  const ratio = median(replays.map((r, i) => r.eventsPerSecond / baselines[i].eventsPerSecond))
  const peakRss = Math.max(...replays.map((r) => r.peakRssMB ?? 0))
  const perEventMicros = (seconds) => (seconds === undefined ? null : r1((seconds * 1e6) / EVENTS))
  const pass = {
    rate: replayRate >= targets.eventsPerSecond,
    ratio: ratio >= targets.ratioToBaseline,
    peakRss: timeBin ? peakRss <= targets.peakRssMB : true,
  }
  const result = {
    benchmark: 'replay',
    node: process.version,
    server: nc.info?.version,
    events: EVENTS,
    rounds: ROUNDS,
    source: {stream: SOURCE, bytes: source.bytes, storeSeconds: r3(source.seconds)},
    targets: {rate: `>= ${targets.eventsPerSecond} events/s, every event acknowledged`, ratio: `>= ${targets.ratioToBaseline}x a windowed js.publish loop`, peakRss: `<= ${targets.peakRssMB} MB`},
    pass: pass.rate && pass.ratio && pass.peakRss,
    passes: pass,
    replay: {
      medianEventsPerSecond: Math.round(replayRate),
      ratioToBaseline: r3(ratio),
      ratioMethod: 'median over rounds of replay/baseline events per second, each pair run back to back',
      samplesSeconds: replays.map((r) => r3(r.seconds)),
      processWallSeconds: replays.map((r) => r3(r.wallSeconds)),
      clientCpuMicrosPerEvent: replays.map((r) => perEventMicros(r.cpuSeconds)),
      serverCpuMicrosPerEvent: replays.map((r) => perEventMicros(r.serverCpuSeconds)),
      peakRssMB: timeBin ? r1(peakRss) : null,
      maxInFlight: MAX_IN_FLIGHT ? Number(MAX_IN_FLIGHT) : 'default',
    },
    ceiling: {
      what: `core publishes from memory (nothing read), the replay's headers, a reply subject each, ${CEILING_WINDOW} in flight, into a file stream with a 24h duplicate window: what the server takes with every event acknowledged`,
      medianEventsPerSecond: Math.round(ceilingRate),
      replayShare: r3(replayRate / ceilingRate),
      samplesSeconds: ceilings.map((c) => r3(c.seconds)),
      clientCpuMicrosPerEvent: ceilings.map((c) => perEventMicros(c.cpuSeconds)),
      serverCpuMicrosPerEvent: ceilings.map((c) => perEventMicros(c.serverCpuSeconds)),
    },
    baseline: {
      what: `js.publish from memory, ${WINDOW} in flight, msgID and expected stream on each`,
      medianEventsPerSecond: Math.round(baselineRate),
      samplesSeconds: baselines.map((b) => r3(b.seconds)),
      clientCpuMicrosPerEvent: baselines.map((b) => perEventMicros(b.cpuSeconds)),
      serverCpuMicrosPerEvent: baselines.map((b) => perEventMicros(b.serverCpuSeconds)),
    },
    machine: {cpus: availableParallelism(), loadAverage: loadavg().map(r1)},
  }
  mkdirSync(join(root, 'bench/results'), {recursive: true})
  writeFileSync(join(root, 'bench/results/replay.json'), `${JSON.stringify(result, null, 2)}\n`)
  const mark = (ok) => (ok ? 'PASS' : 'MISS')
  const count = (n) => Math.round(n).toLocaleString('en-US')
  console.log(
    `replay: ${count(EVENTS)} events | cimops replay ${count(replayRate)} events/s (target >= ${count(targets.eventsPerSecond)} ${mark(pass.rate)}) | windowed js.publish ${count(baselineRate)} events/s, ratio ${r1(ratio)}x (target >= ${targets.ratioToBaseline}x ${mark(pass.ratio)}) | ceiling (acked publishes from memory) ${count(ceilingRate)} events/s, replay at ${Math.round((replayRate / ceilingRate) * 100)}% of it | CPU per event: client ${result.replay.clientCpuMicrosPerEvent.join('/')} us, server ${result.replay.serverCpuMicrosPerEvent.join('/')} us (baseline client ${result.baseline.clientCpuMicrosPerEvent.join('/')}, server ${result.baseline.serverCpuMicrosPerEvent.join('/')}) | peak RSS ${timeBin ? `${r1(peakRss)} MB` : 'n/a'} (target <= ${targets.peakRssMB} MB ${mark(pass.peakRss)}) | load ${r1(loadavg()[0])} on ${availableParallelism()} CPUs`,
  )
})
