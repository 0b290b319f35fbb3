/**
 * Runs external programs (nvidia-smi, promtool, amtool, ...) through execa with argument arrays,
 * never a shell string. A non-zero exit is a result, not an error: callers decide what it means.
 */
import {existsSync} from 'node:fs'
import {basename} from 'node:path'
import {constants} from 'node:os'
import {CimopsError, ExitCode, InterruptedError, OperationError, TimeoutError, type ErrorOptions} from '../../core/errors.js'

export interface RunOptions {
  timeoutMs: number
  /** Added to the inherited environment. */
  env?: Record<string, string>
  cwd?: string
  /** Aborting it stops the program and throws InterruptedError. */
  signal?: AbortSignal
  /** Written to the program's stdin; without it stdin is closed. */
  input?: string
}

export interface RunResult {
  /** The program's exit code, or 128 + signal number when a signal not sent by cimops killed it (shell convention). */
  exitCode: number
  stdout: string
  stderr: string
  durationMs: number
}

/** The program is not installed or not on PATH. */
export class ToolNotFoundError extends CimopsError {
  readonly code = 'NOT_INSTALLED'
  readonly exit = ExitCode.UNAVAILABLE
  constructor(program: string, searchPath: string | undefined, options: Omit<ErrorOptions, 'system'> = {}) {
    const where = program.includes('/') ? `no such file ${program}` : `not found on PATH (${searchPath ?? ''})`
    super(`${basename(program)} is not installed`, where, {hint: 'install it or add its directory to PATH', ...options, system: basename(program)})
  }
}

/** Programs run on this machine; named as the address in errors. */
const LOCAL = 'localhost'
/** After SIGTERM on timeout or abort, SIGKILL follows this soon so a wedged program cannot hang the CLI. */
const FORCE_KILL_AFTER_MS = 2000

export async function runTool(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const {execa} = await import('execa')
  const program = basename(file)
  const result = await execa(file, args, {
    reject: false,
    timeout: options.timeoutMs,
    forceKillAfterDelay: FORCE_KILL_AFTER_MS,
    cancelSignal: options.signal,
    env: options.env,
    cwd: options.cwd,
    ...(options.input === undefined ? {stdin: 'ignore' as const} : {input: options.input}),
  })
  if (result.code === 'ENOENT') {
    // spawn says ENOENT for a missing working directory too.
    if (options.cwd && !existsSync(options.cwd)) {
      throw new OperationError(`cannot run ${program}`, `working directory ${options.cwd} does not exist`, {system: program, address: LOCAL})
    }
    throw new ToolNotFoundError(file, options.env?.PATH ?? process.env.PATH)
  }
  if (result.timedOut) throw new TimeoutError(program, LOCAL, options.timeoutMs)
  if (result.isCanceled) throw new InterruptedError(`${program} stopped`, {system: program, address: LOCAL})
  const exitCode = result.exitCode ?? signalExitCode(result.signal)
  if (exitCode === undefined) {
    // Spawn failed for another reason (EACCES, ...); the code alone, since the command line may hold secrets.
    throw new OperationError(`cannot run ${program}`, String(result.code ?? 'spawn failed'), {system: program, address: LOCAL})
  }
  return {exitCode, stdout: String(result.stdout), stderr: String(result.stderr), durationMs: Math.round(result.durationMs)}
}

function signalExitCode(signal: string | undefined): number | undefined {
  const number = signal ? constants.signals[signal as keyof typeof constants.signals] : undefined
  return number === undefined ? undefined : 128 + number
}
