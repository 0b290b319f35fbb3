/**
 * `nvidia-smi -q -x` as typed data (reference/gpu.md §1.4), for what the query CSV lacks or old drivers cannot
 * answer: recovery action and reset status, retired pages with their addresses, remapped rows, temperature
 * thresholds (absolute before schema v13, relative to T.Limit from v13), ECC in every layout, and processes
 * including graphics ones. Schemas v9-v13 and the DOCTYPE-less 418 output; `clocks_throttle_reasons` and
 * `clocks_event_reasons` both. Elements are looked up by path, never by searching (MIG devices repeat names).
 */
import {ParseError} from '../../core/errors.js'
import {runTool} from '../proc/run.js'
import {recognizeFailure} from './nvidia-smi-failures.js'
import {classifyCell, type ThrottleReason} from './nvidia-smi.js'
import {at, child, childrenNamed, parseXml, type XmlElement} from './xml.js'

export interface RetiredPageList {
  count?: number
  /** Page addresses with the time the driver recorded (nvidia-smi's local time, as printed). */
  pages: Array<{address: string; time?: string}>
}

export interface GpuProcess {
  pid?: number
  /** `C` compute, `G` graphics, `C+G`; undefined from --query-compute-apps, which lists compute contexts only. */
  type?: string
  name?: string
  usedMemoryBytes?: number
  gpuUuid?: string
  busId?: string
}

export interface XmlGpu {
  /** `<gpu id>`: `00000000:06:00.0`. */
  busId: string
  uuid?: string
  name?: string
  /** `None`, `Reset`, `Reboot`, `Drain P2P`, `Drain and Reset` (v13 / 550+). */
  recoveryAction?: string
  /** `gpu_reset_status` (535-570). */
  resetRequired?: boolean
  drainAndResetRecommended?: boolean
  throttleReasons?: ThrottleReason[]
  memoryTotalBytes?: number
  memoryUsedBytes?: number
  utilizationPercent?: number
  temperatureC?: number
  /** Headroom below T.Limit. */
  tlimitMarginC?: number
  /** Absolute thresholds (before v13). */
  slowdownTempC?: number
  shutdownTempC?: number
  maxOperatingTempC?: number
  /** T.Limit-relative thresholds (v13): slowdown starts when the headroom falls to this (e.g. -2). */
  slowdownTlimitC?: number
  shutdownTlimitC?: number
  memoryTempC?: number
  memoryMaxTempC?: number
  powerDrawW?: number
  powerLimitW?: number
  ecc?: {volatileCorrected?: number; volatileUncorrected?: number; aggregateCorrected?: number; aggregateUncorrected?: number}
  retiredPages?: {singleBit?: RetiredPageList; doubleBit?: RetiredPageList; pending?: boolean}
  remappedRows?: {correctable?: number; uncorrectable?: number; pending?: boolean; failure?: boolean}
  processes: GpuProcess[]
  /** Fields nvidia-smi could not read (`Unknown Error`, `GPU is lost`). */
  failure?: {reason: string; fields: string[]}
}

export interface NvidiaSmiXml {
  /** DTD version from the DOCTYPE (`nvsmi_device_v13.dtd` -> 13); undefined for outputs without one (418). */
  schema?: number
  driverVersion?: string
  cudaVersion?: string
  /** What nvidia-smi claims; trimmed captures show fewer `<gpu>` elements, so count those instead. */
  attachedGpus?: number
  gpus: XmlGpu[]
}

const THROTTLE_NAMES: Record<string, ThrottleReason> = {
  gpu_idle: 'gpu_idle',
  applications_clocks_setting: 'applications_clocks_setting',
  sw_power_cap: 'sw_power_cap',
  hw_slowdown: 'hw_slowdown',
  sync_boost: 'sync_boost',
  sw_thermal_slowdown: 'sw_thermal_slowdown',
  hw_thermal_slowdown: 'hw_thermal_slowdown',
  hw_power_brake_slowdown: 'hw_power_brake_slowdown',
  display_clocks_setting: 'display_clock_setting',
}

const MiB = 2 ** 20

export function parseNvidiaSmiXml(xml: string): NvidiaSmiXml {
  const root = parseXml(xml)
  if (root.name !== 'nvidia_smi_log') {
    throw new ParseError('cannot read nvidia-smi -q -x output', `the root element is <${root.name}>, expected <nvidia_smi_log>`, {system: 'nvidia-smi'})
  }
  const schema = /nvsmi_device_v(\d+)\.dtd/.exec(xml.slice(0, 500))?.[1]
  const reader = new Reader()
  return withoutUndefined({
    schema: schema === undefined ? undefined : Number(schema),
    driverVersion: reader.text(child(root, 'driver_version')),
    cudaVersion: reader.text(child(root, 'cuda_version')),
    attachedGpus: reader.number(child(root, 'attached_gpus')),
    gpus: childrenNamed(root, 'gpu').map(readGpu),
  })
}

