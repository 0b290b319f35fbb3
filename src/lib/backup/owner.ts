/**
 * Who owns something a crash can leave behind (a `.partial` set being written, a throwaway server's temp
 * dir): the process recorded with it, so the next run can tell a live owner, which it must leave alone,
 * from a dead one, whose leftovers it may take over or remove.
 */
import {readFileSync} from 'node:fs'
import {hostname} from 'node:os'

export interface Owner {
  pid: number
  host: string
  /** Linux: the process's start time in clock ticks since boot, so a reused pid is not taken for the owner. */
  startTicks?: string
}

export function currentOwner(): Owner {
  const startTicks = processStartTicks(process.pid)
  return {pid: process.pid, host: hostname(), ...(startTicks ? {startTicks} : {})}
}

/** A record read back from disk, or undefined when it does not name a process. */
export function parseOwner(value: unknown): Owner | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const {pid, host, startTicks} = value as Record<string, unknown>
  if (!Number.isInteger(pid) || (pid as number) <= 0) return undefined
  return {pid: pid as number, host: typeof host === 'string' ? host : hostname(), ...(typeof startTicks === 'string' ? {startTicks} : {})}
}

/**
 * alive: the owner may still be working; dead: it is gone (or its pid now belongs to another process);
 * elsewhere: it ran on another host, which this one cannot look into.
 */
export function ownerState(owner: Owner): 'alive' | 'dead' | 'elsewhere' {
  if (owner.host !== hostname()) return 'elsewhere'
  try {
    process.kill(owner.pid, 0)
  } catch (error) {
    // EPERM: the pid exists but belongs to another user; it is alive.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return 'dead'
  }
  const ticks = processStartTicks(owner.pid)
  if (owner.startTicks && ticks && ticks !== owner.startTicks) return 'dead'
  return 'alive'
}

/** Field 22 of /proc/<pid>/stat (after the command name, which may hold spaces and parentheses); undefined without /proc. */
function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}
