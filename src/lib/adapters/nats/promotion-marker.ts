/**
 * What `cimops dr promote` leaves on the stream it makes writable, so that `dr status` and the health check can
 * tell a failed-over copy (and a split brain with its old origin) from an unrelated stream on the same subjects.
 * Servers with stream metadata (2.10+) carry it there; 2.9 has none, so the marker goes into the description.
 */

/** The stream (and JetStream domain) a promoted stream was a copy of. */
export interface PromotedFrom {
  stream: string
  /** The origin's JetStream domain; undefined when the origin was in the same domain. */
  domain?: string
  /** When the promotion happened. */
  at?: Date
}

export const PROMOTED_FROM_METADATA = 'io.cimops.dr.promoted-from'
export const PROMOTED_AT_METADATA = 'io.cimops.dr.promoted-at'
const DESCRIPTION_PREFIX = 'cimops: promoted from '

/** `STREAM` or `STREAM@domain`. */
export function formatOrigin(origin: {stream: string; domain?: string}): string {
  return origin.domain ? `${origin.stream}@${origin.domain}` : origin.stream
}

function parseOrigin(text: string, at?: string): PromotedFrom | undefined {
  const match = /^([^\s@]+)(?:@([^\s@]+))?$/.exec(text.trim())
  if (!match?.[1]) return undefined
  const when = at ? new Date(at) : undefined
  return {stream: match[1], ...(match[2] ? {domain: match[2]} : {}), ...(when && !Number.isNaN(when.getTime()) ? {at: when} : {})}
}

/** The marker as metadata entries (servers >= 2.10). */
export function promotionMetadata(origin: PromotedFrom): Record<string, string> {
  return {[PROMOTED_FROM_METADATA]: formatOrigin(origin), ...(origin.at ? {[PROMOTED_AT_METADATA]: origin.at.toISOString()} : {})}
}

/** The marker as a description (servers without metadata): `cimops: promoted from EVENTS@primary at <time>`. */
export function promotionDescription(origin: PromotedFrom): string {
  return `${DESCRIPTION_PREFIX}${formatOrigin(origin)}${origin.at ? ` at ${origin.at.toISOString()}` : ''}`
}

/** Reads the marker from metadata, else from a description cimops wrote; undefined on any other stream. */
export function readPromotionMarker(metadata: Record<string, string> | undefined, description: string | undefined): PromotedFrom | undefined {
  const fromMetadata = metadata?.[PROMOTED_FROM_METADATA]
  if (fromMetadata) return parseOrigin(fromMetadata, metadata?.[PROMOTED_AT_METADATA])
  if (!description?.startsWith(DESCRIPTION_PREFIX)) return undefined
  const [origin = '', at] = description.slice(DESCRIPTION_PREFIX.length).split(' at ')
  return parseOrigin(origin, at)
}
