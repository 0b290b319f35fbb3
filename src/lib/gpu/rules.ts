/**
 * GPU health rules (issue: "Health rules"): each GPU is OK, WARNING or CRITICAL with its reasons, and the host gets
 * findings of its own (GPUs missing against the expected count, Xids on a bus no GPU answers for). CRITICAL means
 * drain-worthy: `emergency gpu-evacuate` acts on it. Pure functions; thresholds come from the context.
 */
import type {GpuToolFailure} from '../adapters/gpu/errors.js'
import {describeXid, type KernelLogScan, type XidEvent, xidSeverity, type XidPolicy} from '../adapters/gpu/kernel-log.js'
import type {ThrottleReason} from '../adapters/gpu/nvidia-smi.js'
import type {PowermetricsSample} from '../adapters/gpu/powermetrics.js'
import {type Status, statusAbove, statusBelow, worstStatus} from '../core/check/status.js'
import {plural, round} from '../core/output/units.js'
import type {CheckOutcome, Metric} from '../core/check/result.js'
import type {Finding, GpuHealth, GpuSnapshot, XidSummary} from './model.js'
import {DEFAULT_GPU_THRESHOLDS, type GpuThresholds} from './thresholds.js'

const NAME = 'gpu'
const COMPONENT = 'gpu'

/** Clock reductions that mean heat or hardware trouble, not a normal idle or power cap. */
const SLOWDOWN_REASONS: ReadonlySet<ThrottleReason> = new Set(['hw_slowdown', 'sw_thermal_slowdown', 'hw_thermal_slowdown', 'hw_power_brake_slowdown'])

/** Failures that say nothing about the GPU's health, only that cimops could not look. */
const CANNOT_LOOK: ReadonlySet<GpuToolFailure> = new Set(['permission', 'invalid-field', 'unknown'])

/** What the rules know beyond the GPU's own readings. */
export interface GpuEvidence {
  /** This GPU's Xid events, summarised. */
  xids?: XidSummary[]
  /** Allocation failures the kernel log reports for this GPU or for no GPU in particular. */
  allocationFailures?: number
}

/** Every finding about one GPU, OK ones included (the temperature always has one). */
export function gpuFindings(gpu: GpuSnapshot, thresholds: GpuThresholds = DEFAULT_GPU_THRESHOLDS, evidence: GpuEvidence = {}): Finding[] {
  const findings: Finding[] = [temperatureFinding(gpu, thresholds)]
  const add = (status: Status, code: string, text: string) => findings.push({status, code, text})
  if (gpu.failure) add('CRITICAL', 'unreadable', `cannot be read: ${gpu.failure.reason} (${fieldList(gpu.failure.fields)})`)
  if (gpu.eccUncorrectedVolatile !== undefined && gpu.eccUncorrectedVolatile > 0) {
    add('CRITICAL', 'ecc-uncorrected', `${plural(gpu.eccUncorrectedVolatile, 'uncorrected ECC error')} since driver load, drain the node`)
  }
  if (gpu.remappedRowsFailure) add('CRITICAL', 'remap-failure', 'a memory row remapping failed, the GPU needs replacing')
  if (gpu.remappedRowsPending) add('CRITICAL', 'remap-pending', 'memory row remapping pending, drain and reset the GPU')
  if (gpu.retiredPagesPending) add('CRITICAL', 'pages-pending', 'memory pages pending retirement, drain and reboot')
  const slowdowns = (gpu.throttleReasons ?? []).filter((reason) => SLOWDOWN_REASONS.has(reason))
  if (slowdowns.length > 0) add('WARNING', 'clocks-slowed', `clocks slowed: ${slowdowns.join(', ')}`)
  if (gpu.recoveryAction !== undefined && !/^none$/i.test(gpu.recoveryAction)) {
    add('CRITICAL', 'recovery-action', `the driver recommends recovery action "${gpu.recoveryAction}"`)
  }
  if (gpu.drainAndResetRecommended) add('CRITICAL', 'drain-and-reset', 'the driver recommends drain and reset')
  else if (gpu.resetRequired) add('CRITICAL', 'reset-required', 'the GPU needs a reset')
  for (const xid of evidence.xids ?? []) {
    if (xid.severity === 'drain') add('CRITICAL', `xid-${xid.xid}`, `${xidText(xid)}, drain the node`)
    else if (xid.severity === 'warn') add('WARNING', `xid-${xid.xid}`, `${xidText(xid)}, an application error`)
  }
  const memory = memoryFinding(gpu, thresholds, evidence.allocationFailures ?? 0)
  if (memory) findings.push(memory)
  if (gpu.memoryTempC !== undefined && gpu.memoryMaxTempC !== undefined && gpu.memoryTempC >= gpu.memoryMaxTempC - thresholds.slowdownMargin) {
    add('WARNING', 'memory-hot', `memory at ${gpu.memoryTempC}°C, near its ${gpu.memoryMaxTempC}°C maximum`)
  }
  return findings
}

