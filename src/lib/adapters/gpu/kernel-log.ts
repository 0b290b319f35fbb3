/**
 * NVIDIA Xid events from the kernel log (reference/gpu.md §1.5): `journalctl -k` for this boot, or `dmesg`, or a
 * file. Lines are mapped to GPUs by PCI bus id and classified: application errors (the GPU is fine) versus
 * drain-worthy faults. Also read: the driver's `GPU at PCI:...: GPU-<uuid>` lines (bus id -> uuid) and
 * allocation failures (`NV_ERR_NO_MEMORY`), which the health rules weigh against memory use.
 */
import {readFile} from 'node:fs/promises'

import {CimopsError} from '../../core/errors.js'
import {runTool} from '../proc/run.js'

export type XidSeverity = 'ignore' | 'warn' | 'drain'

export interface XidEvent {
  xid: number
  /** Normalised bus key `0000:9b:00` (4-hex domain, bus, device; no function), see pciKey(). */
  pciKey: string
  /** RFC 3339, when the line has an absolute timestamp (or a monotonic one and the boot time is known). */
  time?: string
  pid?: number
  process?: string
  /** The driver's text after the Xid number, without pid/name. */
  message: string
}

export interface AllocationFailure {
  pciKey?: string
  time?: string
  message: string
}

export interface KernelLogScan {
  xids: XidEvent[]
  /** pciKey -> GPU uuid, from `NVRM: GPU at PCI:0000:9b:00: GPU-...`. */
  gpuUuids: Record<string, string>
  allocationFailures: AllocationFailure[]
}

/** Meanings of the Xids the health rules name (NVIDIA Xid catalog, reference/gpu.md §1.5). */
export const XID_DESCRIPTIONS: Readonly<Record<number, string>> = {
  13: 'graphics engine exception',
  31: 'GPU memory page fault',
  43: 'GPU stopped processing',
  45: 'preemptive cleanup',
  48: 'double-bit ECC error',
  61: 'internal micro-controller breakpoint',
  62: 'internal micro-controller halt',
  63: 'ECC page retirement or row remapping recorded',
  64: 'ECC page retirement or row remapping failed',
  68: 'video processor exception',
  74: 'NVLink error',
  79: 'GPU has fallen off the bus',
  92: 'high single-bit ECC error rate',
  94: 'contained ECC error',
  95: 'uncontained ECC error',
  109: 'context switch timeout',
  119: 'GSP RPC timeout',
  120: 'GSP error',
}

/** Errors of the application, not the GPU: the ones NVIDIA's device plugin ignores by default. */
export const APPLICATION_XIDS: readonly number[] = [13, 31, 43, 45, 68, 109]

/** Per-context overrides; an Xid in none of the lists is `warn` when it is an application error, `drain` otherwise. */
export interface XidPolicy {
  ignore?: number[]
  warn?: number[]
  drain?: number[]
}

export function xidSeverity(xid: number, policy: XidPolicy = {}): XidSeverity {
  if (policy.drain?.includes(xid)) return 'drain'
  if (policy.warn?.includes(xid)) return 'warn'
  if (policy.ignore?.includes(xid)) return 'ignore'
  return APPLICATION_XIDS.includes(xid) ? 'warn' : 'drain'
}

export function describeXid(xid: number): string {
  return XID_DESCRIPTIONS[xid] ?? 'see the NVIDIA Xid catalog'
}

/**
 * `00000000:9B:00.0` (nvidia-smi), `PCI:0000:9b:00` and `0000:9b:00` (kernel) -> `0000:9b:00`.
 * Undefined for anything that is not a bus id.
 */
export function pciKey(busId: string): string | undefined {
  const match = /^(?:PCI:)?(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([0-9a-f]{2})(?:\.[0-7])?$/i.exec(busId.trim())
  if (!match) return undefined
  const domain = (match[1] ?? '0000').slice(-4)
  return `${domain}:${match[2]}:${match[3]}`.toLowerCase()
}

const XID_LINE = /NVRM: Xid \(((?:PCI:)?[0-9a-fA-F]{0,8}:?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}(?:\.[0-7])?)\): (\d+),\s*(.*)$/
const GPU_AT_LINE = /NVRM: GPU at (PCI:[0-9a-fA-F:.]+): (GPU-[0-9a-fA-F-]+)/
const ALLOCATION_FAILURE = /NVRM: .*(?:NV_ERR_NO_MEMORY|[Ff]ailed to allocate)/
const PCI_IN_TEXT = /PCI:([0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2})/

export interface ScanOptions {
  /** For lines with times relative to boot (`[12345.678]`): when this boot started. */
  bootTime?: Date
  /** For syslog lines without a year: the current time, so a December line read in January lands in the year before. */
  now?: Date
}

/** Parses kernel log text from dmesg (any time format), journalctl -k (short, short-iso) or a syslog file. */
export function parseKernelLog(text: string, options: ScanOptions = {}): KernelLogScan {
  const scan: KernelLogScan = {xids: [], gpuUuids: {}, allocationFailures: []}
  for (const line of text.split(/\r?\n/)) {
    if (!line.includes('NVRM:')) continue
    const xid = XID_LINE.exec(line)
    if (xid) {
      const key = pciKey(xid[1])
      if (key === undefined) continue
      scan.xids.push(withoutUndefined({xid: Number(xid[2]), pciKey: key, time: lineTime(line, options), ...splitDetails(xid[3])}))
      continue
    }
    const announce = GPU_AT_LINE.exec(line)
    if (announce) {
      const key = pciKey(announce[1])
      if (key) scan.gpuUuids[key] = announce[2]
      continue
    }
    if (ALLOCATION_FAILURE.test(line)) {
      const pci = PCI_IN_TEXT.exec(line)?.[1]
      const message = line.slice(line.indexOf('NVRM:') + 5).trim()
      scan.allocationFailures.push(withoutUndefined({pciKey: pci ? pciKey(pci) : undefined, time: lineTime(line, options), message}))
    }
  }
  return scan
}

