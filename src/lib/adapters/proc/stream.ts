/**
 * Runs a program through execa and hands its output over line by line as it comes (runbook steps).
 * The program gets its own process group, so a timeout or Ctrl-C stops the whole tree it started
 * (`bash -c 'sleep 600'` included), not just its first process. Like runTool, a non-zero exit is a
 * result, never an error; only "could not start it at all" throws.
 */
import {existsSync} from 'node:fs'
import {constants} from 'node:os'
import {basename} from 'node:path'
import {createInterface} from 'node:readline'
import type {Readable} from 'node:stream'

import {OperationError} from '../../core/errors.js'
import {ToolNotFoundError} from './run.js'

export type OutputStream = 'stdout' | 'stderr'

export interface StreamOptions {
  /** Added to the inherited environment. */
  env?: Record<string, string>
  cwd?: string
  /** Stop the program after this long (the whole process group: SIGTERM, then SIGKILL). */
  timeoutMs?: number
  /** Aborting it stops the program the same way. */
  signal?: AbortSignal
  /** One call per complete line (without the newline), in the order each stream produced them. */
  onLine: (stream: OutputStream, line: string) => void
}

export interface StreamResult {
  /** The exit code; 128 + n when signal n killed it; null when cimops stopped it (timedOut or canceled). */
  exitCode: number | null
  timedOut: boolean
  canceled: boolean
  durationMs: number
}

/** After SIGTERM, SIGKILL follows this soon, so a program ignoring SIGTERM cannot hang the run. */
export const FORCE_KILL_AFTER_MS = 2000

export async function runStreaming(file: string, args: readonly string[], options: StreamOptions): Promise<StreamResult> {
  const {execa} = await import('execa')
  const started = performance.now()
  if (options.cwd && !existsSync(options.cwd)) {
    throw new OperationError(`cannot run ${basename(file)}`, `working directory ${options.cwd} does not exist`, {system: basename(file), address: 'localhost'})
  }
  const child = execa(file, args, {
    reject: false,
    buffer: false,
    stdin: 'ignore',
    env: options.env,
    cwd: options.cwd,
    // Its own process group: kill(-pid) reaches every process the step started.
    detached: true,
    // execa's own kill-on-exit covers the group leader if cimops itself dies.
    cleanup: true,
  })

  let timedOut = false
  let canceled = false
  let killTimer: NodeJS.Timeout | undefined
  const stopGroup = () => {
    signalGroup(child.pid, 'SIGTERM')
    killTimer ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), FORCE_KILL_AFTER_MS)
    killTimer.unref()
  }
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true
          stopGroup()
        }, options.timeoutMs)
  const onAbort = () => {
    canceled = true
    stopGroup()
  }
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort, {once: true})

  // Whatever the step left running in its group (a background `&` job) would keep the pipes open: it goes when the step ends.
  child.once('exit', () => {
    signalGroup(child.pid, 'SIGTERM')
    killTimer ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), FORCE_KILL_AFTER_MS)
    killTimer.unref()
  })
  const lines = Promise.all([readLines(child.stdout, 'stdout', options.onLine), readLines(child.stderr, 'stderr', options.onLine)])
  try {
    const result = await child
    await lines
    if (result.code === 'ENOENT') throw new ToolNotFoundError(file, options.env?.PATH ?? process.env.PATH)
    const durationMs = Math.round(performance.now() - started)
    if (timedOut || canceled) return {exitCode: null, timedOut, canceled: canceled && !timedOut, durationMs}
    const exitCode = result.exitCode ?? signalExitCode(result.signal)
    if (exitCode === undefined) throw new OperationError(`cannot run ${basename(file)}`, String(result.code ?? 'spawn failed'), {system: basename(file), address: 'localhost'})
    return {exitCode, timedOut: false, canceled: false, durationMs}
  } finally {
    if (timer) clearTimeout(timer)
    if (killTimer) clearTimeout(killTimer)
    options.signal?.removeEventListener('abort', onAbort)
  }
}

async function readLines(stream: Readable | null | undefined, name: OutputStream, onLine: StreamOptions['onLine']): Promise<void> {
  if (!stream) return
  const reader = createInterface({input: stream, crlfDelay: Number.POSITIVE_INFINITY})
  for await (const line of reader) onLine(name, line)
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is gone already.
  }
}

function signalExitCode(signal: string | undefined): number | undefined {
  const number = signal ? constants.signals[signal as keyof typeof constants.signals] : undefined
  return number === undefined ? undefined : 128 + number
}