/**
 * T.Limit headroom when the driver reports it (it knows the part's limit); else the slowdown temperature the
 * driver reports (pre-v13 XML); else the context's static thresholds.
 */
function temperatureFinding(gpu: GpuSnapshot, t: GpuThresholds): Finding {
  if (gpu.tlimitMarginC !== undefined) {
    const status = statusBelow(gpu.tlimitMarginC, t.tlimitWarn, t.tlimitCrit)
    const limit = status === 'CRITICAL' ? t.tlimitCrit : t.tlimitWarn
    return {status, code: 'temperature', text: `T.Limit headroom ${gpu.tlimitMarginC}°C (≤ ${limit}°C)`}
  }
  if (gpu.temperatureC === undefined) return {status: 'OK', code: 'temperature', text: ''}
  const {warn, crit, suffix} = temperatureLimits(gpu, t)
  const status = statusAbove(gpu.temperatureC, warn, crit)
  return {status, code: 'temperature', text: `hot: ${gpu.temperatureC}°C (≥ ${status === 'CRITICAL' ? crit : warn}°C${suffix})`}
}

function temperatureLimits(gpu: GpuSnapshot, t: GpuThresholds): {warn: number; crit: number; suffix: string} {
  if (gpu.slowdownTempC !== undefined) {
    return {warn: gpu.slowdownTempC - t.slowdownMargin, crit: gpu.slowdownTempC, suffix: `, slowdown at ${gpu.slowdownTempC}°C`}
  }
  return {warn: t.tempWarn, crit: t.tempCrit, suffix: ''}
}

/** Nearly full memory is normal for GPU work (frameworks reserve it); with allocation failures reported it is a problem. */
function memoryFinding(gpu: GpuSnapshot, t: GpuThresholds, allocationFailures: number): Finding | undefined {
  if (allocationFailures === 0 || gpu.memoryUsedBytes === undefined || !gpu.memoryTotalBytes) return undefined
  const percent = (gpu.memoryUsedBytes / gpu.memoryTotalBytes) * 100
  if (percent < t.memFullPercent) return undefined
  return {
    status: 'WARNING',
    code: 'memory-full',
    text: `memory nearly full (${Math.round(percent)}% used) and ${plural(allocationFailures, 'allocation failure')} in the kernel log`,
  }
}

/** `a, b, c and 7 more`: the details keep the full list. */
function fieldList(fields: string[]): string {
  return fields.length <= 3 ? fields.join(', ') : `${fields.slice(0, 3).join(', ')} and ${fields.length - 3} more`
}

function xidText(xid: XidSummary): string {
  const times = xid.count > 1 ? ` ×${xid.count}` : ''
  return `Xid ${xid.xid} (${xid.description})${times}`
}

export function assessGpu(gpu: GpuSnapshot, thresholds: GpuThresholds = DEFAULT_GPU_THRESHOLDS, evidence: GpuEvidence = {}): GpuHealth {
  const findings = gpuFindings(gpu, thresholds, evidence)
  return withoutUndefined({
    index: gpu.index,
    uuid: gpu.uuid,
    name: gpu.name,
    busId: gpu.busId,
    status: worstStatus(findings.map((f) => f.status)),
    findings: findings.filter((f) => f.status !== 'OK'),
    readings: readings(gpu),
    xids: evidence.xids ?? [],
  })
}

/** Host-level findings: fewer (or more) GPUs than expected, Xids on a bus id no GPU has. */
export function hostFindings({found, expected, orphanXids = []}: {found: number; expected?: number; orphanXids?: XidSummary[]}): Finding[] {
  const findings: Finding[] = []
  if (expected !== undefined && found < expected) {
    findings.push({status: 'CRITICAL', code: 'gpu-missing', text: `expected ${plural(expected, 'GPU')}, found ${found}: ${plural(expected - found, 'GPU')} missing`})
  } else if (expected !== undefined && found > expected) {
    findings.push({status: 'WARNING', code: 'gpu-count', text: `expected ${plural(expected, 'GPU')}, found ${found} (update gpu.expectedGpus of the context)`})
  }
  for (const xid of orphanXids) {
    if (xid.severity === 'ignore') continue
    findings.push({
      status: xid.severity === 'drain' ? 'CRITICAL' : 'WARNING',
      code: `xid-${xid.xid}`,
      text: `${xidText(xid)} on PCI ${xid.pciKey}, a bus no listed GPU answers for${xid.severity === 'drain' ? ', drain the node' : ''}`,
    })
  }
  return findings
}

