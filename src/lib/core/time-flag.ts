import {parseDuration} from './duration.js'
import {UsageError} from './errors.js'

/**
 * --since/--until: a duration back from now (`90s`, `2h`, `1d`) or an RFC 3339 time with a zone (its
 * date and time apart by `T` or, as RFC 3339 allows, a space). A bare date is refused: midnight in
 * which zone?
 */
export function parseTimeFlag(flag: string, text: string, now: Date): Date {
  const trimmed = text.trim()
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const time = Date.parse(trimmed.replace(' ', 'T'))
    if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/i.test(trimmed) || !/(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed)) {
      throw new UsageError(`invalid ${flag} "${text}"`, 'expected an RFC 3339 time with a zone, such as 2026-11-22T03:00:00Z, or a duration back from now such as 2h')
    }
    return new Date(time)
  }
  return new Date(now.getTime() - parseDuration(text, flag))
}
