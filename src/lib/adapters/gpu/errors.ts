import {CimopsError, ExitCode} from '../../core/errors.js'

/**
 * Why a GPU tool (nvidia-smi, powermetrics) gave no usable answer as a whole.
 * A single unreadable GPU inside an otherwise good answer is not one of these: it is a failed GPU in the data.
 */
export type GpuToolFailure =
  | 'driver-not-loaded'
  | 'no-devices'
  | 'version-mismatch'
  | 'fallen-off-bus'
  | 'permission'
  | 'invalid-field'
  | 'unknown'

/** The GPU or its driver is unusable: the component a command needs is unavailable. */
const UNAVAILABLE_KINDS: ReadonlySet<GpuToolFailure> = new Set(['driver-not-loaded', 'no-devices', 'version-mismatch', 'fallen-off-bus'])

export interface GpuToolErrorOptions {
  hint?: string
  /** The tool's exit code, when it ran. */
  exitCode?: number
}

export class GpuToolError extends CimopsError {
  readonly code = 'GPU_TOOL'
  readonly exit: number
  readonly kind: GpuToolFailure
  readonly exitCode?: number

  constructor(kind: GpuToolFailure, tool: string, why: string, options: GpuToolErrorOptions = {}) {
    super(`${tool} failed`, why, {hint: options.hint, system: tool, address: 'localhost'})
    this.kind = kind
    this.exitCode = options.exitCode
    this.exit = UNAVAILABLE_KINDS.has(kind) ? ExitCode.UNAVAILABLE : ExitCode.FAILED
  }
}
