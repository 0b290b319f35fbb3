/**
 * Apple Silicon GPU through macOS `powermetrics` (reference/gpu.md §2): busy %, frequency, power and the
 * system's thermal pressure. It needs root and reports no temperature or memory errors.
 */
import {ParseError} from '../../core/errors.js'
import {runTool} from '../proc/run.js'
import {GpuToolError} from './errors.js'
import {parsePlist, type PlistDict, type PlistValue} from './plist.js'

export interface PowermetricsSample {
  /** e.g. `MacBookPro17,1`, `Mac14,14`. */
  hwModel?: string
  /** 1 - gpu.idle_ratio, as a percentage. */
  gpuBusyPercent: number
  gpuFrequencyMhz: number
  /** Average over the sample, milliwatts. */
  gpuPowerMw?: number
  /** `Nominal` when all is well; other levels depend on the macOS version (Fair, Serious, Critical, Moderate, Heavy...). */
  thermalPressure: string
}

export interface SampleOptions {
  timeoutMs: number
  signal?: AbortSignal
  /** Path of powermetrics; default the system one. */
  binary?: string
}

export const POWERMETRICS_PATH = '/usr/bin/powermetrics'

/** Takes one sample. The interval is at most 1 s (the default is 5 s) and half the budget, so it returns in time. */
export async function samplePowermetrics(options: SampleOptions): Promise<PowermetricsSample> {
  const intervalMs = Math.max(100, Math.min(1000, Math.floor(options.timeoutMs / 2)))
  const args = ['--samplers', 'gpu_power,thermal', '-f', 'plist', '-n', '1', '-i', String(intervalMs)]
  const result = await runTool(options.binary ?? POWERMETRICS_PATH, args, {timeoutMs: options.timeoutMs, signal: options.signal})
  if (result.exitCode !== 0) {
    const output = `${result.stderr}\n${result.stdout}`
    // It refuses to run without root ("must be invoked as the superuser"); a non-root failure is that in practice.
    if (/superuser|must be run as root|permission|not permitted/i.test(output) || process.geteuid?.() !== 0) {
      throw new GpuToolError('permission', 'powermetrics', 'it must run as root', {
        hint: 'run with sudo, e.g. `sudo cimops health-check`',
        exitCode: result.exitCode,
      })
    }
    const firstLine = output.split('\n').find((line) => line.trim() !== '')?.trim().slice(0, 200) ?? 'no output'
    throw new GpuToolError('unknown', 'powermetrics', `exit code ${result.exitCode}: ${firstLine}`, {exitCode: result.exitCode})
  }
  return parsePowermetricsPlist(result.stdout)
}

/**
 * Reads powermetrics `-f plist` output. Samples are separated by NUL; the last complete one wins, so a sample
 * cut short at the end of the stream falls back to the one before.
 */
export function parsePowermetricsPlist(text: string): PowermetricsSample {
  const samples = text.split('\0').filter((chunk) => chunk.trim() !== '')
  if (samples.length === 0) throw parseError('the output holds no sample')
  let lastError: unknown
  for (const sample of samples.reverse()) {
    let root: PlistValue
    try {
      root = parsePlist(sample)
    } catch (error) {
      lastError ??= error
      continue
    }
    return readSample(root)
  }
  throw lastError
}

function readSample(root: PlistValue): PowermetricsSample {
  const top = asDict(root) ?? parseFail('the sample is not a dictionary')
  const gpu = asDict(top.gpu) ?? parseFail('the sample has no gpu section (is this an Apple Silicon Mac?)')
  const idleRatio = finite(gpu.idle_ratio) ?? parseFail('gpu.idle_ratio is missing')
  // The key says Hz but the GPU's value is in MHz (the CPU clusters' freq_hz really is Hz).
  const gpuFrequencyMhz = finite(gpu.freq_hz) ?? parseFail('gpu.freq_hz is missing')
  const thermalPressure = typeof top.thermal_pressure === 'string' ? top.thermal_pressure : parseFail('thermal_pressure is missing')
  return {
    hwModel: typeof top.hw_model === 'string' ? top.hw_model : undefined,
    gpuBusyPercent: Math.round((1 - idleRatio) * 10_000) / 100,
    gpuFrequencyMhz,
    gpuPowerMw: gpuPowerMw(top, gpu),
    thermalPressure,
  }
}

/** processor.gpu_power when the cpu_power sampler ran; otherwise gpu.gpu_energy (mJ) over the sample's length. */
function gpuPowerMw(top: PlistDict, gpu: PlistDict): number | undefined {
  const reported = finite(asDict(top.processor)?.gpu_power)
  if (reported !== undefined) return reported
  const energyMj = finite(gpu.gpu_energy)
  const elapsedNs = finite(top.elapsed_ns)
  return energyMj !== undefined && elapsedNs ? energyMj / (elapsedNs / 1e9) : undefined
}

function asDict(value: PlistValue | undefined): PlistDict | undefined {
  return typeof value === 'object' && !Array.isArray(value) ? value : undefined
}

function finite(value: PlistValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

function parseError(why: string): ParseError {
  return new ParseError('cannot read powermetrics output', why, {system: 'powermetrics'})
}

function parseFail(why: string): never {
  throw parseError(why)
}