/** `pid=2024380, name=nvidia-smi, Timeout after 6s ...` -> pid, process and the rest. */
function splitDetails(rest: string): {pid?: number; process?: string; message: string} {
  let message = rest.trim()
  let pid: number | undefined
  let process: string | undefined
  const pidMatch = /^pid=('?<unknown>'?|\d+),\s*/.exec(message)
  if (pidMatch) {
    if (/^\d+$/.test(pidMatch[1])) pid = Number(pidMatch[1])
    message = message.slice(pidMatch[0].length)
  }
  const nameMatch = /^name=([^,]*),\s*/.exec(message)
  if (nameMatch) {
    if (nameMatch[1] !== '<unknown>') process = nameMatch[1]
    message = message.slice(nameMatch[0].length)
  }
  return {pid, process, message}
}

const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?/
const CTIME = /^\[(\w{3} \w{3} +\d{1,2} \d{2}:\d{2}:\d{2} \d{4})\]/
const MONOTONIC = /^\[\s*(\d+\.\d+)\]/
const SYSLOG_TIME = /^(\w{3} +\d{1,2} \d{2}:\d{2}:\d{2}) /

/** The absolute time of a log line, or undefined when it has none this reader understands. */
export function lineTime(line: string, options: ScanOptions = {}): string | undefined {
  const iso = ISO_TIME.exec(line)
  if (iso) {
    const fraction = iso[2] ? `.${iso[2].slice(0, 3).padEnd(3, '0')}` : ''
    const zone = iso[3] ? (iso[3] === 'Z' ? 'Z' : `${iso[3].slice(0, 3)}:${iso[3].slice(-2)}`) : ''
    return toIso(Date.parse(`${iso[1]}${fraction}${zone}`))
  }
  const ctime = CTIME.exec(line)
  if (ctime) return toIso(Date.parse(ctime[1]))
  const monotonic = MONOTONIC.exec(line)
  if (monotonic) return options.bootTime ? toIso(options.bootTime.getTime() + Number(monotonic[1]) * 1000) : undefined
  const syslog = SYSLOG_TIME.exec(line)
  if (syslog) {
    const now = options.now ?? new Date()
    const [month, day, clock] = syslog[1].split(/ +/)
    let parsed = Date.parse(`${month} ${day} ${now.getFullYear()} ${clock}`)
    if (parsed > now.getTime() + 86_400_000) parsed = Date.parse(`${month} ${day} ${now.getFullYear() - 1} ${clock}`)
    return toIso(parsed)
  }
  return undefined
}

function toIso(ms: number): string | undefined {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

type Env = Record<string, string | undefined>

/** A file to read instead of journalctl/dmesg (`/var/log/kern.log`, a saved dmesg, tests), or `none` to skip. */
export const KERNEL_LOG_ENV = 'CIMOPS_KERNEL_LOG'

export type KernelLogSource =
  | {readable: true; source: string; text: string; bootTime?: Date}
  | {readable: false; source: string; reason: string}

export interface ReadKernelLogOptions {
  timeoutMs: number
  signal?: AbortSignal
  /** Overrides the environment variable. */
  file?: string
  env?: Env
}

/**
 * The kernel log of this boot: a file when one is given, else `journalctl -k -b 0`, else `dmesg`.
 * Never throws for a log it cannot read (no permission, no journal, no tools): it says why instead.
 */
export async function readKernelLog(options: ReadKernelLogOptions): Promise<KernelLogSource> {
  const file = options.file ?? (options.env ?? process.env)[KERNEL_LOG_ENV]
  if (file === 'none') return {readable: false, source: 'none', reason: `disabled (${KERNEL_LOG_ENV}=none)`}
  if (file) {
    try {
      return {readable: true, source: file, text: await readFile(file, 'utf8')}
    } catch (error) {
      return {readable: false, source: file, reason: (error as NodeJS.ErrnoException).code ?? String(error)}
    }
  }
  const started = performance.now()
  const remaining = () => Math.max(100, Math.round(options.timeoutMs - (performance.now() - started)))
  const reasons: string[] = []
  const attempt = async (program: string, args: string[]): Promise<string | undefined> => {
    try {
      const result = await runTool(program, args, {timeoutMs: remaining(), signal: options.signal})
      const meaningful = result.stdout.split('\n').some((line) => line.trim() !== '' && !line.startsWith('-- '))
      if (result.exitCode === 0 && meaningful) return result.stdout
      const why = `${result.stderr}\n${result.stdout}`.split('\n').find((line) => line.trim() !== '')?.trim() ?? (result.exitCode === 0 ? 'no entries' : `exit code ${result.exitCode}`)
      reasons.push(`${program}: ${why.slice(0, 160)}`)
    } catch (error) {
      if (error instanceof CimopsError && error.code === 'INTERRUPTED') throw error
      reasons.push(`${program}: ${error instanceof CimopsError ? error.why : String(error)}`)
    }
    return undefined
  }
  const journal = await attempt('journalctl', ['-k', '-b', '0', '--no-pager', '-q', '-o', 'short-iso'])
  if (journal !== undefined) return {readable: true, source: 'journalctl -k', text: journal}
  const dmesg = await attempt('dmesg', ['--time-format', 'iso'])
  if (dmesg !== undefined) return {readable: true, source: 'dmesg', text: dmesg}
  return {readable: false, source: 'journalctl -k, dmesg', reason: reasons.join('; ')}
}
