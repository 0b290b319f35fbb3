/**
 * `nvidia-smi --query-compute-apps` (reference/gpu.md §1.3): the compute processes on each GPU, joined to GPUs by
 * uuid (or bus id). An idle GPU gives no rows; under Windows WDDM the memory is `[N/A]`; pid and memory may be
 * `[Not Supported]` on old drivers. Graphics-only processes are not listed (use `-q -x` for those).
 */
import {ParseError} from '../../core/errors.js'
import {runTool} from '../proc/run.js'
import {recognizeFailure} from './nvidia-smi-failures.js'
import {classifyCell, parseHeader} from './nvidia-smi.js'
import type {GpuProcess} from './nvidia-smi-xml.js'

const QUERY = ['gpu_uuid', 'gpu_bus_id', 'pid', 'process_name', 'used_gpu_memory'] as const

const FIELD_ALIASES: Record<string, keyof GpuProcess> = {
  gpu_uuid: 'gpuUuid',
  gpu_bus_id: 'busId',
  pid: 'pid',
  process_name: 'name',
  name: 'name',
  used_gpu_memory: 'usedMemoryBytes',
  used_memory: 'usedMemoryBytes',
}

const MiB = 2 ** 20

/** Parses `--query-compute-apps=... --format=csv[,nounits]` output, header included. A header alone is no process. */
export function parseComputeAppsCsv(csv: string): GpuProcess[] {
  const lines = csv.split(/\r?\n/).filter((line) => line.trim() !== '')
  if (lines.length === 0) return []
  const header = parseHeader(lines[0])
  if (!header.some((column) => FIELD_ALIASES[column.field] !== undefined)) {
    throw new ParseError('cannot read nvidia-smi compute processes', `the first line is not a CSV header: "${lines[0].slice(0, 120)}"`, {system: 'nvidia-smi'})
  }
  return lines.slice(1).map((line, row) => {
    const cells = line.split(',').map((cell) => cell.trim())
    // A process name may hold commas: the extra cells belong to it.
    const nameAt = header.findIndex((column) => FIELD_ALIASES[column.field] === 'name')
    const extra = cells.length - header.length
    if (extra > 0 && nameAt !== -1) cells.splice(nameAt, extra + 1, cells.slice(nameAt, nameAt + extra + 1).join(', '))
    if (cells.length !== header.length) {
      throw new ParseError('cannot read nvidia-smi compute processes', `row ${row + 1} has ${cells.length} values for ${header.length} columns`, {system: 'nvidia-smi'})
    }
    const process: GpuProcess = {}
    header.forEach((column, i) => {
      const key = FIELD_ALIASES[column.field]
      const cell = classifyCell(cells[i])
      if (!key || cell.kind !== 'value') return
      if (key === 'pid') {
        if (!/^\d+$/.test(cell.value)) throw badValue(column.field, cell.value, 'a process id')
        process.pid = Number(cell.value)
      } else if (key === 'usedMemoryBytes') {
        const match = /^(\d+)(?:\s*MiB)?$/.exec(cell.value)
        if (!match) throw badValue(column.field, cell.value, 'a size in MiB')
        process.usedMemoryBytes = Number(match[1]) * MiB
      } else {
        process[key] = cell.value
      }
    })
    return process
  })
}

function badValue(field: string, value: string, expected: string): ParseError {
  return new ParseError('cannot read nvidia-smi compute processes', `${field} is "${value}", expected ${expected}`, {system: 'nvidia-smi'})
}

export interface AppsQueryOptions {
  timeoutMs: number
  signal?: AbortSignal
  binary?: string
}

export async function queryComputeApps(options: AppsQueryOptions): Promise<GpuProcess[]> {
  const result = await runTool(options.binary ?? 'nvidia-smi', [`--query-compute-apps=${QUERY.join(',')}`, '--format=csv'], {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  })
  const failure = recognizeFailure(result)
  if (failure) throw failure.error
  return parseComputeAppsCsv(result.stdout)
}
