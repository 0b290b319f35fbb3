/**
 * This host's GPUs and their verdict, from every source at once under one timeout: the nvidia-smi query CSV
 * (required), `nvidia-smi -q -x` (details the CSV lacks; optional) and the kernel log (Xid events; optional); or
 * powermetrics on Apple Silicon. Used by `gpu status` and by the health-check's gpu check, so both say the same.
 */
import {uptime} from 'node:os'

import type {KernelLogScan, KernelLogSource} from '../adapters/gpu/kernel-log.js'
import type {NvidiaGpu} from '../adapters/gpu/nvidia-smi.js'
import type {GpuProcess, NvidiaSmiXml, XmlGpu} from '../adapters/gpu/nvidia-smi-xml.js'
import {CimopsError} from '../core/errors.js'
import {plural} from '../core/output/units.js'
import {formatDuration} from '../core/duration.js'
import {failedCheck} from '../core/check/deadline.js'
import {type CheckOutcome, summarize} from '../core/check/result.js'
import type {Status} from '../core/check/status.js'
import type {GpuHealth, GpuSnapshot, GpuStatusReport, KernelLogStatus, XidSummary} from './model.js'
import {allocationFailuresFor, analyseXids, assessGpu, hostFindings, hostOutcome, nvidiaOutcome, powermetricsOutcome, toolFailureOutcome} from './rules.js'
import type {GpuThresholds} from './thresholds.js'

type Env = Record<string, string | undefined>

export interface CollectOptions {
  node: string
  thresholds: GpuThresholds
  /** Budget for the whole collection; the optional sources get a little less, so the required one decides. */
  timeoutMs: number
  signal?: AbortSignal
  env?: Env
  /** Read Xid lines from this file instead of journalctl/dmesg. */
  kernelLogFile?: string
  /** List the processes of each GPU (from -q -x, else --query-compute-apps). */
  processes?: boolean
  now?: () => Date
}

const GPU_CHECK = {name: 'gpu', component: 'gpu'}

