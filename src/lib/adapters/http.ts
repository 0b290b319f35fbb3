/**
 * The HTTP transport shared by the Prometheus and Alertmanager adapters: Node's own http/https
 * modules (a health check pays ~15 ms to load them where axios cost ~200 ms, issue 22), a deadline
 * on the whole call, a cap on every body, zod-validated JSON, and failures turned into the typed
 * errors of core/errors.ts naming the system and the endpoint. Requests go straight to the server:
 * HTTP(S)_PROXY is not consulted for these in-network services.
 */
import {readFileSync} from 'node:fs'
import type {IncomingHttpHeaders, IncomingMessage, RequestOptions} from 'node:http'
import type {ZodType} from 'zod'
import {ApiError, ConfigError, ParseError, TimeoutError, UnreachableError} from '../core/errors.js'
import {formatBytes} from '../core/output/units.js'
import {stripUserinfo} from './redact.js'
import {UNREACHABLE_REASONS} from './network-errors.js'

export interface HttpClientOptions {
  /** Named in every error: 'prometheus', 'alertmanager', ... */
  system: string
  /** May carry a path prefix (`--web.route-prefix`) and `user:pass@` for basic auth. */
  baseUrl: string
  timeoutMs: number
  bearerTokenFile?: string
  headers?: Record<string, string>
}

/** A body larger than this is refused, not buffered: what one answer of the endpoint may sensibly hold. */
export interface ReadLimit {
  maxBytes?: number
}

/** Arrays become repeated parameters (`filter=a&filter=b`); undefined values are left out. */
export type QueryParams = Record<string, string | number | boolean | readonly string[] | undefined>

export interface HttpClient {
  /** The base URL without userinfo: safe to display. */
  readonly baseUrl: string
  /** The displayable address of one endpoint, as used in errors. */
  endpoint(path: string): string
  getJson<T>(path: string, schema: ZodType<T>, params?: QueryParams, limit?: ReadLimit): Promise<T>
  /** Without a schema: the answer's body as text, for the caller to check. */
  postJson(path: string, body: unknown): Promise<string>
  postJson<T>(path: string, body: unknown, schema: ZodType<T>): Promise<T>
  getText(path: string, limit?: ReadLimit): Promise<string>
  delete(path: string): Promise<void>
}

const MAX_MESSAGE_CHARS = 300
const MAX_ISSUES = 3
/** Default cap of a response body: lists of alerts or silences, rules, targets. A 2 GiB body once took Node down (issue 15). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024
/** A GET follows this many redirects (a proxy in front adding a slash); other methods follow none. */
const MAX_REDIRECTS = 5

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const requestUrl = validBaseUrl(options)
  const baseUrl = stripUserinfo(requestUrl)
  const headers = {...options.headers, ...bearerHeader(options)}
  const endpoint = (path: string) => baseUrl + path

  async function send(method: string, path: string, {params, body}: {params?: QueryParams; body?: unknown} = {}, {maxBytes = MAX_RESPONSE_BYTES}: ReadLimit = {}): Promise<string> {
    const query = toSearchParams(params).toString()
    const url = new URL(requestUrl + path + (query ? `?${query}` : ''))
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const requestHeaders = {...headers, Accept: 'application/json, text/plain, */*', ...(payload === undefined ? {} : {'Content-Type': 'application/json'})}
    let response: RawResponse
    try {
      response = await request(url, {method, headers: requestHeaders, body: payload, timeoutMs: options.timeoutMs, maxBytes})
    } catch (error) {
      throw toTypedError(error, options.system, endpoint(path), options.timeoutMs, maxBytes)
    }
    if (response.status < 200 || response.status >= 300) {
      throw new ApiError(options.system, endpoint(path), `HTTP ${response.status}: ${serverMessage(response.body) || response.statusText || 'no message'}`, {status: response.status})
    }
    return response.body
  }

  function parse<T>(path: string, text: string, schema: ZodType<T>): T {
    return validate(schema, parseJson(text, options.system, endpoint(path)), options.system, endpoint(path))
  }

  async function postJson<T>(path: string, body: unknown, schema?: ZodType<T>): Promise<T | string> {
    const text = await send('POST', path, {body})
    return schema ? parse(path, text, schema) : text
  }

  return {
    baseUrl,
    endpoint,
    async getJson<T>(path: string, schema: ZodType<T>, params?: QueryParams, limit?: ReadLimit): Promise<T> {
      return parse(path, await send('GET', path, {params}, limit), schema)
    },
    postJson: postJson as HttpClient['postJson'],
    getText(path: string, limit?: ReadLimit): Promise<string> {
      return send('GET', path, {}, limit)
    },
    async delete(path: string): Promise<void> {
      await send('DELETE', path)
    },
  }
}

/** Checks a response body against a schema; shared so callers that parse twice report alike. */
export function validate<T>(schema: ZodType<T>, value: unknown, system: string, address: string): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issues = result.error.issues
    .slice(0, MAX_ISSUES)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
  const more = result.error.issues.length > MAX_ISSUES ? ` (+${result.error.issues.length - MAX_ISSUES} more)` : ''
  throw new ParseError(`unexpected response from ${system} at ${address}`, issues.join('; ') + more, {system, address})
}

function validBaseUrl({system, baseUrl}: HttpClientOptions): string {
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    throw new ConfigError(`invalid ${system} URL "${stripUserinfo(baseUrl)}"`, 'expected an absolute http(s) URL such as http://127.0.0.1:9090')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`invalid ${system} URL "${stripUserinfo(baseUrl)}"`, `unsupported scheme ${url.protocol}, expected http or https`)
  }
  return baseUrl.replace(/\/+$/, '')
}

