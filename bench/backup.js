#!/usr/bin/env node
// Backup/restore benchmark (issue: a 1,000,000-event stream of ~200 MB; `cimops backup create` throughput
// >= 80% of a bare snapshot exchange that discards the bytes, measured in the same run; restore (issue 22)
// >= 1.2x as fast as a bare one-64-KiB-chunk-at-a-time exchange, natscli's way; peak RSS <= 200 MB).
// Starts a nats-only sandbox in a temp dir, publishes the events with core publishes, alternates bare
// exchanges (in this process) with the built CLI (child processes under /usr/bin/time -v for peak RSS),
// prints one summary line, writes bench/results/backup.json, removes everything. Bounded well under 3 minutes.
// Exits 0 when a target is missed (pass: false), like the other benches.
import {spawnSync} from 'node:child_process'
import {mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {availableParallelism, loadavg} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {jetstreamManager} from '@nats-io/jetstream'
import {connect, createInbox} from '@nats-io/transport-node'
import {interruptible, median, natsBench, r1, r3, runNode, storeCimEvents, timeBin} from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'bin/run.js')
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const STREAM = 'BENCH'
const RESTORE_CHUNK = 64 * 1024
const targets = {backupRatio: 0.8, restoreRatio: 1.2, peakRssMB: 200}
const MB = 1e6
const checkpoint = interruptible()

async function publishEvents(nc) {
  const jsm = await jetstreamManager(nc)
  const {seconds, bytes} = await storeCimEvents(nc, jsm, STREAM, EVENTS, checkpoint)
  return {seconds, bytes, jsm}
}

/** The protocol alone: request, ack every chunk on receipt, count and discard the bytes. */
async function bareSnapshot(nc) {
  const inbox = createInbox()
  let bytes = 0
  const started = performance.now()
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare snapshot: no EOF after 120s')), 120_000)
    nc.subscribe(inbox, {
      callback: (error, m) => {
        if (error) return reject(error)
        if (m.data.length === 0) {
          clearTimeout(timer)
          return resolve()
        }
        if (m.reply) m.respond()
        bytes += m.data.length
      },
    })
  })
  const reply = await nc.request(`$JS.API.STREAM.SNAPSHOT.${STREAM}`, JSON.stringify({deliver_subject: inbox, chunk_size: 128 * 1024}), {timeout: 10_000})
  if (reply.json().error) throw new Error(`bare snapshot: ${reply.string()}`)
  await done
  return {seconds: (performance.now() - started) / 1000, bytes}
}

/** The archive of the bench stream in a set: stream.tar.s2 (tar) or the backup V2 name nats-server 2.15 gives it. */
function archiveOf(setDir) {
  const name = readdirSync(join(setDir, STREAM)).find((file) => file !== 'backup.json')
  return readFileSync(join(setDir, STREAM, name))
}

/** The restore protocol alone, from memory: `window` chunks of `chunk` bytes in flight (natscli: one of 64 KiB). */
async function bareRestore(nc, jsm, backupJson, archive, window = 1, chunk = RESTORE_CHUNK) {
  await jsm.streams.delete(STREAM)
  const started = performance.now()
  const reply = (await nc.request(`$JS.API.STREAM.RESTORE.${STREAM}`, backupJson, {timeout: 10_000})).json()
  if (reply.error) throw new Error(`bare restore: ${JSON.stringify(reply.error)}`)
  const inFlight = []
  for (let offset = 0; offset < archive.length; offset += chunk) {
    inFlight.push(nc.request(reply.deliver_subject, archive.subarray(offset, offset + chunk), {timeout: 10_000}))
    if (inFlight.length >= window) await inFlight.shift()
  }
  await Promise.all(inFlight)
  const final = (await nc.request(reply.deliver_subject, new Uint8Array(0), {timeout: 600_000})).json()
  if (final.error) throw new Error(`bare restore final: ${JSON.stringify(final.error)}`)
  if (final.state.messages !== EVENTS) throw new Error(`bare restore: ${final.state.messages} messages`)
  return {seconds: (performance.now() - started) / 1000}
}

/** The built CLI with --json, under /usr/bin/time -v for its peak RSS. */
function runCli(args, {allowFail = false} = {}) {
  return runNode([cli, ...args], {env, what: `cimops ${args.slice(0, 2).join(' ')}`, allowFail})
}

/** This file in a bare-exchange mode, in a fresh process. */
function runBare(args) {
  return runNode([fileURLToPath(import.meta.url), ...args], {env, what: `bare ${args[0]}`})
}


