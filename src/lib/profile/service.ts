/**
 * Profiles one process from /proc: resident memory, CPU and open file descriptors every interval for a duration,
 * then a verdict on its memory (verdict.ts). Read-only. A process that exits, and Ctrl-C, end the profile early with
 * what was sampled so far: a partial report, never nothing.
 */
import {networkInterfaces} from 'node:os'

import {type ClientConnection, natsMonitor, type NatsMonitor} from '../adapters/nats/connz.js'
import {
  clockTicksPerSecond,
  findProcessesNamed,
  pidOfConnection,
  type ProcessInfo,
  type ProcSample,
  readProcessInfo,
  readProcSample,
  readUptimeSeconds,
  systemdMainPid,
} from '../adapters/proc/procfs.js'
import type {Status} from '../core/check/status.js'
import {formatDuration} from '../core/duration.js'
import {isCimopsError, NotFoundError, UsageError} from '../core/errors.js'
import {sleep} from '../core/sleep.js'
import {type Growth, judgeMemory, type Verdict, VERDICT_STATUS} from './verdict.js'

export type TargetSelector = {pid: number} | {service: string} | {natsClient: string; monitorUrl: string; timeoutMs: number}

export interface ProfileTarget extends ProcessInfo {
  /** How the process was found: the --pid given, a systemd unit's main PID, its process name, or its NATS connection. */
  foundBy: 'pid' | 'systemd' | 'name' | 'nats-client'
  /** The --service name it was found by. */
  service?: string
  /** The NATS connection it was found by: sampled too. */
  natsClient?: {name: string; cid: number; monitorUrl: string}
}

export interface ProfileSample {
  at: string
  rssBytes: number
  /** Of one core, over the interval before the sample (for the first, since the process started): 200 = two cores busy. */
  cpuPercent: number
  /** Null when /proc does not let this user list them. */
  fds: number | null
  /** With a NATS client: its connection as the server reports it; null when the monitor did not answer. */
  nats?: {pendingBytes: number; closedReason?: string} | null
}

export interface ProfileReport {
  target: ProfileTarget
  status: Status
  verdict: Verdict
  /** The verdict's reason, in one line. */
  summary: string
  growth: Growth | null
  samples: ProfileSample[]
  durationMs: number
  intervalMs: number
  /** True when the profile ended before --duration: the process exited, or Ctrl-C. */
  partial: boolean
  /** Why it ended early. */
  reason?: string
  /** What could not be measured, and why. */
  notes: string[]
}

export interface ProfileOptions {
  durationMs: number
  intervalMs: number
  signal: AbortSignal
  /** Per call to the NATS monitor, with a NATS client. */
  monitorTimeoutMs?: number
  /** Each sample as it is taken (progress). */
  onSample?: (sample: ProfileSample, all: readonly ProfileSample[]) => void
}

/** The process a --pid or --service names: a systemd unit's main PID first, else the one process of that name. */
export async function findTarget(selector: TargetSelector, signal: AbortSignal): Promise<ProfileTarget> {
  if ('pid' in selector) return {...(await readProcessInfo(selector.pid)), foundBy: 'pid'}
  if ('natsClient' in selector) return findNatsClient(selector.natsClient, natsMonitor(selector.monitorUrl, selector.timeoutMs))
  const name = selector.service
  const unitPid = await systemdMainPid(name, signal)
  if (unitPid !== undefined) return {...(await readProcessInfo(unitPid)), foundBy: 'systemd', service: name}
  const found = await findProcessesNamed(name)
  if (found.length === 0) {
    throw new NotFoundError(`no process "${name}"`, 'neither a running systemd unit nor a process of that name', {hint: 'give its PID with --pid', system: 'proc'})
  }
  if (found.length > 1) {
    const list = found.map((p) => `${p.pid} (${p.cmdline || p.name})`).join(', ')
    throw new UsageError(`${found.length} processes are named "${name}"`, list, {hint: 'pick one with --pid'})
  }
  return {...found[0], foundBy: 'name', service: name}
}

/**
 * The local process holding the one open connection of that client name: the server reports the client's address, and
 * the kernel which process holds the socket from that port to the server's client port.
 */
