import {readFile, statfs} from 'node:fs/promises'
import {cpus, loadavg} from 'node:os'

import {OperationError, ParseError} from '../../core/errors.js'

/**
 * Host resources. On Linux, memory comes from /proc/meminfo and free space from statfs(2) of the watched
 * mounts only: loading systeminformation and its `df` of every mount cost ~55 ms of a health check. Other
 * platforms (the macOS nodes) use systeminformation, lazily: it is large. CPU load comes from the kernel's
 * load average rather than si.currentLoad(), which samples for ~0.5 s and would blow the health-check budget.
 */

export interface HostLoad {
  load1: number
  cores: number
  /** load1 / cores: 1.0 means every core busy. */
  perCore: number
}

export interface HostMemory {
  totalBytes: number
  /** What applications can still get without swapping (MemAvailable). */
  availableBytes: number
  usedPercent: number
}

export interface Filesystem {
  mount: string
  device: string
  type: string
  sizeBytes: number
  /** What an unprivileged user may still write (df's "Available"; blocks reserved for root excluded). */
  availableBytes: number
  freePercent: number
}

export interface MountUsage {
  /** The wanted mounts that are mounted filesystems. */
  filesystems: Filesystem[]
  /** Every real filesystem's mount point, to name the choices; listed only when a wanted mount is not among them. */
  mountPoints: string[]
}

/** One line of /proc/self/mounts. */
export interface MountEntry {
  device: string
  mount: string
  type: string
}

const PROC_MEMINFO = '/proc/meminfo'
const PROC_MOUNTS = '/proc/self/mounts'

/** Kernel views, not storage: they never run out of space, and listing them would bury the real mounts. */
const PSEUDO_FILESYSTEMS = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'debugfs',
  'devpts',
  'devtmpfs',
  'fusectl',
  'hugetlbfs',
  'mqueue',
  'nsfs',
  'proc',
  'pstore',
  'securityfs',
  'squashfs',
  'sysfs',
  'tracefs',
])

export function hostLoad(): HostLoad {
  const cores = Math.max(1, cpus().length)
  const load1 = loadavg()[0]
  return {load1, cores, perCore: load1 / cores}
}

export async function hostMemory(): Promise<HostMemory> {
  if (process.platform === 'linux') return parseMeminfo(await readHostFile(PROC_MEMINFO))
  const si = await import('systeminformation')
  const mem = await si.mem()
  return memory(mem.total, mem.available || mem.free)
}

/** Size and free space of each of `mounts`, by mount point. */
export async function mountUsage(mounts: string[]): Promise<MountUsage> {
  return process.platform === 'linux' ? linuxMountUsage(mounts) : systeminformationMountUsage(mounts)
}

/** `/proc/meminfo` in bytes; without MemAvailable (kernels before 3.14) available is MemFree + Buffers + Cached. */
export function parseMeminfo(text: string): HostMemory {
  const kib = new Map([...text.matchAll(/^(\w+):\s+(\d+)(?: kB)?$/gm)].map(([, key, value]) => [key, Number(value)]))
  const total = kib.get('MemTotal')
  if (!total) throw new ParseError(`unreadable ${PROC_MEMINFO}`, `no MemTotal in "${text.slice(0, 80)}"`, {system: 'proc'})
  const available = kib.get('MemAvailable') ?? (kib.get('MemFree') ?? 0) + (kib.get('Buffers') ?? 0) + (kib.get('Cached') ?? 0)
  return memory(total * 1024, available * 1024)
}

/** `/proc/self/mounts`; where a mount point appears twice the later mount hides the earlier, so the last one is kept. */
export function parseMounts(text: string): MountEntry[] {
  const byMount = new Map<string, MountEntry>()
  for (const line of text.split('\n')) {
    const [device, mount, type] = line.split(' ')
    if (type === undefined) continue
    const entry = {device: decodeMountField(device), mount: decodeMountField(mount), type}
    byMount.delete(entry.mount)
    byMount.set(entry.mount, entry)
  }
  return [...byMount.values()]
}

/** The kernel writes space, tab, newline and backslash in mount fields as three octal digits: `\040` is a space. */
export function decodeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))
}

async function linuxMountUsage(mounts: string[]): Promise<MountUsage> {
  const real = parseMounts(await readHostFile(PROC_MOUNTS)).filter((entry) => !PSEUDO_FILESYSTEMS.has(entry.type))
  const wanted = real.filter((entry) => mounts.includes(entry.mount))
  const filesystems = (await Promise.all(wanted.map((entry) => usageOf(entry)))).filter((fs) => fs.sizeBytes > 0)
  if (mounts.every((mount) => filesystems.some((fs) => fs.mount === mount))) return {filesystems, mountPoints: []}
  // Only to name the choices, so only when one is missing (a hung network mount there is bounded by the check's
  // deadline); a mount this user may not statfs is left out rather than failing the check.
  const listed = await Promise.all(real.map((entry) => usageOf(entry).catch(() => undefined)))
  return {filesystems, mountPoints: listed.flatMap((fs) => (fs && fs.sizeBytes > 0 ? [fs.mount] : []))}
}

async function usageOf(entry: MountEntry): Promise<Filesystem> {
  const stats = await statfs(entry.mount).catch((error: Error) => {
    throw new OperationError(`cannot read the free space of ${entry.mount}`, error.message, {system: 'statfs', cause: error})
  })
  const sizeBytes = stats.blocks * stats.bsize
  const availableBytes = stats.bavail * stats.bsize
  return {...entry, sizeBytes, availableBytes, freePercent: sizeBytes > 0 ? (availableBytes / sizeBytes) * 100 : 0}
}

async function systeminformationMountUsage(mounts: string[]): Promise<MountUsage> {
  const si = await import('systeminformation')
  const all = (await si.fsSize())
    .filter((fs) => fs.size > 0)
    .map((fs) => ({
      mount: fs.mount,
      device: fs.fs,
      type: fs.type,
      sizeBytes: fs.size,
      availableBytes: fs.available,
      freePercent: (fs.available / fs.size) * 100,
    }))
  const filesystems = all.filter((fs) => mounts.includes(fs.mount))
  const allFound = mounts.every((mount) => filesystems.some((fs) => fs.mount === mount))
  return {filesystems, mountPoints: allFound ? [] : all.map((fs) => fs.mount)}
}

async function readHostFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new OperationError(`cannot read ${path}`, (error as Error).message, {system: 'proc', cause: error})
  }
}

function memory(totalBytes: number, availableBytes: number): HostMemory {
  return {totalBytes, availableBytes, usedPercent: totalBytes > 0 ? ((totalBytes - availableBytes) / totalBytes) * 100 : 0}
}