export async function collectGpuStatus(options: CollectOptions): Promise<GpuStatusReport> {
  const started = performance.now()
  const now = (options.now ?? (() => new Date()))()
  const env = options.env ?? process.env
  const {detectGpuTool, nvidiaSmiBinary} = await import('../adapters/gpu/detect.js')
  const tool = detectGpuTool(env)
  const base = {node: options.node, checkedAt: now.toISOString(), expectedGpus: options.thresholds.expectedGpus, notes: [] as string[], snapshots: [] as GpuSnapshot[]}
  const finish = (report: Omit<GpuStatusReport, 'status' | 'summary' | 'durationSeconds'>): GpuStatusReport => {
    const summary = summarize(report.checks, seconds(started))
    // Verdict first: what a reader of the JSON looks for.
    return {status: summary.status, summary: gpuSummary(report, summary.status), ...report, durationSeconds: summary.durationSeconds}
  }

  if (!tool) {
    const findings = hostFindings({found: 0, expected: options.thresholds.expectedGpus})
    const check: CheckOutcome =
      findings.length > 0
        ? {...hostOutcome(findings, options.thresholds.expectedGpus, 0), summary: `${findings[0].text}: no GPU tool (nvidia-smi, powermetrics) on this host`}
        : {...GPU_CHECK, status: 'OK', summary: 'no GPU on this host', metrics: []}
    return finish({...base, tool: 'none', checks: [check], gpus: [], hostFindings: findings})
  }

  if (tool === 'powermetrics') {
    const {samplePowermetrics} = await import('../adapters/gpu/powermetrics.js')
    let check: CheckOutcome
    try {
      check = powermetricsOutcome(await samplePowermetrics({timeoutMs: options.timeoutMs, signal: options.signal}))
    } catch (error) {
      check = toolFailure(error)
    }
    return finish({...base, tool: 'powermetrics', checks: [check], gpus: [], hostFindings: []})
  }

  const binary = nvidiaSmiBinary(env)
  const [{queryGpus}, {queryGpuDetails}, {readKernelLog, parseKernelLog}] = await Promise.all([
    import('../adapters/gpu/nvidia-smi.js'),
    import('../adapters/gpu/nvidia-smi-xml.js'),
    import('../adapters/gpu/kernel-log.js'),
  ])
  const optionalBudget = Math.max(100, Math.floor(options.timeoutMs * 0.8))
  const [csv, xml, log] = await Promise.all([
    settle(queryGpus({timeoutMs: options.timeoutMs, signal: options.signal, binary})),
    settle(queryGpuDetails({timeoutMs: optionalBudget, signal: options.signal, binary})),
    settle(readKernelLog({timeoutMs: optionalBudget, signal: options.signal, file: options.kernelLogFile, env})),
  ])
  if (options.signal?.aborted) throw options.signal.reason ?? new Error('interrupted')
  const notes: string[] = []

  const source: KernelLogSource = log.ok ? log.value : {readable: false, source: 'journalctl -k, dmesg', reason: errorText(log.error)}
  // Relative dmesg times need the boot time; only meaningful for this host's own log.
  const bootTime = source.readable && !options.kernelLogFile && !env.CIMOPS_KERNEL_LOG ? new Date(now.getTime() - uptime() * 1000) : undefined
  const scan: KernelLogScan | undefined = source.readable ? parseKernelLog(source.text, {bootTime, now}) : undefined
  const analysis = analyseXids(scan?.xids ?? [], {policy: options.thresholds.xid, windowSeconds: options.thresholds.xidWindow, now})
  const kernelLog: KernelLogStatus = {
    source: source.source,
    readable: source.readable,
    ...(source.readable ? {} : {reason: source.reason}),
    xidEvents: analysis.counted,
    olderXidEvents: analysis.older,
    allocationFailures: scan?.allocationFailures.length ?? 0,
  }
  if (!source.readable && source.source !== 'none') notes.push(`kernel log not readable (${source.reason}): Xid errors not checked`)
  if (analysis.older > 0) notes.push(`${plural(analysis.older, 'Xid event')} older than ${formatDuration(options.thresholds.xidWindow * 1000)} not counted (context gpu.xidWindow)`)

  if (!csv.ok) {
    // No GPU list: every Xid is the host's, and an Xid 79 explains a GPU that fell off the bus.
    const orphans = [...analysis.byBus.values()].flat()
    const findings = hostFindings({found: 0, orphanXids: orphans})
    const checks = [toolFailure(csv.error), ...(findings.length > 0 ? [hostOutcome(findings, undefined, 0)] : [])]
    return finish({...base, tool: 'nvidia-smi', checks, gpus: [], hostFindings: findings, kernelLog, notes: [...notes]})
  }

  const details: NvidiaSmiXml | undefined = xml.ok ? xml.value : undefined
  if (!xml.ok) notes.push(`nvidia-smi -q -x failed (${errorText(xml.error)}): what only it reports (reset status, slowdown temperatures, retired-page list, graphics processes) was not checked`)
  const {pciKey} = await import('../adapters/gpu/kernel-log.js')
  const snapshots = csv.value.map((gpu) => merge(gpu, details?.gpus.find((x) => sameGpu(gpu, x, pciKey))))

  if (options.processes && !details) {
    const {queryComputeApps} = await import('../adapters/gpu/nvidia-smi-apps.js')
    const apps = await settle(queryComputeApps({timeoutMs: optionalBudget, signal: options.signal, binary}))
    if (apps.ok) {
      for (const gpu of snapshots) gpu.processes = apps.value.filter((p) => (p.gpuUuid !== undefined && p.gpuUuid === gpu.uuid) || (p.busId !== undefined && p.busId === gpu.busId))
    } else {
      notes.push(`nvidia-smi --query-compute-apps failed: ${errorText(apps.error)}`)
    }
  }

  // Xids by bus id; a bus the log names with a uuid a GPU has counts for that GPU too.
  const keyOf = (gpu: GpuSnapshot) => (gpu.busId ? pciKey(gpu.busId) : undefined)
  const claimed = new Set<string>()
  const xidsOf = (gpu: GpuSnapshot): XidSummary[] => {
    const keys = [...analysis.byBus.keys()].filter((key) => key === keyOf(gpu) || (gpu.uuid !== undefined && scan?.gpuUuids[key] === gpu.uuid && !isMaskedUuid(gpu.uuid)))
    for (const key of keys) claimed.add(key)
    return keys.flatMap((key) => analysis.byBus.get(key) ?? [])
  }
  const windowSeconds = options.thresholds.xidWindow
  const evidence = snapshots.map((gpu) => ({xids: xidsOf(gpu), allocationFailures: allocationFailuresFor(scan, keyOf(gpu), windowSeconds, now)}))
  const gpus: GpuHealth[] = snapshots.map((gpu, i) => assessGpu(gpu, options.thresholds, evidence[i]))
  const orphans = [...analysis.byBus.entries()].filter(([key]) => !claimed.has(key)).flatMap(([, list]) => list)
  const findings = hostFindings({found: snapshots.length, expected: options.thresholds.expectedGpus, orphanXids: orphans})
  const checks: CheckOutcome[] = snapshots.map((gpu, i) => nvidiaOutcome(gpu, options.thresholds, evidence[i]))
  if (snapshots.length === 0) checks.push(toolFailureOutcome('no-devices', 'nvidia-smi listed no GPU'))
  if (findings.length > 0) checks.push(hostOutcome(findings, options.thresholds.expectedGpus, snapshots.length))
  else if (!source.readable && source.source !== 'none') {
    checks.push({...GPU_CHECK, status: 'OK', summary: `kernel log not readable: Xid errors not checked (${source.reason})`, metrics: []})
  }
  return finish({
    ...base,
    tool: 'nvidia-smi',
    driverVersion: snapshots.find((g) => g.driverVersion)?.driverVersion ?? details?.driverVersion,
    checks,
    gpus,
    snapshots,
    hostFindings: findings,
    kernelLog,
    notes,
  })
}

