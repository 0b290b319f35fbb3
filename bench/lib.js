// Shared by the benchmarks: an isolated environment for the CLI, child processes measured with
// /usr/bin/time -v (wall, CPU, peak RSS), CIM-shaped events, and stopping cleanly on Ctrl-C.
import {spawn, spawnSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
export const r1 = (value) => Math.round(value * 10) / 10
export const r3 = (value) => Math.round(value * 1000) / 1000

/** The caller's environment without its cimops/NATS settings, with config and data under `tmp`. */
export function isolatedEnv(tmp) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(CIMOPS_|NATS_)/.test(key)))
  return Object.assign(env, {NO_COLOR: '1', XDG_CONFIG_HOME: join(tmp, 'config'), XDG_DATA_HOME: join(tmp, 'data')})
}

/** checkpoint() throws once SIGINT or SIGTERM arrived, so a bench stops between steps and cleans up. */
export class Interrupted extends Error {}
export function interruptible() {
  let interrupted
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => (interrupted = signal))
  return () => {
    if (interrupted) throw new Interrupted(interrupted)
  }
}

/**
 * One bench's temp dir (its env isolated there) and a nats-only sandbox in it: run(work) starts the
 * sandbox, connects, calls work({state, url, nc}), and always stops and removes everything. Ctrl-C
 * (an Interrupted from checkpoint()) ends with exit code 130.
 */
export function natsBench(name) {
  const tmp = mkdtempSync(join(tmpdir(), `cimops-bench-${name}-`))
  const stateDir = join(tmp, 'sandbox')
  return {
    tmp,
    env: isolatedEnv(tmp),
    async run(work) {
      // Loaded here, not at the top: the benches' child modes import this file too.
      const [{sandboxDown, sandboxUp}, {connect}] = await Promise.all([import('../dist/lib/sandbox/index.js'), import('@nats-io/transport-node')])
      let sandboxStarted = false
      let nc
      try {
        sandboxStarted = true
        const {state} = await sandboxUp({stateDir, components: ['nats']})
        nc = await connect({servers: state.natsServers, name: `cimops-bench-${name}`})
        await work({state, url: state.natsServers.join(','), nc})
      } catch (error) {
        if (!(error instanceof Interrupted)) throw error
        console.error(`${name} bench: interrupted by ${error.message}; stopping the sandbox`)
        process.exitCode = 130
      } finally {
        await nc?.close().catch(() => undefined)
        if (sandboxStarted) await sandboxDown(stateDir).catch((error) => console.error(`${name} bench: sandbox down failed: ${error.message}`))
        rmSync(tmp, {recursive: true, force: true})
      }
    },
  }
}

/** CIM-shaped domain events, ~200 bytes of body each. */
export function cimEvent(i, total, now) {
  const domains = ['workflow', 'document', 'identity', 'agent', 'graph']
  const domain = domains[i % domains.length]
  const aggregateId = `${domain.slice(0, 2)}-${i % 20_000}`
  const subject = `cim.${domain}.${domain}.${aggregateId}.${i % 3 === 0 ? 'created' : 'updated'}`
  const body = `{"id":"${randomUUID()}","type":"${domain}.${i % 3 === 0 ? 'Created' : 'Updated'}","domain":"${domain}","aggregateId":"${aggregateId}","occurredAt":"${new Date(now - (total - i)).toISOString()}","data":{"seq":${i},"by":"agent-${i % 97}"}}`
  return {subject, body}
}

/**
 * Stores `count` CIM events in a new file-backed stream `name` (subjects cim.>), each publish acknowledged
 * (a reply subject each on one inbox, `STORE_WINDOW` outstanding): core publishes without acks are dropped
 * once they outrun the stream (nats-server 2.11+ backpressure). checkpoint() runs every 20,000; checks the
 * stream holds them all.
 */
const STORE_WINDOW = 2048
export async function storeCimEvents(nc, jsm, name, count, checkpoint) {
  const {createInbox} = await import('@nats-io/transport-node')
  await jsm.streams.add({name, subjects: ['cim.>'], storage: 'file', max_bytes: 1_500_000_000})
  const encoder = new TextEncoder()
  const now = Date.now()
  const inbox = createInbox()
  const started = performance.now()
  let sent = 0
  let acked = 0
  await new Promise((resolve, reject) => {
    const send = () => {
      while (sent < count && sent - acked < STORE_WINDOW) {
        const {subject, body} = cimEvent(sent, count, now)
        nc.publish(subject, encoder.encode(body), {reply: `${inbox}.${sent++}`})
      }
    }
    nc.subscribe(`${inbox}.*`, {
      callback: (_error, msg) => {
        const ack = msg.data.length > 0 ? msg.json() : {error: {description: `status ${msg.headers?.code}`}}
        if (ack.error) return reject(new Error(`storing the source events failed: ${ack.error.description}`))
        if (++acked === count) return resolve()
        if (acked % 20_000 === 0) {
          try {
            checkpoint()
          } catch (error) {
            return reject(error)
          }
        }
        if (sent - acked <= STORE_WINDOW / 2) send()
      },
    })
    send()
  })
  const info = await jsm.streams.info(name)
  if (info.state.messages !== count) throw new Error(`published ${count} events, the stream holds ${info.state.messages}`)
  return {seconds: (performance.now() - started) / 1000, bytes: info.state.bytes}
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function processCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

/**
 * Runs node with `argv` (under /usr/bin/time -v when present) and parses its stdout as JSON.
 * Resolves {json, wallSeconds, cpuSeconds, peakRssMB}; rejects on a non-zero exit unless allowFail.
 */
export function runNode(argv, {env, what, allowFail = false}) {
  return new Promise((resolve, reject) => {
    const command = timeBin ? [timeBin, '-v', process.execPath, ...argv] : [process.execPath, ...argv]
    const started = performance.now()
    const child = spawn(command[0], command.slice(1), {env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      const wallSeconds = (performance.now() - started) / 1000
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
      const user = /User time \(seconds\): ([\d.]+)/.exec(stderr)
      const sys = /System time \(seconds\): ([\d.]+)/.exec(stderr)
      const cpuSeconds = user && sys ? Number(user[1]) + Number(sys[1]) : undefined
      let json
      try {
        json = JSON.parse(stdout)
      } catch {
        return reject(new Error(`${what}: exit ${code}, no JSON: ${stdout.slice(0, 300)} ${stderr.slice(-600)}`))
      }
      if (code !== 0 && !allowFail) return reject(new Error(`${what}: exit ${code}: ${JSON.stringify(json.error ?? json)}`))
      resolve({json, wallSeconds, cpuSeconds, peakRssMB: rss ? Number(rss[1]) / 1024 : undefined})
    })
  })
}

/**
 * Runs the CLI once, as cron or an operator runs it (the whole process), and parses its JSON report.
 * Returns {wallMs, exitCode, report}; only output that is not JSON fails the benchmark.
 */
export function runCliJson(cli, args, {env, what}) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, [cli, ...args], {env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000})
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6
  let report
  try {
    report = JSON.parse(result.stdout.toString())
  } catch {
    throw new Error(`${what}: output is not valid JSON (exit ${result.status ?? result.signal}): ${result.stdout}${result.stderr}`)
  }
  return {wallMs, exitCode: result.status, report}
}
