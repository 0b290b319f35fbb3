/**
 * Reads one process's resources from Linux /proc: resident memory (status VmRSS), CPU time (stat utime + stime),
 * open file descriptors (entries of fd/), its name (comm, cmdline); and which process holds a TCP connection
 * (net/tcp, net/tcp6, and the socket links in each fd/). Read-only; needs nothing beyond what /proc lets
 * this user see. The parsers take the files' text, so they are tested on captured output.
 */
import {readdir, readFile, readlink} from 'node:fs/promises'
import {basename} from 'node:path'

import {CimopsError, ExitCode, NotFoundError, OperationError, ParseError} from '../../core/errors.js'
import {runTool, ToolNotFoundError} from './run.js'

const PROC = '/proc'
/** USER_HZ on every Linux architecture cimops runs on; `getconf CLK_TCK` confirms it where getconf exists. */
const DEFAULT_CLOCK_TICKS = 100

export interface ProcStat {
  /** The kernel's one-letter state: R, S, D, Z (zombie: exited, not yet reaped), ... */
  state: string
  /** CPU time in user and kernel mode, in clock ticks. */
  cpuTicks: number
  /** When the process started, in clock ticks after boot. */
  startTicks: number
}

/** One reading of the process's resources. */
export interface ProcSample {
  rssBytes: number
  cpuTicks: number
  startTicks: number
  /** Open file descriptors; undefined when /proc does not let this user list them (another user's process). */
  fds?: number
}

export interface ProcessInfo {
  pid: number
  /** comm: the kernel's name of the process (at most 15 characters). */
  name: string
  /** The command line, arguments joined by spaces (a process that set its title shows that instead). */
  cmdline: string
}

/** /proc refused this user: the process belongs to another user, or /proc is mounted with hidepid. */
export class ProcPermissionError extends CimopsError {
  readonly code = 'PERMISSION'
  /** A check that cannot look is UNKNOWN. */
  readonly exit = ExitCode.UNKNOWN
  constructor(pid: number, file: string) {
    super(`cannot read ${PROC}/${pid}/${file}`, 'permission denied', {hint: "run as the process's user or root", system: 'proc', address: `${PROC}/${pid}`})
  }
}

/** `/proc/<pid>/stat`: the name sits in parentheses and may hold spaces and parentheses itself, so fields count from the last `)`. */
export function parseStat(text: string): ProcStat {
  const close = text.lastIndexOf(')')
  const fields = close === -1 ? [] : text.slice(close + 2).trim().split(/\s+/)
  // fields[0] is field 3 (state) of proc(5): utime is 14, stime 15, starttime 22.
  const [utime, stime, starttime] = [fields[11], fields[12], fields[19]].map(Number)
  if (fields.length < 20 || ![utime, stime, starttime].every(Number.isSafeInteger)) throw new ParseError('unreadable /proc stat', `unexpected text "${text.slice(0, 80)}"`, {system: 'proc'})
  return {state: fields[0], cpuTicks: utime + stime, startTicks: starttime}
}

/** `VmRSS:   123456 kB` of `/proc/<pid>/status`; undefined for a process without memory (a zombie, a kernel thread). */
export function parseStatusRss(text: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text)
  return match ? Number(match[1]) * 1024 : undefined
}

/** Seconds since boot, the first number of `/proc/uptime`. */
export function parseUptime(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s/.exec(text)
  if (!match) throw new ParseError('unreadable /proc/uptime', `unexpected text "${text.slice(0, 80)}"`, {system: 'proc'})
  return Number(match[1])
}

/** `/proc/<pid>/cmdline`: arguments separated (and ended) by NUL. */
export function parseCmdline(text: string): string[] {
  return text.split('\0').filter((arg, i, all) => arg !== '' || i < all.length - 1)
}

/** Whether a process is known by `name`: its comm, or the base name of the program it runs (comm is cut at 15 characters). */
export function processNamed(info: {name: string; argv: string[]}, name: string): boolean {
  return info.name === name || (info.argv.length > 0 && basename(info.argv[0]) === name)
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  // ESRCH: the process went away while its files were read.
  return code === 'ENOENT' || code === 'ESRCH'
}

function isDenied(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'EACCES' || code === 'EPERM'
}

export function noSuchProcess(pid: number): NotFoundError {
  return new NotFoundError(`no process ${pid}`, `${PROC}/${pid} does not exist`, {hint: "it is not running, or runs in another PID namespace, such as a container's", system: 'proc'})
}

async function readProcFile(pid: number, file: string): Promise<string> {
  try {
    return await readFile(`${PROC}/${pid}/${file}`, 'utf8')
  } catch (error) {
    if (isMissing(error)) throw noSuchProcess(pid)
    if (isDenied(error)) throw new ProcPermissionError(pid, file)
    throw new OperationError(`cannot read ${PROC}/${pid}/${file}`, (error as Error).message, {system: 'proc', cause: error})
  }
}