/**
 * One line for people and Nagios: `4 GPUs OK`, or `2 of 4 GPUs CRITICAL: GPU 1: <findings>; GPU 3: <findings>`,
 * plus host findings; without GPU rows, what the tool said. Readings stay in the table.
 */
export function gpuSummary(report: Pick<GpuStatusReport, 'tool' | 'gpus' | 'hostFindings' | 'checks'>, status: Status): string {
  const bad = report.gpus.filter((g) => g.status !== 'OK')
  if (report.gpus.length === 0) return report.checks.map((c) => c.summary).join('; ')
  if (status === 'OK') return `${plural(report.gpus.length, 'GPU')} OK`
  const parts: string[] = []
  if (bad.length > 0) {
    const same = bad.every((g) => g.status === bad[0].status) ? bad[0].status : 'not OK'
    const label = bad.length === report.gpus.length ? `${plural(bad.length, 'GPU')} ${same}` : `${bad.length} of ${plural(report.gpus.length, 'GPU')} ${same}`
    parts.push(`${label}: ${bad.map((g) => `GPU ${g.index}: ${g.findings.map((f) => f.text).join('; ')}`).join(' — ')}`)
  }
  parts.push(...report.hostFindings.map((f) => f.text))
  return parts.join(' — ')
}

/** The CSV wins where it has a value; `-q -x` fills what it lacks and adds what only it knows. */
export function merge(gpu: NvidiaGpu, xml: XmlGpu | undefined): GpuSnapshot {
  if (!xml) return {...gpu}
  const snapshot: GpuSnapshot = {...gpu}
  const fill = <K extends keyof GpuSnapshot>(key: K, value: GpuSnapshot[K] | undefined) => {
    if (snapshot[key] === undefined && value !== undefined) snapshot[key] = value
  }
  fill('uuid', xml.uuid)
  fill('name', xml.name)
  fill('temperatureC', xml.temperatureC)
  fill('tlimitMarginC', xml.tlimitMarginC)
  fill('utilizationPercent', xml.utilizationPercent)
  fill('memoryTotalBytes', xml.memoryTotalBytes)
  fill('memoryUsedBytes', xml.memoryUsedBytes)
  fill('powerDrawW', xml.powerDrawW)
  fill('powerLimitW', xml.powerLimitW)
  fill('throttleReasons', xml.throttleReasons)
  fill('eccUncorrectedVolatile', xml.ecc?.volatileUncorrected)
  fill('eccCorrectedVolatile', xml.ecc?.volatileCorrected)
  fill('retiredPagesPending', xml.retiredPages?.pending)
  fill('remappedRowsPending', xml.remappedRows?.pending)
  fill('remappedRowsFailure', xml.remappedRows?.failure)
  fill('recoveryAction', xml.recoveryAction)
  fill('resetRequired', xml.resetRequired)
  fill('drainAndResetRecommended', xml.drainAndResetRecommended)
  fill('slowdownTempC', xml.slowdownTempC)
  fill('slowdownTlimitC', xml.slowdownTlimitC)
  fill('memoryTempC', xml.memoryTempC)
  fill('memoryMaxTempC', xml.memoryMaxTempC)
  fill('eccUncorrectedAggregate', xml.ecc?.aggregateUncorrected)
  fill('eccCorrectedAggregate', xml.ecc?.aggregateCorrected)
  fill('remappedRowsCorrectable', xml.remappedRows?.correctable)
  fill('remappedRowsUncorrectable', xml.remappedRows?.uncorrectable)
  if (xml.retiredPages?.singleBit || xml.retiredPages?.doubleBit) {
    snapshot.retiredPages = {...(xml.retiredPages.singleBit ? {singleBit: xml.retiredPages.singleBit} : {}), ...(xml.retiredPages.doubleBit ? {doubleBit: xml.retiredPages.doubleBit} : {})}
  }
  snapshot.processes = xml.processes.map((p: GpuProcess) => ({...p, ...(gpu.uuid ? {gpuUuid: gpu.uuid} : {})}))
  // A field -q -x could not read (the CSV could) is a failure of the GPU all the same.
  if (xml.failure && !snapshot.failure) snapshot.failure = xml.failure
  return snapshot
}

