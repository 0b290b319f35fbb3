import {Flags} from '@oclif/core'

import {MAX_TIMER_MS, parseDuration} from '../lib/core/duration.js'
import {UsageError} from '../lib/core/errors.js'

/**
 * The drain deadline of `gpu evacuate` and `emergency gpu-evacuate`. It was --timeout, which elsewhere is the
 * per-call network timeout; --timeout stays accepted here (hidden) with its old meaning so scripts keep working.
 */
export function drainTimeoutFlags(summary: string) {
  return {
    'drain-timeout': Flags.string({summary: `${summary} [default: 10m]`}),
    // Exclusive on this side only, so the usage line does not name a hidden flag.
    timeout: Flags.string({hidden: true, summary: 'Deprecated name of --drain-timeout.', exclusive: ['drain-timeout']}),
  }
}

/** The deadline in ms; `note` gets the deprecation line when the old --timeout was used. */
export function drainTimeoutMs(flags: {'drain-timeout'?: string; timeout?: string}, note: (line: string) => void): number {
  const flag = flags['drain-timeout'] === undefined && flags.timeout !== undefined ? '--timeout' : '--drain-timeout'
  if (flag === '--timeout') note('cimops: warning: --timeout here is the drain deadline, now named --drain-timeout; use that (--timeout will mean the per-call network timeout as everywhere else)')
  const text = flags['drain-timeout'] ?? flags.timeout ?? '10m'
  const ms = parseDuration(text, flag, {max: MAX_TIMER_MS})
  if (ms <= 0) throw new UsageError(`invalid ${flag} "${text}"`, 'must be greater than zero')
  return ms
}