/** Read once per client, so a rotated token is picked up by the next command without a restart. */
function bearerHeader({system, bearerTokenFile}: HttpClientOptions): Record<string, string> {
  if (!bearerTokenFile) return {}
  let token: string
  try {
    token = readFileSync(bearerTokenFile, 'utf8').trim()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new ConfigError(`cannot read the ${system} bearer token file ${bearerTokenFile}`, code, {hint: 'check bearerTokenFile in the context'})
  }
  if (token === '') {
    throw new ConfigError(`the ${system} bearer token file ${bearerTokenFile} is empty`, 'expected a token', {hint: 'check bearerTokenFile in the context'})
  }
  return {Authorization: `Bearer ${token}`}
}

interface RawResponse {
  status: number
  statusText: string
  headers: IncomingHttpHeaders
  /** Bodies stay text so non-JSON error pages (Prometheus's pre-ready 503) can be reported verbatim. */
  body: string
}

interface RawRequest {
  method: string
  headers: Record<string, string>
  body?: string
  timeoutMs: number
  maxBytes: number
}

/** The whole call (connect, headers, body, redirects) under one deadline. */
async function request(url: URL, init: RawRequest): Promise<RawResponse> {
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(new TransportTimeout()), init.timeoutMs)
  try {
    let target = url
    let headers = init.headers
    for (let redirects = 0; ; redirects++) {
      const response = await exchange(target, {...init, headers}, deadline.signal)
      const location = response.headers.location
      const redirected = response.status >= 300 && response.status < 400 && location !== undefined
      if (!redirected || init.method !== 'GET' || redirects === MAX_REDIRECTS) return response
      const next = new URL(location, target)
      // Credentials stay with the server they were given for.
      if (next.host !== target.host) {
        const {Authorization: _dropped, ...rest} = headers
        headers = rest
        next.username = ''
        next.password = ''
      }
      target = next
    }
  } finally {
    clearTimeout(timer)
  }
}

/** One request and its whole body, at most maxBytes of it: past that the socket is dropped, not drained. */
async function exchange(url: URL, init: RawRequest, signal: AbortSignal): Promise<RawResponse> {
  const transport = url.protocol === 'https:' ? await import('node:https') : await import('node:http')
  const headers = {...init.headers, ...(init.body === undefined ? {} : {'Content-Length': String(Buffer.byteLength(init.body))})}
  const options: RequestOptions = {method: init.method, headers, signal}
  return new Promise<RawResponse>((resolve, reject) => {
    const fail = (error: unknown) => reject(signal.aborted ? signal.reason : error)
    const req = transport.request(url, options, (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      let received = 0
      res.on('data', (chunk: Buffer) => {
        received += chunk.length
        if (received > init.maxBytes) {
          req.destroy(new BodyTooLarge())
          return
        }
        chunks.push(chunk)
      })
      res.on('error', fail)
      res.on('end', () => resolve({status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
    })
    req.on('error', fail)
    req.end(init.body)
  })
}

class TransportTimeout extends Error {}
class BodyTooLarge extends Error {}

function toSearchParams(params: QueryParams = {}): URLSearchParams {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue
    const values = Array.isArray(value) ? value : [value]
    for (const item of values) search.append(name, String(item))
  }
  return search
}

function parseJson(text: string, system: string, address: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new ParseError(`unexpected response from ${system} at ${address}`, `not JSON: ${oneLine(text) || '(empty body)'}`, {system, address})
  }
}

/** The transport's error is never attached as `cause`: its request options hold the headers, bearer token included. */
function toTypedError(error: unknown, system: string, address: string, timeoutMs: number, maxBytes: number): unknown {
  if (error instanceof BodyTooLarge) return tooLarge(system, address, maxBytes)
  if (error instanceof TransportTimeout) return new TimeoutError(system, address, timeoutMs)
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? ''
  const reason = UNREACHABLE_REASONS[code]
  return new UnreachableError(system, address, reason ? `${reason} (${code})` : oneLine(error instanceof Error ? error.message : String(error)))
}

export function tooLarge(system: string, address: string, maxBytes: number): ParseError {
  return new ParseError(`the answer of ${system} at ${address} is too large`, `more than ${formatBytes(maxBytes)}, the most cimops reads from it; stopped reading`, {
    hint: 'narrow the request (a shorter window, more filters), or check what answers at this address',
    system,
    address,
  })
}

/**
 * The server's own words: the Prometheus envelope's `errorType: error`, Alertmanager's
 * JSON-encoded string or its go-swagger `{code, message}` validation error, or a plain-text body.
 */
function serverMessage(data: unknown): string {
  const text = typeof data === 'string' ? data : ''
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // Plain text: used as is.
  }
  if (typeof body === 'string') return oneLine(body)
  if (typeof body === 'object' && body !== null) {
    const {error, errorType, message} = body as {error?: unknown; errorType?: unknown; message?: unknown}
    if (typeof error === 'string') return oneLine(typeof errorType === 'string' && errorType !== '' ? `${errorType}: ${error}` : error)
    if (typeof message === 'string') return oneLine(message)
  }
  return oneLine(text)
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > MAX_MESSAGE_CHARS ? `${flat.slice(0, MAX_MESSAGE_CHARS)}…` : flat
}