/** By bus id (unique on a host); by uuid only when the uuid is real (captures mask them all to zeros). */
function sameGpu(gpu: NvidiaGpu, xml: XmlGpu, pciKey: (busId: string) => string | undefined): boolean {
  if (gpu.busId && xml.busId) return pciKey(gpu.busId) === pciKey(xml.busId)
  return gpu.uuid !== undefined && gpu.uuid === xml.uuid && !isMaskedUuid(gpu.uuid)
}

function isMaskedUuid(uuid: string): boolean {
  return /^GPU-[0-]+$/.test(uuid)
}

/** A GPU tool error as a check result, the way the health runner maps errors (timeouts CRITICAL, the rest by kind). */
function toolFailure(error: unknown): CheckOutcome {
  const gpuError = error as {code?: string; kind?: Parameters<typeof toolFailureOutcome>[0]; line?: string; system?: string; exitCode?: number}
  if (error instanceof CimopsError && gpuError.code === 'GPU_TOOL' && gpuError.kind) {
    return toolFailureOutcome(gpuError.kind, error.line, {system: error.system, kind: gpuError.kind, exitCode: gpuError.exitCode})
  }
  if (error instanceof CimopsError && error.code === 'INTERRUPTED') throw error
  return failedCheck(GPU_CHECK, error)
}

type Settled<T> = {ok: true; value: T} | {ok: false; error: unknown}

async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return {ok: true, value: await promise}
  } catch (error) {
    return {ok: false, error}
  }
}

function errorText(error: unknown): string {
  if (error instanceof CimopsError) return error.why
  return error instanceof Error ? error.message : String(error)
}

function seconds(started: number): number {
  return Math.round(performance.now() - started) / 1000
}
