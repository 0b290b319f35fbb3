import {parseDuration} from './duration.js'
import {UsageError} from './errors.js'

/** --since/--until: a duration back from now (`90s`, `2h`, `1d`) or an RFC 3339 time with a zone. */
export function parseTimeFlag(flag: string, text: string, now: Date): Date {
  if (/^\d{4}-\d{2}-\d{2}T/.test(text.trim())) {
    const time = Date.parse(text)
    if (Number.isNaN(time) || !/(Z|[+-]\d{2}:?\d{2})$/i.test(text.trim())) {
      throw new UsageError(`invalid ${flag} "${text}"`, 'expected an RFC 3339 time with a zone, such as 2026-11-22T03:00:00Z, or a duration back from now such as 2h')
    }
    return new Date(time)
  }
  return new Date(now.getTime() - parseDuration(text, flag))
}
