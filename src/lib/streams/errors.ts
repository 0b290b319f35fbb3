import {NotFoundError} from '../core/errors.js'

export {NotFoundError} from '../core/errors.js'

export function streamNotFound(name: string, existing: string[]): NotFoundError {
  const why = existing.length === 0 ? 'there are no streams on this server' : `the streams are ${existing.join(', ')}`
  return new NotFoundError(`stream ${name} not found`, why, {hint: 'names are case-sensitive; `cimops stream list` shows them all'})
}

export function consumerNotFound(stream: string, name: string, existing: string[]): NotFoundError {
  const why = existing.length === 0 ? `stream ${stream} has no consumers` : `the consumers of ${stream} are ${existing.join(', ')}`
  return new NotFoundError(`consumer ${name} not found on stream ${stream}`, why, {hint: `\`cimops consumer report ${stream}\` shows them all`})
}