function readGpu(gpu: XmlElement): XmlGpu {
  const r = new Reader()
  const temperature = child(gpu, 'temperature')
  const power = child(gpu, 'gpu_power_readings') ?? child(gpu, 'power_readings')
  const busId = gpu.attributes.id ?? r.text(at(gpu, 'pci', 'pci_bus_id')) ?? ''
  const result: XmlGpu = withoutUndefined({
    busId,
    uuid: r.text(child(gpu, 'uuid')),
    name: r.text(child(gpu, 'product_name')),
    recoveryAction: r.text(child(gpu, 'gpu_recovery_action')),
    resetRequired: r.yesNo(at(gpu, 'gpu_reset_status', 'reset_required')),
    drainAndResetRecommended: r.yesNo(at(gpu, 'gpu_reset_status', 'drain_and_reset_recommended')),
    throttleReasons: readThrottleReasons(gpu, r),
    memoryTotalBytes: r.mib(at(gpu, 'fb_memory_usage', 'total')),
    memoryUsedBytes: r.mib(at(gpu, 'fb_memory_usage', 'used')),
    utilizationPercent: r.number(at(gpu, 'utilization', 'gpu_util')),
    temperatureC: r.number(child(temperature, 'gpu_temp')),
    tlimitMarginC: r.number(child(temperature, 'gpu_temp_tlimit')),
    slowdownTempC: r.number(child(temperature, 'gpu_temp_slow_threshold')),
    shutdownTempC: r.number(child(temperature, 'gpu_temp_max_threshold')),
    maxOperatingTempC: r.number(child(temperature, 'gpu_temp_max_gpu_threshold')),
    slowdownTlimitC: r.number(child(temperature, 'gpu_temp_slow_tlimit_threshold')),
    shutdownTlimitC: r.number(child(temperature, 'gpu_temp_max_tlimit_threshold')),
    memoryTempC: r.number(child(temperature, 'memory_temp')),
    memoryMaxTempC: r.number(child(temperature, 'gpu_temp_max_mem_threshold')),
    powerDrawW: r.number(child(power, 'power_draw')) ?? r.number(child(power, 'average_power_draw')) ?? r.number(child(power, 'instant_power_draw')),
    powerLimitW: r.number(child(power, 'current_power_limit')) ?? r.number(child(power, 'enforced_power_limit')) ?? r.number(child(power, 'power_limit')),
    ecc: nonEmpty(readEcc(child(gpu, 'ecc_errors'), r)),
    retiredPages: nonEmpty(readRetiredPages(child(gpu, 'retired_pages'), r)),
    remappedRows: nonEmpty(readRemappedRows(child(gpu, 'remapped_rows'), r)),
    processes: childrenNamed(child(gpu, 'processes'), 'process_info').map((p) => readProcess(p, r)),
  })
  if (r.failed.length > 0) result.failure = {reason: r.failed[0].reason, fields: r.failed.map((f) => f.field)}
  return result
}

/** `<clocks_event_reasons>` (535+) or `<clocks_throttle_reasons>` (older): each child is Active or Not Active. */
function readThrottleReasons(gpu: XmlElement, r: Reader): ThrottleReason[] | undefined {
  const section = child(gpu, 'clocks_event_reasons') ?? child(gpu, 'clocks_throttle_reasons')
  if (!section) return undefined
  const active: ThrottleReason[] = []
  for (const element of section.children) {
    const name = element.name.replace(/^clocks_(?:event|throttle)_reason_/, '')
    const reason = THROTTLE_NAMES[name]
    if (reason && r.activeFlag(element)) active.push(reason)
  }
  return active
}

/**
 * Old layout (≤ 410): `{volatile,aggregate}/{single_bit,double_bit}/total`. Newer: `sram_*` and `dram_*` counters,
 * with 590+ splitting SRAM uncorrectable into parity and SEC-DED; the sum is what matters for health.
 */
function readEcc(section: XmlElement | undefined, r: Reader): XmlGpu['ecc'] {
  if (!section) return undefined
  const counts = (scope: XmlElement | undefined): {corrected?: number; uncorrected?: number} => {
    if (!scope) return {}
    if (child(scope, 'single_bit') || child(scope, 'double_bit')) {
      return {corrected: r.number(at(scope, 'single_bit', 'total')), uncorrected: r.number(at(scope, 'double_bit', 'total'))}
    }
    return {
      corrected: sum(['sram_correctable', 'dram_correctable'].map((n) => r.number(child(scope, n)))),
      uncorrected: sum(['sram_uncorrectable', 'sram_uncorrectable_parity', 'sram_uncorrectable_secded', 'dram_uncorrectable'].map((n) => r.number(child(scope, n)))),
    }
  }
  const volatile = counts(child(section, 'volatile'))
  const aggregate = counts(child(section, 'aggregate'))
  return withoutUndefined({
    volatileCorrected: volatile.corrected,
    volatileUncorrected: volatile.uncorrected,
    aggregateCorrected: aggregate.corrected,
    aggregateUncorrected: aggregate.uncorrected,
  })
}

