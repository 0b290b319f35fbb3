import type {Status} from '../../core/output/style.js'
import type {GpuToolFailure} from '../../adapters/gpu/errors.js'
import type {NvidiaGpu, ThrottleReason} from '../../adapters/gpu/nvidia-smi.js'
import type {PowermetricsSample} from '../../adapters/gpu/powermetrics.js'
import {type Metric, statusAbove, statusBelow, worstStatus} from '../model.js'
import type {CheckContext, CheckOutcome, HealthCheck} from '../runner.js'
import {plural, round} from '../../core/output/units.js'

const NAME = 'gpu'
const COMPONENT = 'gpu'

/** Static fallback when the driver reports no T.Limit headroom (reference/gpu.md §1.6). */
const TEMPERATURE_WARN_C = 85
const TEMPERATURE_CRIT_C = 95
/** Headroom below T.Limit: throttling starts at 0. */
const TLIMIT_MARGIN_WARN_C = 5
const TLIMIT_MARGIN_CRIT_C = 0

/** Clock reductions that mean heat or hardware trouble, not a normal idle or power cap. */
const SLOWDOWN_REASONS: ReadonlySet<ThrottleReason> = new Set(['hw_slowdown', 'sw_thermal_slowdown', 'hw_thermal_slowdown', 'hw_power_brake_slowdown'])

/** Failures that say nothing about the GPU's health, only that cimops could not look. */
const CANNOT_LOOK: ReadonlySet<GpuToolFailure> = new Set(['permission', 'invalid-field', 'unknown'])

/**
 * GPUs of this host: one result per NVIDIA GPU (`gpu:<index>`), or one `gpu` result for an Apple GPU,
 * or OK when the host has no GPU tool at all.
 */
export const gpuCheck: HealthCheck = {
  name: NAME,
  component: COMPONENT,
  async run({ctx, signal}: CheckContext): Promise<CheckOutcome | CheckOutcome[]> {
    const {detectGpuTool, nvidiaSmiBinary} = await import('../../adapters/gpu/detect.js')
    const {GpuToolError} = await import('../../adapters/gpu/errors.js')
    const tool = detectGpuTool()
    if (!tool) return {name: NAME, component: COMPONENT, status: 'OK', summary: 'no GPU on this host', metrics: []}
    try {
      if (tool === 'nvidia-smi') {
        const {queryGpus} = await import('../../adapters/gpu/nvidia-smi.js')
        const gpus = await queryGpus({timeoutMs: ctx.timeoutMs, signal, binary: nvidiaSmiBinary()})
        return gpus.length > 0 ? gpus.map(nvidiaOutcome) : toolFailureOutcome('no-devices', 'nvidia-smi listed no GPU')
      }
      const {samplePowermetrics} = await import('../../adapters/gpu/powermetrics.js')
      return powermetricsOutcome(await samplePowermetrics({timeoutMs: ctx.timeoutMs, signal}))
    } catch (error) {
      if (error instanceof GpuToolError) return toolFailureOutcome(error.kind, error.line, {system: error.system, kind: error.kind, exitCode: error.exitCode})
      // Timeouts (CRITICAL), missing binaries and unreadable output (UNKNOWN) are mapped by the runner.
      throw error
    }
  },
}

/** The GPU tool gave no usable answer: CRITICAL when that means the GPUs are unusable, UNKNOWN when cimops just could not look. */
export function toolFailureOutcome(kind: GpuToolFailure, summary: string, details?: Record<string, unknown>): CheckOutcome {
  return {name: NAME, component: COMPONENT, status: CANNOT_LOOK.has(kind) ? 'UNKNOWN' : 'CRITICAL', summary, metrics: [], ...(details ? {details} : {})}
}

interface Finding {
  status: Status
  text: string
}

export function nvidiaOutcome(gpu: NvidiaGpu): CheckOutcome {
  const findings = nvidiaFindings(gpu)
  const problems = findings.filter((f) => f.status !== 'OK').map((f) => f.text)
  const label = gpu.name ?? `GPU ${gpu.index}`
  return {
    name: `${NAME}:${gpu.index}`,
    component: COMPONENT,
    status: worstStatus(findings.map((f) => f.status)),
    summary: `${label}: ${[...problems, readings(gpu)].filter((part) => part !== '').join('; ') || 'no readings'}`,
    metrics: nvidiaMetrics(gpu),
    details: {
      uuid: gpu.uuid,
      busId: gpu.busId,
      driverVersion: gpu.driverVersion,
      tlimitMarginC: gpu.tlimitMarginC,
      throttleReasons: gpu.throttleReasons,
      eccCorrectedVolatile: gpu.eccCorrectedVolatile,
      ...(gpu.failure ? {failure: gpu.failure} : {}),
    },
  }
}

