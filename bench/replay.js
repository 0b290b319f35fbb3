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
// Where the server has fast batch publishing (API level >= 4, nats-server 2.14+) the same run adds
// `cimops replay --publish-mode batch` into an allow_batched target and its own ceiling: the leanest
// fast-batch publisher from memory (the ADR-50 protocol written out, two flow windows outstanding), with
// the goals of issue 22 (>= 150,000 events/s, >= 3x the windowed loop, >= 80% of that ceiling, <= 200 MB).
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
const batchTargets = {eventsPerSecond: 150_000, ratioToBaseline: 3, shareOfCeiling: 0.8, peakRssMB: 200}
/** Flow window asked of the server in the fast-batch ceiling (the server grants at most 500). */
const BATCH_FLOW = 500
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

/**
 * The fast-batch ceiling, in a fresh process: one batch from memory with the replay's headers, in `gap: fail`
 * mode, two flow windows outstanding, ended with an end-of-batch message whose PubAck confirms everything.
 */
async function batchCeiling(servers, stream) {
  const nc = await connect({servers: servers.split(','), name: 'cimops-bench-batch-ceiling'})
  const inbox = createInbox()
  const prefix = `${inbox}.${createInbox().split('.').pop()}.${BATCH_FLOW}.fail.`
  const now = Date.now()
  let sent = 0
  let acked = 0
  let window = 1
  let subject = ''
  const started = performance.now()
  const count = await new Promise((resolve, reject) => {
    const send = () => {
      while (sent < EVENTS && sent < acked + window * 2) {
        const i = sent++
        const event = cimEvent(i, EVENTS, now)
        subject = `bceil.${event.subject}`
        const block = Buffer.from(`NATS/1.0\r\nCim-Replay-Id: bceiling\r\nCim-Replay-Source: ${SOURCE}:${i + 1}\r\nNats-Msg-Id: bceiling:${i + 1}\r\nNats-Expected-Stream: ${stream}\r\n\r\n`)
        nc.publish(subject, Buffer.from(event.body), {reply: `${prefix}${sent}.${sent === 1 ? 0 : 1}.$FI`, headers: {encode: () => block}})
      }
      if (sent === EVENTS) nc.publish(subject, new Uint8Array(0), {reply: `${prefix}${EVENTS + 1}.3.$FI`})
    }
    nc.subscribe(`${prefix}>`, {
      callback: (_error, msg) => {
        const reply = msg.json()
        if (reply.type === 'ack') {
          acked = Math.max(acked, reply.seq)
          window = reply.msgs
          if (sent < EVENTS) send()
        } else if (reply.type === undefined) {
          if (reply.error || reply.batch === undefined) reject(new Error(`batch ceiling: ${JSON.stringify(reply)}`))
          else resolve(reply.count)
        }
      },
    })
    // The first message alone: its ack opens the window.
    const first = cimEvent(0, EVENTS, now)
    subject = `bceil.${first.subject}`
    const block = Buffer.from(`NATS/1.0\r\nCim-Replay-Id: bceiling\r\nCim-Replay-Source: ${SOURCE}:1\r\nNats-Msg-Id: bceiling:1\r\nNats-Expected-Stream: ${stream}\r\n\r\n`)
    sent = 1
    nc.publish(subject, Buffer.from(first.body), {reply: `${prefix}1.0.$FI`, headers: {encode: () => block}})
  })
  const seconds = (performance.now() - started) / 1000
  await nc.close()
  if (count !== EVENTS) throw new Error(`batch ceiling: the PubAck counted ${count} of ${EVENTS}`)
  return {seconds}
}

