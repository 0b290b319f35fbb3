/**
 * nvidia-smi `--query-gpu` as typed data (reference/gpu.md §1.1-1.2).
 * The CSV is read with its header so columns are found by name, whatever order or extra fields a driver prints,
 * and values may carry units (`81559 MiB`) or not (`--format=csv,nounits`).
 */
import {TimeoutError, ParseError} from '../../core/errors.js'
import {runTool, type RunResult} from '../proc/run.js'
import {recognizeFailure} from './nvidia-smi-failures.js'

/** NVML clock event reasons (formerly "throttle reasons"), named as nvidia-smi's `clocks_event_reasons.*` fields. */
export type ThrottleReason =
  | 'gpu_idle'
  | 'applications_clocks_setting'
  | 'sw_power_cap'
  | 'hw_slowdown'
  | 'sync_boost'
  | 'sw_thermal_slowdown'
  | 'hw_thermal_slowdown'
  | 'hw_power_brake_slowdown'
  | 'display_clock_setting'

/** Bit values of nvmlClocksEventReason* (reference/gpu.md §1.1). */
const THROTTLE_REASON_BITS: ReadonlyArray<readonly [ThrottleReason, bigint]> = [
  ['gpu_idle', 0x1n],
  ['applications_clocks_setting', 0x2n],
  ['sw_power_cap', 0x4n],
  ['hw_slowdown', 0x8n],
  ['sync_boost', 0x10n],
  ['sw_thermal_slowdown', 0x20n],
  ['hw_thermal_slowdown', 0x40n],
  ['hw_power_brake_slowdown', 0x80n],
  ['display_clock_setting', 0x100n],
]

export function decodeThrottleReasons(mask: bigint): ThrottleReason[] {
  return THROTTLE_REASON_BITS.filter(([, bit]) => (mask & bit) !== 0n).map(([reason]) => reason)
}

/** What nvidia-smi reported for one GPU; a field is undefined when the GPU or driver does not support it. */
export interface GpuReadings {
  uuid?: string
  name?: string
  /** `domain:bus:device.function`, e.g. `00000000:00:09.0`. */
  busId?: string
  driverVersion?: string
  temperatureC?: number
  /** Headroom below the GPU's T.Limit, °C (newer drivers); at or below 0 the GPU throttles. */
  tlimitMarginC?: number
  utilizationPercent?: number
  memoryTotalBytes?: number
  memoryUsedBytes?: number
  powerDrawW?: number
  powerLimitW?: number
  throttleReasons?: ThrottleReason[]
  /** Since the driver loaded. */
  eccUncorrectedVolatile?: number
  eccCorrectedVolatile?: number
  /** Pre-Ampere page retirement waiting for a reboot. */
  retiredPagesPending?: boolean
  /** Ampere+ row remapping waiting for a GPU reset. */
  remappedRowsPending?: boolean
  /** A row remapping failed at some point in the GPU's life. */
  remappedRowsFailure?: boolean
  /** `None`, or what the driver recommends to recover (`Reset`, `Reboot`, `Drain P2P`, `Drain and Reset`); newer drivers only. */
  recoveryAction?: string
}

export interface NvidiaGpu extends GpuReadings {
  index: number
  /** Set when nvidia-smi could not read this GPU (`[GPU is lost]`, `[Unknown Error]`). */
  failure?: {reason: string; fields: string[]}
}

interface Column<T> {
  /** Header names, the one cimops asks for first, then aliases and stand-ins other captures use. */
  names: readonly string[]
  read: (value: string, unit: string | undefined, field: string) => T
}

const text = (value: string): string => value

function number(value: string, _unit: string | undefined, field: string): number {
  const match = /^(-?\d+(?:\.\d+)?)(?:\s*[A-Za-z%]+)?$/.exec(value)
  if (!match) throw badValue(field, value, 'a number')
  return Number(match[1])
}

function integer(value: string, unit: string | undefined, field: string): number {
  const parsed = number(value, unit, field)
  if (!Number.isInteger(parsed)) throw badValue(field, value, 'an integer')
  return parsed
}

const BYTES_PER_UNIT: Record<string, number> = {KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30}

/** Memory is in MiB; the unit is on the value (`81559 MiB`) or, with nounits, only in the header. */
function bytes(value: string, headerUnit: string | undefined, field: string): number {
  const unit = /[A-Za-z]+$/.exec(value)?.[0] ?? headerUnit ?? 'MiB'
  const scale = BYTES_PER_UNIT[unit]
  if (scale === undefined) throw badValue(field, value, 'a size in MiB')
  return integer(value, unit, field) * scale
}