// Child modes: the bare exchanges run in a fresh process too, so they start as cold as the CLI does.
if (process.argv[2] === '--bare-snapshot') {
  const child = await connect({servers: process.argv[3].split(','), name: 'cimops-bench-bare'})
  const result = await bareSnapshot(child)
  await child.close()
  process.stdout.write(JSON.stringify(result))
  process.exit(0)
}
if (process.argv[2] === '--noop') {
  // The bare child's fixed cost (imports, connect) without an exchange, to subtract from its CPU time.
  const child = await connect({servers: process.argv[3].split(','), name: 'cimops-bench-bare'})
  await child.close()
  process.stdout.write('{}')
  process.exit(0)
}
if (process.argv[2] === '--bare-restore') {
  const [, , , servers, setDir, window, chunk] = process.argv
  const child = await connect({servers: servers.split(','), name: 'cimops-bench-bare'})
  const jsm = await jetstreamManager(child)
  const result = await bareRestore(child, jsm, readFileSync(join(setDir, STREAM, 'backup.json')), archiveOf(setDir), Number(window), Number(chunk ?? RESTORE_CHUNK))
  await child.close()
  process.stdout.write(JSON.stringify(result))
  process.exit(0)
}

const bench = natsBench('backup')
const {tmp, env} = bench
await bench.run(async ({url, nc}) => {
  const published = await publishEvents(nc)
  // Let the server's own writes of the 256 MB reach the disk first, so its writeback does not land on whichever run comes next.
  spawnSync('sync')
  checkpoint()

  const bare = []
  const backups = []
  let lastSet
  // Pairs, alternating which goes first, so machine load drifting over the run hits both sides alike.
  for (let round = 0; round < ROUNDS; round++) {
    const runBareOnce = async () => {
      const bareRun = await runBare(['--bare-snapshot', url])
      bare.push({...bareRun.json, peakRssMB: bareRun.peakRssMB, cpuSeconds: bareRun.cpuSeconds})
      checkpoint()
    }
    const runBackupOnce = async () => {
      if (lastSet) rmSync(lastSet, {recursive: true, force: true})
      const dir = join(tmp, `set-${round}`)
      const run = await runCli(['backup', 'create', '--stream', STREAM, '--dir', dir, '--json', '--nats-url', url])
      const stream = run.json.streams[0]
      backups.push({seconds: run.json.durationSeconds, wallSeconds: run.wallSeconds, cpuSeconds: run.cpuSeconds, bytes: stream.size, peakRssMB: run.peakRssMB})
      lastSet = dir
      checkpoint()
    }
    if (round % 2 === 0) {
      await runBareOnce()
      await runBackupOnce()
    } else {
      await runBackupOnce()
      await runBareOnce()
    }
  }

  // Fixed CPU cost of each kind of process (startup, imports, connect), so the transfer's own CPU can be compared.
  const fixedCli = []
  const fixedBare = []
  for (let i = 0; i < 3; i++) {
    // Loads everything a backup loads and connects, then stops at the unknown stream (exit 64).
    fixedCli.push((await runCli(['backup', 'create', '--stream', 'NO_SUCH_STREAM', '--dir', join(tmp, 'never'), '--json', '--nats-url', url], {allowFail: true})).cpuSeconds)
    fixedBare.push((await runBare(['--noop', url])).cpuSeconds)
    checkpoint()
  }

  const archive = archiveOf(lastSet)
  const bareRestores = []
  const pipelined = []
  const restores = []
  for (let round = 0; round < ROUNDS; round++) {
    const runBareOnce = async () => {
      bareRestores.push((await runBare(['--bare-restore', url, lastSet, '1'])).json)
      checkpoint()
    }
    const runRestoreOnce = async () => {
      await published.jsm.streams.delete(STREAM)
      const run = await runCli(['restore', lastSet, '--json', '--nats-url', url])
      if (!run.json.ok) throw new Error(`restore did not match the manifest: ${JSON.stringify(run.json.streams[0].checks)}`)
      restores.push({seconds: run.json.durationSeconds, wallSeconds: run.wallSeconds, peakRssMB: run.peakRssMB})
      checkpoint()
    }
    if (round % 2 === 0) {
      await runBareOnce()
      await runRestoreOnce()
    } else {
      await runRestoreOnce()
      await runBareOnce()
    }
  }
  // Where a restore's time goes: the upload as cimops sends it (chunks of max_payload, 1 MiB here, two in
  // flight), bare; and the checks it makes before any server is touched (`backup verify`: sha256 and the
  // whole archive decompressed). For information: 8 chunks of 64 KiB in flight.
  const asCimopsSends = []
  const verifies = []
  for (let round = 0; round < ROUNDS; round++) {
    asCimopsSends.push((await runBare(['--bare-restore', url, lastSet, '2', String(1024 * 1024)])).json.seconds)
    verifies.push((await runCli(['backup', 'verify', lastSet, '--json'])).wallSeconds)
    checkpoint()
  }
  pipelined.push((await runBare(['--bare-restore', url, lastSet, '8'])).json)
  checkpoint()

  // A CIM event stream has projections: durable consumers with filters. Listing them for the manifest makes a
  // 2.9 server compute each one's pending count over the whole stream, which the bare exchange never asks for.
  await published.jsm.consumers.add(STREAM, {durable_name: 'workflow-projection', ack_policy: 'explicit', filter_subject: 'cim.workflow.>'})
  const withConsumer = {backup: [], bare: []}
  for (let round = 0; round < 2; round++) {
    withConsumer.bare.push((await runBare(['--bare-snapshot', url])).json.seconds)
    rmSync(lastSet, {recursive: true, force: true})
    lastSet = join(tmp, `set-consumer-${round}`)
    withConsumer.backup.push((await runCli(['backup', 'create', '--stream', STREAM, '--dir', lastSet, '--json', '--nats-url', url])).json.durationSeconds)
    checkpoint()
  }

  const archiveMB = archive.length / MB
  const streamMB = published.bytes / MB
  const bareSnapSeconds = median(bare.map((b) => b.seconds))
  const backupSeconds = median(backups.map((b) => b.seconds))
  // Throughput in stream megabytes per second (what an operator plans with), and archive MB/s on the wire.
  // The ratio of each adjacent pair, then the median: steadier than a ratio of medians on a shared machine.
  const backupRatio = median(backups.map((b, i) => bare[i].seconds / b.seconds))
  const restoreRatio = median(restores.map((r, i) => bareRestores[i].seconds / r.seconds))
  const bareRestoreSeconds = median(bareRestores.map((b) => b.seconds))
  const restoreSeconds = median(restores.map((b) => b.seconds))
  const peakBackupRss = Math.max(...backups.map((b) => b.peakRssMB ?? 0))
  const peakRestoreRss = Math.max(...restores.map((b) => b.peakRssMB ?? 0))
  const backupCpu = median(backups.map((b) => b.cpuSeconds ?? 0)) - median(fixedCli)
  const bareCpu = median(bare.map((b) => b.cpuSeconds ?? 0)) - median(fixedBare)
  const backupPass = backupRatio >= targets.backupRatio
  const restorePass = restoreRatio >= targets.restoreRatio
  const rssPass = timeBin ? peakBackupRss <= targets.peakRssMB && peakRestoreRss <= targets.peakRssMB : true
  const result = {
    benchmark: 'backup',
    node: process.version,
    server: nc.info?.version,
    events: EVENTS,
    rounds: ROUNDS,
    stream: {messages: EVENTS, bytes: published.bytes, archiveBytes: archive.length, compression: r3(archive.length / published.bytes)},
    publish: {seconds: r3(published.seconds), eventsPerSecond: Math.round(EVENTS / published.seconds)},
    targets: {backup: `>= ${targets.backupRatio * 100}% of a bare snapshot exchange`, restore: `>= ${targets.restoreRatio}x the bare one-chunk-at-a-time exchange`, peakRss: `<= ${targets.peakRssMB} MB (backup and restore processes)`},
    pass: backupPass && restorePass && rssPass,
    backup: {
      medianSeconds: r3(backupSeconds),
      streamMBps: r1(streamMB / backupSeconds),
      archiveMBps: r1(archiveMB / backupSeconds),
      ratioToBare: r3(backupRatio),
      ratioMethod: 'median over rounds of bare/backup seconds, each pair run back to back',
      pass: backupPass,
      processWallSeconds: backups.map((b) => r3(b.wallSeconds)),
      processCpuSeconds: timeBin ? backups.map((b) => r3(b.cpuSeconds)) : null,
      samplesSeconds: backups.map((b) => r3(b.seconds)),
      peakRssMB: timeBin ? r1(peakBackupRss) : null,
    },
    bareSnapshot: {
      medianSeconds: r3(bareSnapSeconds),
      streamMBps: r1(streamMB / bareSnapSeconds),
      archiveMBps: r1(archiveMB / bareSnapSeconds),
      samplesSeconds: bare.map((b) => r3(b.seconds)),
      processCpuSeconds: timeBin ? bare.map((b) => r3(b.cpuSeconds)) : null,
      peakRssMB: timeBin ? r1(Math.max(...bare.map((b) => b.peakRssMB ?? 0))) : null,
      note: 'request to EOF in a fresh process that acks every chunk and discards the bytes',
    },
    restore: {
      medianSeconds: r3(restoreSeconds),
      streamMBps: r1(streamMB / restoreSeconds),
      archiveMBps: r1(archiveMB / restoreSeconds),
      ratioToBare: r3(restoreRatio),
      pass: restorePass,
      includes: 'sha256 of every file first, the upload, the server unpacking, and the comparison with the manifest',
      processWallSeconds: restores.map((b) => r3(b.wallSeconds)),
      samplesSeconds: restores.map((b) => r3(b.seconds)),
      peakRssMB: timeBin ? r1(peakRestoreRss) : null,
    },
    bareRestoreOneChunk: {medianSeconds: r3(bareRestoreSeconds), archiveMBps: r1(archiveMB / bareRestoreSeconds), samplesSeconds: bareRestores.map((b) => r3(b.seconds))},
    bareRestorePipelined8: {seconds: r3(pipelined[0].seconds), archiveMBps: r1(archiveMB / pipelined[0].seconds), note: 'information only: not used by cimops'},
    bareRestoreAsCimopsSends: {medianSeconds: r3(median(asCimopsSends)), chunkBytes: 1024 * 1024, inFlight: 2, samplesSeconds: asCimopsSends.map(r3)},
    preUploadChecks: {medianSeconds: r3(median(verifies)), what: '`cimops backup verify` (whole process): the sha256 and structure checks restore makes before any server is touched', samplesSeconds: verifies.map(r3)},
    withFilteredConsumer: {
      backupSeconds: withConsumer.backup.map(r3),
      bareSnapshotSeconds: withConsumer.bare.map(r3),
      note: 'information: the same stream with one filtered durable consumer; the backup lists consumers for its manifest, which on 2.9 costs the server a pending-count scan per consumer',
    },
    rss: {pass: rssPass, measuredWith: timeBin ? '/usr/bin/time -v' : 'unavailable'},
    transferCpu: timeBin
      ? {
          backupSeconds: r3(backupCpu),
          bareSeconds: r3(bareCpu),
          ratio: r3(bareCpu / backupCpu),
          note: 'user+sys CPU of each process minus that of the same kind of process doing nothing (startup, imports, connect): what the transfer itself costs, independent of machine load',
        }
      : null,
    machine: {cpus: availableParallelism(), loadAverage: loadavg().map(r1), note: 'a shared machine: the load average says how much else ran'},
    at: new Date().toISOString(),
  }
  mkdirSync(join(root, 'bench/results'), {recursive: true})
  writeFileSync(join(root, 'bench/results/backup.json'), `${JSON.stringify(result, null, 2)}\n`)
  console.log(
    `backup: ${EVENTS.toLocaleString('en-US')} events, ${r1(streamMB)} MB stream -> ${r1(archiveMB)} MB archive | backup ${r3(backupSeconds)}s = ${r1(streamMB / backupSeconds)} MB/s (${r1(archiveMB / backupSeconds)} MB/s on the wire), ${Math.round(backupRatio * 100)}% of bare snapshot ${r3(bareSnapSeconds)}s (target >= ${targets.backupRatio * 100}% ${backupPass ? 'PASS' : 'FAIL'}) | restore ${r3(restoreSeconds)}s vs bare one-chunk ${r3(bareRestoreSeconds)}s: ${r3(restoreRatio)}x (target >= ${targets.restoreRatio}x ${restorePass ? 'PASS' : 'FAIL'}); its parts: checks before upload ${r3(median(verifies))}s, bare upload as cimops sends (1 MiB x2) ${r3(median(asCimopsSends))}s; bare 64 KiB x8 ${r3(pipelined[0].seconds)}s | with a filtered projection consumer: backup ${r3(median(withConsumer.backup))}s vs bare ${r3(median(withConsumer.bare))}s | transfer CPU: backup ${timeBin ? `${r3(backupCpu)}s` : 'n/a'} vs bare ${timeBin ? `${r3(bareCpu)}s` : 'n/a'} | load ${r1(loadavg()[0])} on ${availableParallelism()} CPUs | peak RSS backup ${timeBin ? `${Math.round(peakBackupRss)} MB` : 'n/a'}, restore ${timeBin ? `${Math.round(peakRestoreRss)} MB` : 'n/a'} (target <= ${targets.peakRssMB} MB ${rssPass ? 'PASS' : 'FAIL'})`,
  )
})
