import type {Thresholds} from '../core/context-types.js'
import {parseDuration} from '../core/duration.js'
import {UsageError} from '../core/errors.js'
import type {ConsumerThresholds} from './lag.js'

export interface ThresholdFlags {
  lagWarn?: string
  lagCrit?: string
  pendingWarn?: string
  pendingCrit?: string
  stallAfter?: string
}

/** Flags win over the context's thresholds; pending thresholds are off unless given. */
export function consumerThresholds(context: Thresholds, flags: ThresholdFlags): ConsumerThresholds {
  const seconds = (flag: string, value: string | undefined, fallback: number) => (value === undefined ? fallback : parseDuration(value, `--${flag}`) / 1000)
  const count = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined
    if (!/^\d+$/.test(value.trim())) throw new UsageError(`invalid --${flag} "${value}"`, 'expected a whole number of events')
    return Number(value)
  }
  const thresholds: ConsumerThresholds = {
    lagWarn: seconds('lag-warn', flags.lagWarn, context.lagWarn),
    lagCrit: seconds('lag-crit', flags.lagCrit, context.lagCrit),
    stallAfter: seconds('stall-after', flags.stallAfter, context.stallAfter),
    ...withDefined({pendingWarn: count('pending-warn', flags.pendingWarn), pendingCrit: count('pending-crit', flags.pendingCrit)}),
  }
  if (thresholds.lagWarn > thresholds.lagCrit) {
    throw new UsageError('inconsistent --lag-warn/--lag-crit', `warning ${thresholds.lagWarn}s must be at most critical ${thresholds.lagCrit}s`)
  }
  if (thresholds.pendingWarn !== undefined && thresholds.pendingCrit !== undefined && thresholds.pendingWarn > thresholds.pendingCrit) {
    throw new UsageError('inconsistent --pending-warn/--pending-crit', `warning ${thresholds.pendingWarn} must be at most critical ${thresholds.pendingCrit}`)
  }
  return thresholds
}

function withDefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