if (process.argv[2] === '--batch-ceiling') {
  process.stdout.write(JSON.stringify(await batchCeiling(process.argv[3], process.argv[4])))
  process.exit(0)
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
  // What the server reports, never its version string: fast batches need API level 4.
  const apiLevel = (await jsm.getAccountInfo()).api?.level
  const fastBatch = typeof apiLevel === 'number' && apiLevel >= 4

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
  const batchCeilings = []
  const batchReplays = []
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
    const runBatchCeiling = async () => {
      const stream = `BCEIL_${round}`
      await jsm.streams.add({name: stream, subjects: ['bceil.>'], storage: 'file', duplicate_window: 24 * 3600 * 1e9, allow_batched: true})
      const run = await measured(() => runNode([fileURLToPath(import.meta.url), '--batch-ceiling', url, stream], {env, what: 'batch ceiling'}))
      await expectAll(stream)
      batchCeilings.push({seconds: run.json.seconds, eventsPerSecond: EVENTS / run.json.seconds, cpuSeconds: run.cpuSeconds, serverCpuSeconds: run.serverCpuSeconds})
      checkpoint()
    }
    /** `cimops replay` in one publish mode, into a target it creates (allow_batched where the server has fast batches). */
    const runReplay = async (mode, samples) => {
      const stream = `COPY_${mode}_${round}`
      const args = ['replay', '--stream', SOURCE, '--to-seq', String(EVENTS), '--to-stream', stream, '--create-target', '--subject-map', `cim=copy${mode}${round}`, '--publish-mode', mode, '--json', '--quiet', '--nats-url', url]
      if (MAX_IN_FLIGHT) args.push('--max-in-flight', MAX_IN_FLIGHT)
      const run = await measured(() => runNode([cli, ...args], {env, what: `cimops replay --publish-mode ${mode}`}))
      const {selected, published, duplicates, durationSeconds, publishMode} = run.json
      if (selected !== EVENTS || published + duplicates !== EVENTS) throw new Error(`replay acknowledged ${published + duplicates} of ${selected}`)
      if (publishMode?.mode !== mode) throw new Error(`replay ran ${publishMode?.mode}, not ${mode}`)
      await expectAll(stream)
      samples.push({seconds: durationSeconds, eventsPerSecond: EVENTS / durationSeconds, wallSeconds: run.wallSeconds, cpuSeconds: run.cpuSeconds, serverCpuSeconds: run.serverCpuSeconds, peakRssMB: run.peakRssMB})
      checkpoint()
    }
    const runBatch = async () => {
      if (!fastBatch) return
      await runReplay('batch', batchReplays)
      await runBatchCeiling()
    }
    // Alternate which goes first, so load drifting over the run hits both alike.
    if (round % 2 === 0) {
      await runBaseline()
      await runReplay('async', replays)
      await runCeiling()
      await runBatch()
    } else {
      await runBatch()
      await runCeiling()
      await runReplay('async', replays)
      await runBaseline()
    }
  }

  const replayRate = median(replays.map((r) => r.eventsPerSecond))
  const baselineRate = median(baselines.map((b) => b.eventsPerSecond))
  const ceilingRate = median(ceilings.map((c) => c.eventsPerSecond))
  const ratio = median(replays.map((r, i) => r.eventsPerSecond / baselines[i].eventsPerSecond))
  const peakRss = Math.max(...replays.map((r) => r.peakRssMB ?? 0))
  const perEventMicros = (seconds) => (seconds === undefined ? null : r1((seconds * 1e6) / EVENTS))
  const batch = fastBatch ? batchFigures() : undefined
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
    pass: pass.rate && pass.ratio && pass.peakRss && (batch?.pass ?? true),
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
    batch: batch ?? {skipped: `the server reports API level ${apiLevel ?? 'none'}: fast batch publishing needs 4 (nats-server 2.14+)`},
    baseline: {
      what: `js.publish from memory, ${WINDOW} in flight, msgID and expected stream on each`,
      medianEventsPerSecond: Math.round(baselineRate),
      samplesSeconds: baselines.map((b) => r3(b.seconds)),
      clientCpuMicrosPerEvent: baselines.map((b) => perEventMicros(b.cpuSeconds)),
      serverCpuMicrosPerEvent: baselines.map((b) => perEventMicros(b.serverCpuSeconds)),
    },
    machine: {cpus: availableParallelism(), loadAverage: loadavg().map(r1)},
  }
  /** `cimops replay --publish-mode batch` against the baseline and the fast-batch ceiling of the same rounds. */
  function batchFigures() {
    const rate = median(batchReplays.map((r) => r.eventsPerSecond))
    const ceilingRate = median(batchCeilings.map((c) => c.eventsPerSecond))
    const ratio = median(batchReplays.map((r, i) => r.eventsPerSecond / baselines[i].eventsPerSecond))
    const share = median(batchReplays.map((r, i) => r.eventsPerSecond / batchCeilings[i].eventsPerSecond))
    const rss = Math.max(...batchReplays.map((r) => r.peakRssMB ?? 0))
    const passes = {
      rate: rate >= batchTargets.eventsPerSecond,
      ratio: ratio >= batchTargets.ratioToBaseline,
      shareOfCeiling: share >= batchTargets.shareOfCeiling,
      peakRss: timeBin ? rss <= batchTargets.peakRssMB : true,
    }
    return {
      targets: {
        rate: `>= ${batchTargets.eventsPerSecond} events/s, every event acknowledged`,
        ratio: `>= ${batchTargets.ratioToBaseline}x a windowed js.publish loop`,
        shareOfCeiling: `>= ${batchTargets.shareOfCeiling * 100}% of the fast-batch ceiling`,
        peakRss: `<= ${batchTargets.peakRssMB} MB`,
      },
      pass: passes.rate && passes.ratio && passes.shareOfCeiling && passes.peakRss,
      passes,
      apiLevel,
      medianEventsPerSecond: Math.round(rate),
      ratioToBaseline: r3(ratio),
      shareOfCeiling: r3(share),
      samplesSeconds: batchReplays.map((r) => r3(r.seconds)),
      processWallSeconds: batchReplays.map((r) => r3(r.wallSeconds)),
      clientCpuMicrosPerEvent: batchReplays.map((r) => perEventMicros(r.cpuSeconds)),
      serverCpuMicrosPerEvent: batchReplays.map((r) => perEventMicros(r.serverCpuSeconds)),
      peakRssMB: timeBin ? r1(rss) : null,
      ceiling: {
        what: `the leanest fast-batch publisher from memory (nothing read): one batch, the replay's headers, gap fail, flow ${BATCH_FLOW}, two windows outstanding, into an allow_batched file stream with a 24h duplicate window`,
        medianEventsPerSecond: Math.round(ceilingRate),
        samplesSeconds: batchCeilings.map((c) => r3(c.seconds)),
        clientCpuMicrosPerEvent: batchCeilings.map((c) => perEventMicros(c.cpuSeconds)),
        serverCpuMicrosPerEvent: batchCeilings.map((c) => perEventMicros(c.serverCpuSeconds)),
      },
    }
  }
  mkdirSync(join(root, 'bench/results'), {recursive: true})
  writeFileSync(join(root, 'bench/results/replay.json'), `${JSON.stringify(result, null, 2)}\n`)
  const mark = (ok) => (ok ? 'PASS' : 'MISS')
  const count = (n) => Math.round(n).toLocaleString('en-US')
  console.log(
    `replay: ${count(EVENTS)} events | cimops replay ${count(replayRate)} events/s (target >= ${count(targets.eventsPerSecond)} ${mark(pass.rate)}) | windowed js.publish ${count(baselineRate)} events/s, ratio ${r1(ratio)}x (target >= ${targets.ratioToBaseline}x ${mark(pass.ratio)}) | ceiling (acked publishes from memory) ${count(ceilingRate)} events/s, replay at ${Math.round((replayRate / ceilingRate) * 100)}% of it | CPU per event: client ${result.replay.clientCpuMicrosPerEvent.join('/')} us, server ${result.replay.serverCpuMicrosPerEvent.join('/')} us (baseline client ${result.baseline.clientCpuMicrosPerEvent.join('/')}, server ${result.baseline.serverCpuMicrosPerEvent.join('/')}) | peak RSS ${timeBin ? `${r1(peakRss)} MB` : 'n/a'} (target <= ${targets.peakRssMB} MB ${mark(pass.peakRss)}) | ${batch ? `fast batch: cimops replay ${count(batch.medianEventsPerSecond)} events/s (target >= ${count(batchTargets.eventsPerSecond)} ${mark(batch.passes.rate)}), ${r1(batch.ratioToBaseline)}x the windowed loop (${mark(batch.passes.ratio)}), ${Math.round(batch.shareOfCeiling * 100)}% of the fast-batch ceiling ${count(batch.ceiling.medianEventsPerSecond)} events/s (target >= ${batchTargets.shareOfCeiling * 100}% ${mark(batch.passes.shareOfCeiling)}), CPU per event client ${batch.clientCpuMicrosPerEvent.join('/')} us, server ${batch.serverCpuMicrosPerEvent.join('/')} us, peak RSS ${batch.peakRssMB ?? 'n/a'} MB (${mark(batch.passes.peakRss)})` : `fast batch: skipped (${result.batch.skipped})`} | load ${r1(loadavg()[0])} on ${availableParallelism()} CPUs`,
  )
})