function yesNo(value: string, _unit: string | undefined, field: string): boolean {
  if (/^yes$/i.test(value)) return true
  if (/^no$/i.test(value)) return false
  throw badValue(field, value, 'Yes or No')
}

function throttleMask(value: string, _unit: string | undefined, field: string): ThrottleReason[] {
  if (!/^0x[0-9a-f]+$/i.test(value)) throw badValue(field, value, 'a hex bitmask')
  return decodeThrottleReasons(BigInt(value))
}

/** One entry per GpuReadings key; the compiler keeps the two in step. */
const COLUMNS: {[K in keyof GpuReadings]-?: Column<NonNullable<GpuReadings[K]>>} = {
  uuid: {names: ['uuid', 'gpu_uuid'], read: text},
  name: {names: ['name', 'gpu_name'], read: text},
  busId: {names: ['pci.bus_id', 'gpu_bus_id'], read: text},
  driverVersion: {names: ['driver_version'], read: text},
  temperatureC: {names: ['temperature.gpu'], read: number},
  tlimitMarginC: {names: ['temperature.gpu.tlimit'], read: number},
  utilizationPercent: {names: ['utilization.gpu'], read: number},
  memoryTotalBytes: {names: ['memory.total'], read: bytes},
  memoryUsedBytes: {names: ['memory.used'], read: bytes},
  // On Ampere and newer power.draw is itself the 1-second average, so captures listing only the average still fill it.
  powerDrawW: {names: ['power.draw', 'power.draw.average'], read: number},
  powerLimitW: {names: ['power.limit'], read: number},
  // New drivers accept and may echo either spelling; old ones know only clocks_throttle_reasons.
  throttleReasons: {names: ['clocks_throttle_reasons.active', 'clocks_event_reasons.active'], read: throttleMask},
  eccUncorrectedVolatile: {names: ['ecc.errors.uncorrected.volatile.total'], read: integer},
  eccCorrectedVolatile: {names: ['ecc.errors.corrected.volatile.total'], read: integer},
  retiredPagesPending: {names: ['retired_pages.pending'], read: yesNo},
  remappedRowsPending: {names: ['remapped_rows.pending'], read: yesNo},
  remappedRowsFailure: {names: ['remapped_rows.failure'], read: yesNo},
  recoveryAction: {names: ['gpu_recovery_action'], read: text},
}

/** The query, in this order; the optional fields are unknown to drivers older than ~R450/R525 and are dropped on retry. */
const QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'pci.bus_id',
  'driver_version',
  'temperature.gpu',
  'temperature.gpu.tlimit',
  'utilization.gpu',
  'memory.total',
  'memory.used',
  'power.draw',
  'power.limit',
  'clocks_throttle_reasons.active',
  'ecc.errors.uncorrected.volatile.total',
  'ecc.errors.corrected.volatile.total',
  'retired_pages.pending',
  'remapped_rows.pending',
  'remapped_rows.failure',
  'gpu_recovery_action',
] as const
/** Fields older drivers do not know: each one the driver rejects is dropped and the query run again. */
const OPTIONAL_FIELDS: ReadonlySet<string> = new Set(['temperature.gpu.tlimit', 'remapped_rows.pending', 'remapped_rows.failure', 'gpu_recovery_action'])

export type Cell = {kind: 'value'; value: string} | {kind: 'absent'} | {kind: 'failed'; reason: string}

/** Tokens that mean "this GPU could not be read", as opposed to "this GPU has no such sensor". */
const FAILURE_TOKENS = new Map([
  ['unknown error', 'Unknown Error'],
  ['gpu is lost', 'GPU is lost'],
])
/** Unbracketed forms of "not available"; any bracketed token other than a failure means the same. */
const ABSENT_TOKENS = new Set(['', 'n/a', 'not supported', 'insufficient permissions', 'requested functionality has been deprecated'])

export function classifyCell(raw: string): Cell {
  const bracketed = /^\[(.*)\]$/.exec(raw)
  const token = (bracketed ? bracketed[1] : raw).toLowerCase()
  const failure = FAILURE_TOKENS.get(token)
  if (failure) return {kind: 'failed', reason: failure}
  if (bracketed || ABSENT_TOKENS.has(token)) return {kind: 'absent'}
  return {kind: 'value', value: raw}
}

export interface HeaderColumn {
  field: string
  unit?: string
}

/** `memory.total [MiB]` -> field memory.total, unit MiB. */
export function parseHeader(line: string): HeaderColumn[] {
  return line.split(',').map((cell) => {
    const match = /^(.*?)\s*(?:\[([^\]]*)\])?$/.exec(cell.trim())
    return {field: match?.[1] ?? cell.trim(), unit: match?.[2]}
  })
}