/** Drain-worthy memory faults are CRITICAL; heat and hardware slowdowns WARNING or CRITICAL by degree. */
function nvidiaFindings(gpu: NvidiaGpu): Finding[] {
  const findings: Finding[] = [temperatureFinding(gpu)]
  if (gpu.failure) findings.push({status: 'CRITICAL', text: `cannot be read: ${gpu.failure.reason} (${gpu.failure.fields.join(', ')})`})
  if (gpu.eccUncorrectedVolatile !== undefined && gpu.eccUncorrectedVolatile > 0) {
    findings.push({status: 'CRITICAL', text: `${plural(gpu.eccUncorrectedVolatile, 'uncorrected ECC error')} since driver load, drain the node`})
  }
  if (gpu.remappedRowsFailure) findings.push({status: 'CRITICAL', text: 'a memory row remapping failed, the GPU needs replacing'})
  if (gpu.remappedRowsPending) findings.push({status: 'CRITICAL', text: 'memory row remapping pending, drain and reset the GPU'})
  if (gpu.retiredPagesPending) findings.push({status: 'CRITICAL', text: 'memory pages pending retirement, drain and reboot'})
  const slowdowns = (gpu.throttleReasons ?? []).filter((reason) => SLOWDOWN_REASONS.has(reason))
  if (slowdowns.length > 0) findings.push({status: 'WARNING', text: `clocks slowed: ${slowdowns.join(', ')}`})
  return findings
}

/** T.Limit headroom when the driver reports it (it knows the part's limit), the absolute temperature otherwise. */
function temperatureFinding(gpu: NvidiaGpu): Finding {
  if (gpu.tlimitMarginC !== undefined) {
    const status = statusBelow(gpu.tlimitMarginC, TLIMIT_MARGIN_WARN_C, TLIMIT_MARGIN_CRIT_C)
    const limit = status === 'CRITICAL' ? TLIMIT_MARGIN_CRIT_C : TLIMIT_MARGIN_WARN_C
    return {status, text: `T.Limit headroom ${gpu.tlimitMarginC}°C (≤ ${limit}°C)`}
  }
  if (gpu.temperatureC !== undefined) {
    const status = statusAbove(gpu.temperatureC, TEMPERATURE_WARN_C, TEMPERATURE_CRIT_C)
    const limit = status === 'CRITICAL' ? TEMPERATURE_CRIT_C : TEMPERATURE_WARN_C
    return {status, text: `hot: ${gpu.temperatureC}°C (≥ ${limit}°C)`}
  }
  return {status: 'OK', text: ''}
}

/** `59°C, 100% busy, 19.4/79.6 GiB, 632/700 W`, leaving out what was not reported. */
function readings(gpu: NvidiaGpu): string {
  const parts: string[] = []
  if (gpu.temperatureC !== undefined) parts.push(`${gpu.temperatureC}°C`)
  if (gpu.utilizationPercent !== undefined) parts.push(`${gpu.utilizationPercent}% busy`)
  if (gpu.memoryUsedBytes !== undefined && gpu.memoryTotalBytes !== undefined) parts.push(`${gib(gpu.memoryUsedBytes)}/${gib(gpu.memoryTotalBytes)} GiB`)
  if (gpu.powerDrawW !== undefined) parts.push(gpu.powerLimitW === undefined ? `${watts(gpu.powerDrawW)} W` : `${watts(gpu.powerDrawW)}/${watts(gpu.powerLimitW)} W`)
  return parts.join(', ')
}

function nvidiaMetrics(gpu: NvidiaGpu): Metric[] {
  const metrics: Metric[] = []
  if (gpu.temperatureC !== undefined) {
    // The thresholds apply to the temperature only when no T.Limit headroom judges it instead.
    const thresholds = gpu.tlimitMarginC === undefined ? {warn: TEMPERATURE_WARN_C, crit: TEMPERATURE_CRIT_C} : {}
    metrics.push({name: 'temperature', value: gpu.temperatureC, ...thresholds})
  }
  if (gpu.utilizationPercent !== undefined) metrics.push({name: 'utilization', value: gpu.utilizationPercent, unit: '%'})
  if (gpu.memoryUsedBytes !== undefined) metrics.push({name: 'memory_used', value: gpu.memoryUsedBytes, unit: 'B'})
  if (gpu.powerDrawW !== undefined) metrics.push({name: 'power', value: round(gpu.powerDrawW, 2)})
  if (gpu.eccUncorrectedVolatile !== undefined) metrics.push({name: 'ecc_uncorrected', value: gpu.eccUncorrectedVolatile, crit: 1})
  return metrics
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
