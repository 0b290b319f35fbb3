/**
 * Profiles one process from /proc: resident memory, CPU and open file descriptors every interval for a duration,
 * then a verdict on its memory (verdict.ts). Read-only. A process that exits, and Ctrl-C, end the profile early with
 * what was sampled so far: a partial report, never nothing.
 */
import {
  clockTicksPerSecond,
  findProcessesNamed,
  type ProcessInfo,
  type ProcSample,
  readProcessInfo,
  readProcSample,
  readUptimeSeconds,
  systemdMainPid,
} from '../adapters/proc/procfs.js'
import type {Status} from '../core/check/status.js'
import {formatDuration} from '../core/duration.js'
import {NotFoundError, UsageError} from '../core/errors.js'
import {sleep} from '../core/sleep.js'
import {type Growth, judgeMemory, type Verdict, VERDICT_STATUS} from './verdict.js'

export type TargetSelector = {pid: number} | {service: string}

export interface ProfileTarget extends ProcessInfo {
  /** How the process was found: the --pid given, a systemd unit's main PID, or its process name. */
  foundBy: 'pid' | 'systemd' | 'name'
  /** The --service name it was found by. */
  service?: string
}

export interface ProfileSample {
  at: string
  rssBytes: number
  /** Of one core, over the interval before the sample (for the first, since the process started): 200 = two cores busy. */
  cpuPercent: number
  /** Null when /proc does not let this user list them. */
  fds: number | null
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
  /** Each sample as it is taken (progress). */
  onSample?: (sample: ProfileSample, all: readonly ProfileSample[]) => void
}

/** The process a --pid or --service names: a systemd unit's main PID first, else the one process of that name. */
export async function findTarget(selector: TargetSelector, signal: AbortSignal): Promise<ProfileTarget> {
  if ('pid' in selector) return {...(await readProcessInfo(selector.pid)), foundBy: 'pid'}
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

export async function profileProcess(target: ProfileTarget, options: ProfileOptions): Promise<ProfileReport> {
  const {durationMs, intervalMs, signal} = options
  const ticksPerSecond = await clockTicksPerSecond(signal)
  const samples: ProfileSample[] = []
  const points: Array<{seconds: number; rssBytes: number}> = []
  const notes: string[] = []
  const startedAt = performance.now()
  let previous: {reading: ProcSample; ms: number} | undefined
  let reason: string | undefined

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
    try {
      ;[reading, uptime] = await Promise.all([readProcSample(target.pid), previous ? undefined : readUptimeSeconds()])
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
    if (reading.fds === undefined && samples.length === 0) notes.push(`open file descriptors not counted: /proc/${target.pid}/fd is not readable by this user (run as the process's user or root)`)
    const sample = {at: new Date().toISOString(), rssBytes: reading.rssBytes, cpuPercent: wallSeconds > 0 ? Math.round((cpuSeconds / wallSeconds) * 1000) / 10 : 0, fds: reading.fds ?? null}
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