function readRetiredPages(section: XmlElement | undefined, r: Reader): XmlGpu['retiredPages'] {
  if (!section) return undefined
  const list = (name: string): RetiredPageList | undefined => {
    const retirement = child(section, name)
    const count = r.number(child(retirement, 'retired_count'))
    if (count === undefined) return undefined
    const pages = childrenNamed(child(retirement, 'retired_pagelist'), 'retired_page').map((page) =>
      withoutUndefined({address: r.text(child(page, 'retired_page_address')) ?? '', time: r.text(child(page, 'retired_page_timestamp'))}),
    )
    return {count, pages}
  }
  return withoutUndefined({singleBit: list('multiple_single_bit_retirement'), doubleBit: list('double_bit_retirement'), pending: r.yesNo(child(section, 'pending_retirement'))})
}

/** `<remapped_rows>N/A</remapped_rows>` on GPUs without row remapping. */
function readRemappedRows(section: XmlElement | undefined, r: Reader): XmlGpu['remappedRows'] {
  if (!section || section.children.length === 0) return undefined
  return withoutUndefined({
    correctable: r.number(child(section, 'remapped_row_corr')),
    uncorrectable: r.number(child(section, 'remapped_row_unc')),
    pending: r.yesNo(child(section, 'remapped_row_pending')),
    failure: r.yesNo(child(section, 'remapped_row_failure')),
  })
}

function readProcess(info: XmlElement, r: Reader): GpuProcess {
  return withoutUndefined({
    pid: r.number(child(info, 'pid')),
    type: r.text(child(info, 'type')),
    name: r.text(child(info, 'process_name')),
    usedMemoryBytes: r.mib(child(info, 'used_memory')),
  })
}

/** Reads element values the way nvidia-smi writes them: strings with units, `N/A`-style absences, failure tokens. */
class Reader {
  readonly failed: Array<{field: string; reason: string}> = []

  /** The value, or undefined when absent; a failure token is recorded against the element. */
  text(element: XmlElement | undefined): string | undefined {
    if (!element || element.children.length > 0) return undefined
    const cell = classifyCell(element.text)
    if (cell.kind === 'failed') {
      this.failed.push({field: element.name, reason: cell.reason})
      return undefined
    }
    return cell.kind === 'value' ? cell.value : undefined
  }

  /** `27 C`, `-2 C`, `67.03 W`, `0 %`, `96 bank(s)`, `4000`. */
  number(element: XmlElement | undefined): number | undefined {
    const value = this.text(element)
    if (value === undefined) return undefined
    const match = /^(-?\d+(?:\.\d+)?)(?:\s*\S+)?$/.exec(value)
    if (!match) throw badValue(element!.name, value, 'a number')
    return Number(match[1])
  }

  mib(element: XmlElement | undefined): number | undefined {
    const value = this.text(element)
    if (value === undefined) return undefined
    const match = /^(\d+)\s*(KiB|MiB|GiB)?$/.exec(value)
    if (!match) throw badValue(element!.name, value, 'a size in MiB')
    const scale = match[2] === 'KiB' ? 2 ** 10 : match[2] === 'GiB' ? 2 ** 30 : MiB
    return Number(match[1]) * scale
  }

  yesNo(element: XmlElement | undefined): boolean | undefined {
    const value = this.text(element)
    if (value === undefined) return undefined
    if (/^yes$/i.test(value)) return true
    if (/^no$/i.test(value)) return false
    throw badValue(element!.name, value, 'Yes or No')
  }

  activeFlag(element: XmlElement): boolean {
    const value = this.text(element)
    return value !== undefined && /^active$/i.test(value)
  }
}

function sum(values: Array<number | undefined>): number | undefined {
  const present = values.filter((v): v is number => v !== undefined)
  return present.length === 0 ? undefined : present.reduce((a, b) => a + b, 0)
}

function nonEmpty<T extends object>(value: T | undefined): T | undefined {
  return value && Object.keys(value).length > 0 ? value : undefined
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

function badValue(field: string, value: string, expected: string): ParseError {
  return new ParseError('cannot read nvidia-smi -q -x output', `<${field}> is "${value}", expected ${expected}`, {
    system: 'nvidia-smi',
    hint: 'the nvidia-smi output format may have changed; report it with `nvidia-smi --version`',
  })
}

export interface XmlQueryOptions {
  timeoutMs: number
  signal?: AbortSignal
  binary?: string
}

/** Runs `nvidia-smi -q -x`; whole-command failures are recognised like those of the CSV query. */
export async function queryGpuDetails(options: XmlQueryOptions): Promise<NvidiaSmiXml> {
  const result = await runTool(options.binary ?? 'nvidia-smi', ['-q', '-x'], {timeoutMs: options.timeoutMs, signal: options.signal})
  const failure = recognizeFailure(result)
  if (failure) throw failure.error
  if (result.stdout.trim() === '') throw new ParseError('cannot read nvidia-smi -q -x output', 'it is empty', {system: 'nvidia-smi'})
  return parseNvidiaSmiXml(result.stdout)
}