export interface XidAnalysis {
  /** pciKey -> that GPU's Xids. */
  byBus: Map<string, XidSummary[]>
  counted: number
  older: number
}

/**
 * Keeps the events inside the window (events without a time are kept: better a stale warning than a missed fault),
 * classifies them, and deduplicates by (bus, Xid).
 */
export function analyseXids(events: readonly XidEvent[], {policy = {}, windowSeconds = 0, now = new Date()}: {policy?: XidPolicy; windowSeconds?: number; now?: Date} = {}): XidAnalysis {
  const cutoff = windowSeconds > 0 ? now.getTime() - windowSeconds * 1000 : -Infinity
  const byBus = new Map<string, XidSummary[]>()
  let counted = 0
  let older = 0
  for (const event of events) {
    if (event.time !== undefined && Date.parse(event.time) < cutoff) {
      older++
      continue
    }
    counted++
    const list = byBus.get(event.pciKey) ?? []
    let summary = list.find((s) => s.xid === event.xid)
    if (!summary) {
      summary = {xid: event.xid, description: describeXid(event.xid), severity: xidSeverity(event.xid, policy), pciKey: event.pciKey, count: 0, message: event.message}
      list.push(summary)
      byBus.set(event.pciKey, list)
    }
    summary.count++
    if (event.time !== undefined) {
      summary.firstSeen ??= event.time
      summary.lastSeen = event.time
    }
    summary.message = event.message
    if (event.process !== undefined) summary.process = event.process
    if (event.pid !== undefined) summary.pid = event.pid
  }
  return {byBus, counted, older}
}

/** Allocation failures that concern this GPU: on its bus, or on none in particular. */
export function allocationFailuresFor(scan: KernelLogScan | undefined, pciKey: string | undefined, windowSeconds: number, now = new Date()): number {
  if (!scan) return 0
  const cutoff = windowSeconds > 0 ? now.getTime() - windowSeconds * 1000 : -Infinity
  return scan.allocationFailures.filter((f) => (f.pciKey === undefined || f.pciKey === pciKey) && (f.time === undefined || Date.parse(f.time) >= cutoff)).length
}

/** `59°C, 100% busy, 19.4/79.6 GiB, 632/700 W`, leaving out what was not reported. */
export function readings(gpu: GpuSnapshot): string {
  const parts: string[] = []
  if (gpu.temperatureC !== undefined) parts.push(`${gpu.temperatureC}°C`)
  if (gpu.utilizationPercent !== undefined) parts.push(`${gpu.utilizationPercent}% busy`)
  if (gpu.memoryUsedBytes !== undefined && gpu.memoryTotalBytes !== undefined) parts.push(`${gib(gpu.memoryUsedBytes)}/${gib(gpu.memoryTotalBytes)} GiB`)
  if (gpu.powerDrawW !== undefined) parts.push(gpu.powerLimitW === undefined ? `${watts(gpu.powerDrawW)} W` : `${watts(gpu.powerDrawW)}/${watts(gpu.powerLimitW)} W`)
  return parts.join(', ')
}

/** The health-check result of one NVIDIA GPU (`gpu:<index>`): its worst finding, every problem, the readings. */
export function nvidiaOutcome(gpu: GpuSnapshot, thresholds: GpuThresholds = DEFAULT_GPU_THRESHOLDS, evidence: GpuEvidence = {}): CheckOutcome {
  const health = assessGpu(gpu, thresholds, evidence)
  const label = gpu.name ?? `GPU ${gpu.index}`
  return {
    name: `${NAME}:${gpu.index}`,
    component: COMPONENT,
    status: health.status,
    summary: `${label}: ${[...health.findings.map((f) => f.text), health.readings].filter((part) => part !== '').join('; ') || 'no readings'}`,
    metrics: nvidiaMetrics(gpu, thresholds),
    details: withoutUndefined({
      uuid: gpu.uuid,
      busId: gpu.busId,
      driverVersion: gpu.driverVersion,
      tlimitMarginC: gpu.tlimitMarginC,
      throttleReasons: gpu.throttleReasons,
      eccCorrectedVolatile: gpu.eccCorrectedVolatile,
      recoveryAction: gpu.recoveryAction,
      ...(gpu.failure ? {failure: gpu.failure} : {}),
      ...(health.xids.length > 0 ? {xids: health.xids} : {}),
    }),
  }
}

