import type {XidPolicy} from '../adapters/gpu/kernel-log.js'
import type {GpuContextSettings} from '../core/context-types.js'
import {ConfigError} from '../core/errors.js'

/** GPU health thresholds, per context (`gpu:` in the config) with these defaults (reference/gpu.md §1.6). */
export interface GpuThresholds {
  /** GPUs this host should have; undefined: no count check. */
  expectedGpus?: number
  /** Static fallback when the driver reports no T.Limit headroom and no slowdown temperature, °C. */
  tempWarn: number
  tempCrit: number
  /** T.Limit headroom at or below which, °C: the GPU throttles at 0. */
  tlimitWarn: number
  tlimitCrit: number
  /** Warn this many °C below the slowdown temperature the driver reports (absolute, pre-v13). */
  slowdownMargin: number
  /** Memory used, percent, that counts as nearly full when allocation failures are reported. */
  memFullPercent: number
  /** Seconds: only Xid events this recent count; 0 = the whole boot. */
  xidWindow: number
  xid: XidPolicy
  /** Seconds after which a published node health is stale (`gpu nodes`, `emergency gpu-evacuate`). */
  healthStaleAfter: number
}

export const DEFAULT_GPU_THRESHOLDS: GpuThresholds = {
  tempWarn: 85,
  tempCrit: 95,
  tlimitWarn: 5,
  tlimitCrit: 0,
  slowdownMargin: 5,
  memFullPercent: 95,
  xidWindow: 24 * 3600,
  xid: {},
  healthStaleAfter: 600,
}

export function resolveGpuThresholds(settings: GpuContextSettings | undefined, overrides: Partial<GpuThresholds> = {}): GpuThresholds {
  const defined = <T extends object>(value: T | undefined): Partial<T> =>
    Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>
  const thresholds: GpuThresholds = {...DEFAULT_GPU_THRESHOLDS, ...defined(settings), ...defined(overrides)}
  // No flag sets these: they come from the context (or its defaults), so a bad pair is a config error naming the keys.
  const hint = 'fix the gpu key of the context in the config file (`cimops context show` names it); a key not set takes its default'
  if (thresholds.tempWarn > thresholds.tempCrit) {
    throw new ConfigError('inconsistent GPU temperature thresholds', `gpu.tempWarn ${thresholds.tempWarn}°C must be at most gpu.tempCrit ${thresholds.tempCrit}°C`, {hint})
  }
  if (thresholds.tlimitWarn < thresholds.tlimitCrit) {
    throw new ConfigError('inconsistent GPU T.Limit thresholds', `gpu.tlimitWarn ${thresholds.tlimitWarn}°C of headroom must be at least gpu.tlimitCrit ${thresholds.tlimitCrit}°C`, {hint})
  }
  return thresholds
}