async function findNatsClient(name: string, monitor: NatsMonitor): Promise<ProfileTarget> {
  const connections = await monitor.connectionsNamed(name)
  if (connections.length === 0) throw new NotFoundError(`no NATS client "${name}"`, `no open connection of that name at ${monitor.url}`, {hint: 'the name is the one the client gives when it connects', system: 'nats'})
  if (connections.length > 1) {
    throw new UsageError(`${connections.length} NATS connections are named "${name}"`, connections.map((c) => `cid ${c.cid} from ${c.ip}:${c.port}`).join(', '), {hint: 'profile one by --pid'})
  }
  const [connection] = connections
  if (!isLocal(connection.ip)) {
    throw new NotFoundError(`NATS client "${name}" is not on this host`, `it connects from ${connection.ip}:${connection.port}`, {hint: 'run profile-service on that host', system: 'nats'})
  }
  const pid = await pidOfConnection(connection.port, await monitor.clientPort())
  if (pid === undefined) {
    throw new NotFoundError(`no local process holds NATS client "${name}"`, `no socket from port ${connection.port} to the server seen in /proc`, {hint: "another user's sockets need root; or give its --pid", system: 'proc'})
  }
  return {...(await readProcessInfo(pid)), foundBy: 'nats-client', natsClient: {name, cid: connection.cid, monitorUrl: monitor.url}}
}

function isLocal(ip: string): boolean {
  const address = ip.replace(/^::ffff:/, '')
  if (address.startsWith('127.') || address === '::1') return true
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === address))
}

export async function profileProcess(target: ProfileTarget, options: ProfileOptions): Promise<ProfileReport> {
  const {durationMs, intervalMs, signal} = options
  const ticksPerSecond = await clockTicksPerSecond(signal)
  const samples: ProfileSample[] = []
  const points: Array<{seconds: number; rssBytes: number}> = []
  const notes: string[] = []
  const startedAt = performance.now()
  let previous: {reading: ProcSample; ms: number} | undefined
  let reason: string | undefined
  const monitor = target.natsClient && natsMonitor(target.natsClient.monitorUrl, options.monitorTimeoutMs ?? 5000)
  // Said once each, however many samples it concerns.
  const noteOnce = (note: string) => notes.includes(note) || notes.push(note)
  const readConnection = async (server: NatsMonitor, cid: number): Promise<ClientConnection | null> => {
    try {
      const found = await server.connection(cid)
      if (!found) noteOnce(`NATS connection ${cid} is no longer known to the server at ${server.url}`)
      else if (found.closedReason) noteOnce(`NATS connection ${cid} closed: ${found.closedReason}`)
      return found ?? null
    } catch (error) {
      if (!isCimopsError(error)) throw error
      noteOnce(`NATS monitor: ${error.line}`)
      return null
    }
  }

  for (let k = 0; ; k++) {
    const dueMs = k * intervalMs
    if (dueMs > durationMs) break
    // On a schedule from the start, so a slow read does not stretch the window.
    await sleep(Math.max(0, startedAt + dueMs - performance.now()), signal)
    if (signal.aborted) {
      reason = `interrupted after ${formatDuration(performance.now() - startedAt)}`
      break
    }
    let reading: ProcSample
    let uptime: number | undefined
    let connection: ClientConnection | undefined | null
    try {
      ;[reading, uptime, connection] = await Promise.all([readProcSample(target.pid), previous ? undefined : readUptimeSeconds(), monitor && readConnection(monitor, target.natsClient!.cid)])
    } catch (error) {
      if (!(error instanceof NotFoundError) || k === 0) throw error
      reason = `process ${target.pid} exited after ${formatDuration(performance.now() - startedAt)}`
      break
    }
    // The PID now belongs to another process: the one profiled has exited.
    if (previous && reading.startTicks !== previous.reading.startTicks) {
      reason = `process ${target.pid} exited after ${formatDuration(performance.now() - startedAt)} (its PID was reused)`
      break
    }
    const ms = performance.now()
    const cpuSeconds = (reading.cpuTicks - (previous?.reading.cpuTicks ?? 0)) / ticksPerSecond
    const wallSeconds = previous ? (ms - previous.ms) / 1000 : uptime! - reading.startTicks / ticksPerSecond
    if (reading.fds === undefined) noteOnce(`open file descriptors not counted: /proc/${target.pid}/fd is not readable by this user (run as the process's user or root)`)
    const sample: ProfileSample = {at: new Date().toISOString(), rssBytes: reading.rssBytes, cpuPercent: wallSeconds > 0 ? Math.round((cpuSeconds / wallSeconds) * 1000) / 10 : 0, fds: reading.fds ?? null}
    if (monitor) sample.nats = connection ? {pendingBytes: connection.pendingBytes, ...(connection.closedReason ? {closedReason: connection.closedReason} : {})} : null
    samples.push(sample)
    points.push({seconds: (ms - startedAt) / 1000, rssBytes: reading.rssBytes})
    previous = {reading, ms}
    options.onSample?.(sample, samples)
  }

  const judged = judgeMemory(points)
  return {
    target,
    status: VERDICT_STATUS[judged.verdict],
    verdict: judged.verdict,
    summary: judged.why,
    growth: judged.growth ?? null,
    samples,
    durationMs,
    intervalMs,
    partial: reason !== undefined,
    ...(reason === undefined ? {} : {reason}),
    notes,
  }
}