function nvidiaMetrics(gpu: GpuSnapshot, t: GpuThresholds): Metric[] {
  const metrics: Metric[] = []
  if (gpu.temperatureC !== undefined) {
    // The thresholds apply to the temperature only when no T.Limit headroom judges it instead.
    const limits = gpu.tlimitMarginC === undefined ? temperatureLimits(gpu, t) : undefined
    metrics.push({name: 'temperature', value: gpu.temperatureC, ...(limits ? {warn: limits.warn, crit: limits.crit} : {})})
  }
  if (gpu.utilizationPercent !== undefined) metrics.push({name: 'utilization', value: gpu.utilizationPercent, unit: '%'})
  if (gpu.memoryUsedBytes !== undefined) metrics.push({name: 'memory_used', value: gpu.memoryUsedBytes, unit: 'B'})
  if (gpu.powerDrawW !== undefined) metrics.push({name: 'power', value: round(gpu.powerDrawW, 2)})
  if (gpu.eccUncorrectedVolatile !== undefined) metrics.push({name: 'ecc_uncorrected', value: gpu.eccUncorrectedVolatile, crit: 1})
  return metrics
}

/** The host's own findings as one `gpu` result. */
export function hostOutcome(findings: Finding[], expected: number | undefined, found: number): CheckOutcome {
  return {
    name: NAME,
    component: COMPONENT,
    status: worstStatus(findings.map((f) => f.status)),
    summary: findings.map((f) => f.text).join('; ') || `${plural(found, 'GPU')}`,
    metrics: [{name: 'gpus', value: found, ...(expected === undefined ? {} : {crit: expected, lowIsBad: true})}],
  }
}

/** The GPU tool gave no usable answer: CRITICAL when that means the GPUs are unusable, UNKNOWN when cimops just could not look. */
export function toolFailureOutcome(kind: GpuToolFailure, summary: string, details?: Record<string, unknown>): CheckOutcome {
  return {name: NAME, component: COMPONENT, status: CANNOT_LOOK.has(kind) ? 'UNKNOWN' : 'CRITICAL', summary, metrics: [], ...(details ? {details} : {})}
}

/**
 * macOS thermal pressure levels: Nominal/Fair/Serious/Critical (ProcessInfo), Nominal/Moderate/Heavy/Trapping/Sleeping
 * (OSThermalNotification). Anything not Nominal is degraded; only the top levels are CRITICAL.
 */
const THERMAL_PRESSURE_STATUS: Record<string, Status> = {nominal: 'OK', critical: 'CRITICAL', trapping: 'CRITICAL', sleeping: 'CRITICAL'}

export function powermetricsOutcome(sample: PowermetricsSample): CheckOutcome {
  const status = THERMAL_PRESSURE_STATUS[sample.thermalPressure.toLowerCase()] ?? 'WARNING'
  const power = sample.gpuPowerMw === undefined ? '' : `, ${watts(sample.gpuPowerMw / 1000)} W`
  const metrics: Metric[] = [{name: 'utilization', value: sample.gpuBusyPercent, unit: '%'}]
  if (sample.gpuPowerMw !== undefined) metrics.push({name: 'power', value: round(sample.gpuPowerMw / 1000, 3)})
  return {
    name: NAME,
    component: COMPONENT,
    status,
    summary: `Apple GPU${sample.hwModel ? ` (${sample.hwModel})` : ''}: ${sample.gpuBusyPercent.toFixed(1)}% busy at ${Math.round(sample.gpuFrequencyMhz)} MHz${power}, thermal pressure ${sample.thermalPressure}`,
    metrics,
    details: {hwModel: sample.hwModel, gpuFrequencyMhz: sample.gpuFrequencyMhz, thermalPressure: sample.thermalPressure},
  }
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(1)
}

/** 631.95 -> 632; small Apple GPU draws keep two decimals (0.02). */
function watts(value: number): string {
  return value < 10 ? value.toFixed(2) : String(Math.round(value))
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
