import {cpus, loadavg} from 'node:os'

/**
 * Host resources through systeminformation (lazy: it is large). CPU load comes from the kernel's
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
  availableBytes: number
  freePercent: number
}

export function hostLoad(): HostLoad {
  const cores = Math.max(1, cpus().length)
  const load1 = loadavg()[0]
  return {load1, cores, perCore: load1 / cores}
}

export async function hostMemory(): Promise<HostMemory> {
  const si = await import('systeminformation')
  const mem = await si.mem()
  const available = mem.available || mem.free
  return {totalBytes: mem.total, availableBytes: available, usedPercent: mem.total > 0 ? ((mem.total - available) / mem.total) * 100 : 0}
}

export async function filesystems(): Promise<Filesystem[]> {
  const si = await import('systeminformation')
  const list = await si.fsSize()
  return list
    .filter((fs) => fs.size > 0)
    .map((fs) => ({
      mount: fs.mount,
      device: fs.fs,
      type: fs.type,
      sizeBytes: fs.size,
      availableBytes: fs.available,
      freePercent: (fs.available / fs.size) * 100,
    }))
}
