import {spawn} from 'node:child_process'
import {closeSync, openSync, readFileSync} from 'node:fs'
import {open} from 'node:fs/promises'
import {dirname} from 'node:path'
import type {Writable} from 'node:stream'
import {setTimeout as sleep} from 'node:timers/promises'
import {OperationError} from '../core/errors.js'

/** What identifies a sandbox process on this machine. */
export interface ProcessIdentity {
  name: string
  pid: number
  /** Unique to each sandbox process and on its command line, even behind a wrapper script. */
  configFile: string
}

const KILL_GRACE_MS = 5000
const POLL_MS = 50

/**
 * Start a server in its own process group with stdout and stderr appended to its log file.
 * Detached and unref'd, so it outlives the `cimops sandbox up` that started it. `env`: the
 * environment to start it with; this process's when undefined.
 */
export function spawnDetached(name: string, argv: string[], logFile: string, env?: NodeJS.ProcessEnv): number {
  const [command, ...args] = argv
  if (!command) throw new OperationError(`cannot start ${name}`, 'empty command line')
  const log = openSync(logFile, 'a')
  try {
    const child = spawn(command, args, {cwd: dirname(logFile), detached: true, stdio: ['ignore', log, log], ...(env ? {env} : {})})
    // Spawn failures are also emitted as 'error'; without a listener that would crash the process.
    child.on('error', () => {})
    child.unref()
    if (child.pid === undefined) throw new OperationError(`cannot start ${name}`, `${command} could not be executed`)
    return child.pid
  } finally {
    closeSync(log)
  }
}

/**
 * The watchdog a tied server runs under (`node -e WATCHDOG <argv>`): it starts the server and stops
 * it when its own stdin reaches end of file, which happens when the process holding the other end
 * exits, however it exits (kill -9 included: the kernel closes its pipes). It forwards the signals
 * `terminateProcess` sends and exits when the server does, so the sandbox sees the pair as one process.
 */
const WATCHDOG = `
const {spawn} = require('node:child_process')
const [command, ...args] = process.argv.slice(1)
const server = spawn(command, args, {stdio: ['ignore', 'inherit', 'inherit']})
server.on('error', (error) => { console.error('cannot start ' + command + ': ' + error.message); process.exit(127) })
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)))
const stop = (signal) => { server.kill(signal); setTimeout(() => server.kill('SIGKILL'), 5000).unref() }
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => stop(signal))
process.stdin.on('end', () => stop('SIGTERM'))
process.stdin.on('error', () => stop('SIGTERM'))
process.stdin.resume()
`

/** The write ends of the tied servers' pipes: held (never written) until this process exits. */
const lifelines = new Set<Writable>()

/**
 * Like spawnDetached, but the server dies with this process, also when it is killed with SIGKILL:
 * for throwaway servers (verify --deep, drill) that must never outlive the command that needs them.
 * The pid returned is the watchdog's; its command line holds the server's, so isProcessAlive works.
 */
export function spawnTied(name: string, argv: string[], logFile: string, env?: NodeJS.ProcessEnv): number {
  if (argv.length === 0) throw new OperationError(`cannot start ${name}`, 'empty command line')
  const log = openSync(logFile, 'a')
  try {
    const child = spawn(process.execPath, ['-e', WATCHDOG, ...argv], {cwd: dirname(logFile), detached: true, stdio: ['pipe', log, log], ...(env ? {env} : {})})
    child.on('error', () => {})
    const lifeline = child.stdin!
    lifeline.on('error', () => {})
    // Kept open, but it must not keep this process running.
    ;(lifeline as Writable & {unref?: () => void}).unref?.()
    lifelines.add(lifeline)
    child.on('exit', () => {
      lifelines.delete(lifeline)
      lifeline.destroy()
    })
    child.unref()
    if (child.pid === undefined) throw new OperationError(`cannot start ${name}`, `${process.execPath} could not be executed`)
    return child.pid
  } finally {
    closeSync(log)
  }
}

/**
 * True when the pid exists and, where /proc tells, its command line still names the process's
 * config file: pids are reused, and `down` must never signal a stranger's process group.
 * Zombies have an empty command line, so they count as gone.
 */
export function isProcessAlive(proc: ProcessIdentity): boolean {
  try {
    process.kill(proc.pid, 0)
  } catch {
    return false
  }
  const cmdline = readProcCmdline(proc.pid)
  return cmdline === undefined || cmdline.includes(proc.configFile)
}

function readProcCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch {
    // No /proc (macOS) or the process just went away: kill(0) already answered.
    return undefined
  }
}

/** Signal the process group, wait until it is gone; escalate to SIGKILL after ~5s. */
export async function terminateProcess(proc: ProcessIdentity, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!isProcessAlive(proc)) return
  signalGroup(proc.pid, signal)
  if (await waitUntilGone(proc, KILL_GRACE_MS)) return
  signalGroup(proc.pid, 'SIGKILL')
  if (await waitUntilGone(proc, KILL_GRACE_MS)) return
  throw new OperationError(`cannot stop ${proc.name}`, `pid ${proc.pid} is still running after SIGKILL`)
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

async function waitUntilGone(proc: ProcessIdentity, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isProcessAlive(proc)) return true
    await sleep(POLL_MS)
  }
  return !isProcessAlive(proc)
}

/** The last lines of a log file, for error messages; reads only its tail. */
export async function readLogTail(logFile: string, lines = 8): Promise<string[]> {
  const tailBytes = 8192
  try {
    const file = await open(logFile, 'r')
    try {
      const {size} = await file.stat()
      const start = Math.max(0, size - tailBytes)
      const {buffer, bytesRead} = await file.read(Buffer.alloc(size - start), 0, size - start, start)
      return buffer.subarray(0, bytesRead).toString('utf8').split('\n').filter((line) => line.trim()).slice(-lines)
    } finally {
      await file.close()
    }
  } catch {
    return []
  }
}
