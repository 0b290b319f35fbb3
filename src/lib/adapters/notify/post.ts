/**
 * One JSON POST to a notifier endpoint (PagerDuty Events API, Slack webhook). The endpoint URL may
 * itself be the secret (a Slack webhook's path is its key), so errors name a display address chosen
 * by the caller, and the axios error (whose config holds the URL and body) is never attached.
 */
import {ParseError, TimeoutError, UnreachableError} from '../../core/errors.js'
import {NotifierHttpError} from './retry.js'
import {UNREACHABLE_REASONS} from '../network-errors.js'
import {tooLarge} from '../http.js'

export interface NotifierTarget {
  /** Named in errors: 'pagerduty', 'slack'. */
  system: string
  /** Where the request goes; may contain a secret. */
  url: string
  /** Safe to show. */
  address: string
}

export interface PostResult {
  status: number
  body: string
  /** The media type without parameters, lower case; '' when the server sent none. */
  contentType: string
}

const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED'])
const MAX_BODY_CHARS = 200
/** PagerDuty and Slack answer with a few bytes of JSON or text; a long body is not theirs. */
const MAX_RESPONSE_BYTES = 64 * 1024
/** Retry-After beyond this is not worth waiting for in a CLI: the bounded retry gives up instead. */
const MAX_RETRY_AFTER_MS = 60_000

export async function postJson(target: NotifierTarget, body: unknown, timeoutMs: number): Promise<PostResult> {
  const {default: axios} = await import('axios')
  let response
  try {
    response = await axios.post<string>(target.url, body, {
      timeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
      headers: {'Content-Type': 'application/json', 'User-Agent': 'cimops'},
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      maxContentLength: MAX_RESPONSE_BYTES,
    })
  } catch (error) {
    if (isTooLarge(error)) throw tooLarge(target.system, target.address, MAX_RESPONSE_BYTES)
    const code = (error as {code?: string}).code ?? ''
    if (TIMEOUT_CODES.has(code)) throw new TimeoutError(target.system, target.address, timeoutMs)
    const reason = UNREACHABLE_REASONS[code]
    // Never the message as is: some carry the URL.
    const why = reason ? `${reason} (${code})` : `request failed${code ? ` (${code})` : ''}`
    throw new UnreachableError(target.system, target.address, why, {hint: 'check the notifier URL and the network'})
  }
  const text = typeof response.data === 'string' ? response.data : ''
  const contentType = String(response.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
  if (response.status >= 200 && response.status < 300) return {status: response.status, body: text, contentType}
  throw new NotifierHttpError(target.system, target.address, `HTTP ${response.status}${text.trim() ? `: ${oneLine(text)}` : ''}`, {
    status: response.status,
    retryAfterMs: retryAfter(response.headers['retry-after']),
  })
}

/**
 * A 2xx answer that is not the endpoint's documented success (a proxy's login page answers 200 text/html):
 * the message was not delivered. Not retried: the same request gets the same page.
 */
export function unexpectedAnswer(target: NotifierTarget, result: PostResult, expected: string): ParseError {
  const body = result.body.trim() ? `: ${oneLine(result.body)}` : ' with an empty body'
  return new ParseError(`unexpected answer from ${target.system} at ${target.address}`, `HTTP ${result.status} ${result.contentType || 'without a content type'}${body}, expected ${expected}`, {
    system: target.system,
    address: target.address,
    hint: 'is the URL a proxy or login page rather than the service itself?',
  })
}

/** Seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > MAX_BODY_CHARS ? `${flat.slice(0, MAX_BODY_CHARS)}…` : flat
}

/** axios's own words for a body over maxContentLength (no code of its own: ERR_BAD_RESPONSE). */
function isTooLarge(error: unknown): boolean {
  return typeof error === 'object' && error !== null && /^maxContentLength size of \d+ exceeded$/.test(String((error as {message?: unknown}).message))
}