/** Parses `nvidia-smi --query-gpu=... --format=csv[,nounits]` output, header included: one entry per GPU row. */
export function parseQueryGpuCsv(csv: string): NvidiaGpu[] {
  const lines = csv.split(/\r?\n/).filter((line) => line.trim() !== '')
  if (lines.length === 0) throw new ParseError('cannot read nvidia-smi output', 'it is empty', {system: 'nvidia-smi', hint: PARSE_HINT})
  const header = parseHeader(lines[0])
  if (!header.some((column) => column.field === 'index')) {
    throw new ParseError('cannot read nvidia-smi output', `the first line is not a CSV header with an index column: "${lines[0].slice(0, 120)}"`, {
      system: 'nvidia-smi',
      hint: PARSE_HINT,
    })
  }
  return lines.slice(1).map((line, row) => parseRow(header, line, row))
}

function parseRow(header: HeaderColumn[], line: string, row: number): NvidiaGpu {
  // Fields are separated by ", "; no GPU name or value in any known output contains a comma.
  const cells = line.split(',').map((cell) => cell.trim())
  if (cells.length !== header.length) {
    throw new ParseError('cannot read nvidia-smi output', `GPU row ${row + 1} has ${cells.length} values for ${header.length} columns`, {
      system: 'nvidia-smi',
      hint: PARSE_HINT,
    })
  }
  const failed: Array<{field: string; reason: string}> = []
  const cellOf = (names: readonly string[]): {cell: Cell; column: HeaderColumn} | undefined => {
    const position = header.findIndex((column) => names.includes(column.field))
    if (position === -1) return undefined
    const cell = classifyCell(cells[position])
    if (cell.kind === 'failed') failed.push({field: header[position].field, reason: cell.reason})
    return {cell, column: header[position]}
  }

  const indexCell = cellOf(['index'])?.cell
  // Rows come in index order, so the position stands in for an index nvidia-smi could not read.
  const index = indexCell?.kind === 'value' ? integer(indexCell.value, undefined, 'index') : row
  const readings: GpuReadings = {}
  const read = <K extends keyof GpuReadings>(key: K): void => {
    // The mapped type of COLUMNS guarantees this; TypeScript cannot follow it through a generic key.
    const column = COLUMNS[key] as Column<NonNullable<GpuReadings[K]>>
    const found = cellOf(column.names)
    if (found?.cell.kind === 'value') readings[key] = column.read(found.cell.value, found.column.unit, found.column.field)
  }
  for (const key of Object.keys(COLUMNS) as Array<keyof GpuReadings>) read(key)

  const gpu: NvidiaGpu = {index, ...readings}
  if (failed.length > 0) gpu.failure = {reason: failed[0].reason, fields: failed.map((f) => f.field)}
  return gpu
}

const PARSE_HINT = 'the nvidia-smi output format may have changed; report it with `nvidia-smi --version`'

function badValue(field: string, value: string, expected: string): ParseError {
  return new ParseError('cannot read nvidia-smi output', `${field} is "${value}", expected ${expected}`, {system: 'nvidia-smi', hint: PARSE_HINT})
}

export interface QueryOptions {
  timeoutMs: number
  signal?: AbortSignal
  /** Path or name of nvidia-smi; default `nvidia-smi` on PATH. */
  binary?: string
}

/**
 * Runs `nvidia-smi --query-gpu`. A driver that does not know an optional field names it and fails: that field is
 * dropped and the query run again (nvidia-smi names one field per run), all within one time budget.
 */
export async function queryGpus(options: QueryOptions): Promise<NvidiaGpu[]> {
  const binary = options.binary ?? 'nvidia-smi'
  const started = performance.now()
  let fields: readonly string[] = QUERY_FIELDS
  for (;;) {
    // One budget for every run: a retry gets what the previous ones left.
    const remainingMs = Math.round(options.timeoutMs - (performance.now() - started))
    if (remainingMs <= 0) throw new TimeoutError('nvidia-smi', 'localhost', options.timeoutMs)
    const result = await runQuery(binary, fields, remainingMs, options.signal)
    const failure = recognizeFailure(result)
    if (!failure) return parseQueryGpuCsv(result.stdout)
    const rejected = failure.error.kind === 'invalid-field' ? failure.field : undefined
    if (rejected === undefined || !OPTIONAL_FIELDS.has(rejected) || !fields.includes(rejected)) throw failure.error
    fields = fields.filter((field) => field !== rejected)
  }
}

function runQuery(binary: string, fields: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<RunResult> {
  return runTool(binary, [`--query-gpu=${fields.join(',')}`, '--format=csv'], {timeoutMs, signal})
}
