/**
 * Typed errors and the exit-code contract (DESIGN.md "Exit codes").
 * Every error carries what failed, why, and a hint; adapters add which system and address.
 * The base command turns them into one stderr line or `{"error": {...}}` under --json.
 */

export const ExitCode = {
  OK: 0,
  WARNING: 1,
  CRITICAL: 2,
  /** Non-check commands: the operation failed. */
  FAILED: 2,
  UNKNOWN: 3,
  USAGE: 64,
  DATA: 65,
  UNAVAILABLE: 69,
  TIMEOUT: 75,
  CONFIG: 78,
  INTERRUPTED: 130,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export interface ErrorOptions {
  hint?: string
  cause?: unknown
  /** The external system involved: nats, prometheus, alertmanager, nvidia-smi, ... */
  system?: string
  /** Address or endpoint of that system. */
  address?: string
}

export abstract class CimopsError extends Error {
  abstract readonly code: string
  abstract readonly exit: number
  readonly what: string
  readonly why: string
  readonly hint?: string
  readonly system?: string
  readonly address?: string

  constructor(what: string, why: string, options: ErrorOptions = {}) {
    super(`${what}: ${why}`, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.what = what
    this.why = why
    this.hint = options.hint
    this.system = options.system
    this.address = options.address
  }

  /** `<what failed>: <why> (<hint>)` — the one line printed after `cimops: `. */
  get line(): string {
    return this.hint ? `${this.what}: ${this.why} (${this.hint})` : `${this.what}: ${this.why}`
  }
}

/** Bad flag, argument or combination of them. */
export class UsageError extends CimopsError {
  readonly code = 'USAGE'
  readonly exit = ExitCode.USAGE
}

/** Bad input data: a corrupt backup, a malformed runbook or file. */
export class DataError extends CimopsError {
  readonly code = 'BAD_DATA'
  readonly exit = ExitCode.DATA
}

/** A response or program output that does not have the documented shape. */
export class ParseError extends CimopsError {
  readonly code = 'PARSE'
  readonly exit = ExitCode.DATA
}

/** Configuration file or context problem. */
export class ConfigError extends CimopsError {
  readonly code = 'CONFIG'
  readonly exit = ExitCode.CONFIG
}

/** A service the command needs cannot be reached. */
export class UnreachableError extends CimopsError {
  readonly code = 'UNREACHABLE'
  readonly exit = ExitCode.UNAVAILABLE
  constructor(system: string, address: string, why: string, options: Omit<ErrorOptions, 'system' | 'address'> = {}) {
    super(`cannot reach ${system} at ${address}`, why, {
      hint: 'is it running? start a local one with `cimops sandbox up`, or pick another with --context',
      ...options,
      system,
      address,
    })
  }
}

/** A call took longer than its timeout; safe to retry. */
export class TimeoutError extends CimopsError {
  readonly code = 'TIMEOUT'
  readonly exit = ExitCode.TIMEOUT
  constructor(system: string, address: string, timeoutMs: number, options: Omit<ErrorOptions, 'system' | 'address'> = {}) {
    super(`${system} at ${address} did not answer`, `timed out after ${formatMs(timeoutMs)}`, {
      hint: 'safe to retry; raise --timeout if the service is slow',
      ...options,
      system,
      address,
    })
  }
}

/** The service answered with an error. */
export class ApiError extends CimopsError {
  readonly code = 'API'
  readonly exit = ExitCode.FAILED
  readonly status?: number
  constructor(system: string, address: string, why: string, options: Omit<ErrorOptions, 'system' | 'address'> & {status?: number} = {}) {
    super(`${system} at ${address} refused the request`, why, {...options, system, address})
    this.status = options.status
  }
}

/** The stream, consumer, incident, ... named does not exist. In a check it is CRITICAL: the thing watched is missing. */
export class NotFoundError extends CimopsError {
  readonly code = 'NOT_FOUND'
  readonly exit = ExitCode.FAILED
}

/** The operation itself failed (non-check commands). */
export class OperationError extends CimopsError {
  readonly code = 'FAILED'
  readonly exit = ExitCode.FAILED
}

/** Ctrl-C or SIGTERM. */
export class InterruptedError extends CimopsError {
  readonly code = 'INTERRUPTED'
  readonly exit = ExitCode.INTERRUPTED
  constructor(what = 'interrupted', options: ErrorOptions = {}) {
    super(what, 'stopped by signal', {hint: 'partial work is left resumable; run the command again to continue', ...options})
  }
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${+(ms / 1000).toFixed(2)}s`
}

export function isCimopsError(error: unknown): error is CimopsError {
  return error instanceof CimopsError
}