/** NotFoundError when the process is gone (or a zombie: it has exited, only its exit status is left). */
export async function readProcSample(pid: number): Promise<ProcSample> {
  const [stat, status] = await Promise.all([readProcFile(pid, 'stat'), readProcFile(pid, 'status')])
  const parsed = parseStat(stat)
  const rssBytes = parseStatusRss(status)
  if (parsed.state === 'Z' || rssBytes === undefined) throw new NotFoundError(`process ${pid} has exited`, 'only its exit status is left (a zombie)', {system: 'proc'})
  return {rssBytes, cpuTicks: parsed.cpuTicks, startTicks: parsed.startTicks, fds: await countFds(pid)}
}

async function countFds(pid: number): Promise<number | undefined> {
  try {
    return (await readdir(`${PROC}/${pid}/fd`)).length
  } catch (error) {
    if (isDenied(error)) return undefined
    if (isMissing(error)) throw noSuchProcess(pid)
    throw error
  }
}

export async function readUptimeSeconds(): Promise<number> {
  return parseUptime(await readFile(`${PROC}/uptime`, 'utf8'))
}

export async function readProcessInfo(pid: number): Promise<ProcessInfo> {
  const [comm, cmdline] = await Promise.all([readProcFile(pid, 'comm'), readProcFile(pid, 'cmdline')])
  return {pid, name: comm.trim(), cmdline: parseCmdline(cmdline).join(' ').trim()}
}

/** Every live process of this PID namespace that `processNamed` matches, but this one; processes that end while listed are skipped. */
export async function findProcessesNamed(name: string): Promise<ProcessInfo[]> {
  const pids = (await readdir(PROC)).filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => pid !== process.pid)
  const found = await Promise.all(
    pids.map(async (pid) => {
      try {
        const [comm, cmdline] = await Promise.all([readFile(`${PROC}/${pid}/comm`, 'utf8'), readFile(`${PROC}/${pid}/cmdline`, 'utf8')])
        const argv = parseCmdline(cmdline)
        if (!processNamed({name: comm.trim(), argv}, name)) return []
        // A zombie has exited: only its exit status waits for its parent.
        if (parseStat(await readFile(`${PROC}/${pid}/stat`, 'utf8')).state === 'Z') return []
        return [{pid, name: comm.trim(), cmdline: argv.join(' ').trim()}]
      } catch {
        // Gone meanwhile, or hidden from this user: not a candidate.
        return []
      }
    }),
  )
  return found.flat()
}

/** The clock ticks per second that stat's times count in. */
export async function clockTicksPerSecond(signal?: AbortSignal): Promise<number> {
  try {
    const {exitCode, stdout} = await runTool('getconf', ['CLK_TCK'], {timeoutMs: 2000, signal})
    const ticks = Number(stdout.trim())
    return exitCode === 0 && Number.isInteger(ticks) && ticks > 0 ? ticks : DEFAULT_CLOCK_TICKS
  } catch (error) {
    if (error instanceof ToolNotFoundError) return DEFAULT_CLOCK_TICKS
    throw error
  }
}

/** The main PID of a systemd unit; undefined when there is no systemctl, no such unit, or it is not running. */
export async function systemdMainPid(unit: string, signal?: AbortSignal): Promise<number | undefined> {
  try {
    const {exitCode, stdout} = await runTool('systemctl', ['show', '-p', 'MainPID', '--value', '--', unit], {timeoutMs: 5000, signal})
    const pid = Number(stdout.trim())
    return exitCode === 0 && Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch (error) {
    if (error instanceof ToolNotFoundError) return undefined
    throw error
  }
}

export interface TcpSocket {
  localPort: number
  remotePort: number
  /** The kernel's state code: 1 is ESTABLISHED. */
  state: number
  inode: number
}

const ESTABLISHED = 1

/** `/proc/net/tcp` or `tcp6`: one socket a line after the header; addresses are hex `ADDR:PORT`. */
export function parseNetTcp(text: string): TcpSocket[] {
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 10)
    .map((fields) => ({
      localPort: Number.parseInt(fields[1].split(':')[1], 16),
      remotePort: Number.parseInt(fields[2].split(':')[1], 16),
      state: Number.parseInt(fields[3], 16),
      inode: Number(fields[9]),
    }))
}

/**
 * The process on this host holding the established TCP connection from `localPort` to `remotePort`; undefined when
 * there is none, or its process is hidden from this user (another user's sockets need root).
 */
export async function pidOfConnection(localPort: number, remotePort: number): Promise<number | undefined> {
  const tables = await Promise.all(['tcp', 'tcp6'].map((file) => readFile(`${PROC}/net/${file}`, 'utf8').catch(() => '')))
  const socket = tables.flatMap(parseNetTcp).find((s) => s.state === ESTABLISHED && s.localPort === localPort && s.remotePort === remotePort && s.inode > 0)
  if (!socket) return undefined
  const link = `socket:[${socket.inode}]`
  const pids = (await readdir(PROC)).filter((entry) => /^\d+$/.test(entry)).map(Number)
  for (const pid of pids) {
    const fds = await readdir(`${PROC}/${pid}/fd`).catch(() => [])
    for (const fd of fds) {
      if ((await readlink(`${PROC}/${pid}/fd/${fd}`).catch(() => '')) === link) return pid
    }
  }
  return undefined
}
