/**
 * The HTTP transport shared by the Prometheus and Alertmanager adapters: one axios instance per
 * client (no global interceptors), a deadline on every call, zod-validated JSON, and failures
 * turned into the typed errors of core/errors.ts naming the system and the endpoint.
 */
import {readFileSync} from 'node:fs'
import type {AxiosInstance, AxiosRequestConfig, AxiosResponse} from 'axios'
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

const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED'])
const MAX_MESSAGE_CHARS = 300
const MAX_ISSUES = 3
/** Default cap of a response body: lists of alerts or silences, rules, targets. A 2 GiB body once took Node down (issue 15). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const requestUrl = validBaseUrl(options)
  const baseUrl = stripUserinfo(requestUrl)
  const headers = {...options.headers, ...bearerHeader(options)}
  let instance: Promise<AxiosInstance> | undefined
  const axiosInstance = () => (instance ??= createAxiosInstance(requestUrl, headers))
  const endpoint = (path: string) => baseUrl + path

  async function send(config: AxiosRequestConfig & {url: string}, {maxBytes = MAX_RESPONSE_BYTES}: ReadLimit = {}): Promise<AxiosResponse<string>> {
    const client = await axiosInstance()
    try {
      return await client.request<string>({
        ...config,
        // axios stops reading (and drops the socket) once the body passes this; error bodies included.
        maxContentLength: maxBytes,
        timeout: options.timeoutMs,
        // axios's timeout is per socket phase; the signal bounds the whole call, slow trickles included.
        signal: AbortSignal.timeout(options.timeoutMs),
      })
    } catch (error) {
      throw toTypedError(error, options.system, endpoint(config.url), options.timeoutMs, maxBytes)
    }
  }

  function parse<T>(path: string, text: string, schema: ZodType<T>): T {
    return validate(schema, parseJson(text, options.system, endpoint(path)), options.system, endpoint(path))
  }

  async function postJson<T>(path: string, body: unknown, schema?: ZodType<T>): Promise<T | string> {
    const response = await send({method: 'POST', url: path, data: body})
    return schema ? parse(path, response.data, schema) : response.data
  }

  return {
    baseUrl,
    endpoint,
    async getJson<T>(path: string, schema: ZodType<T>, params?: QueryParams, limit?: ReadLimit): Promise<T> {
      const response = await send({method: 'GET', url: path, params: toSearchParams(params)}, limit)
      return parse(path, response.data, schema)
    },
    postJson: postJson as HttpClient['postJson'],
    async getText(path: string, limit?: ReadLimit): Promise<string> {
      return (await send({method: 'GET', url: path}, limit)).data
    },
    async delete(path: string): Promise<void> {
      await send({method: 'DELETE', url: path})
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

async function createAxiosInstance(baseURL: string, headers: Record<string, string>): Promise<AxiosInstance> {
  const {default: axios} = await import('axios')
  // Bodies come back as text so non-JSON error pages (Prometheus's pre-ready 503) can be reported verbatim.
  return axios.create({baseURL, headers, responseType: 'text', transformResponse: [(data: unknown) => data]})
}

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

/**
 * The axios error itself is never attached as `cause`: its config holds the request headers,
 * bearer token included, and a verbose error printer would show them.
 */
function toTypedError(error: unknown, system: string, address: string, timeoutMs: number, maxBytes: number): unknown {
  if (!isAxiosLike(error)) return error
  if (isTooLarge(error)) return tooLarge(system, address, maxBytes)
  if (error.response) {
    const {status, statusText, data} = error.response
    return new ApiError(system, address, `HTTP ${status}: ${serverMessage(data) || statusText || 'no message'}`, {status})
  }
  const code = error.code ?? ''
  if (TIMEOUT_CODES.has(code)) return new TimeoutError(system, address, timeoutMs)
  const reason = UNREACHABLE_REASONS[code]
  return new UnreachableError(system, address, reason ? `${reason} (${code})` : oneLine(error.message))
}

/** axios's own words for a body over maxContentLength (no code of its own: ERR_BAD_RESPONSE). */
export function isTooLarge(error: unknown): boolean {
  return typeof error === 'object' && error !== null && /^maxContentLength size of \d+ exceeded$/.test(String((error as {message?: unknown}).message))
}

export function tooLarge(system: string, address: string, maxBytes: number): ParseError {
  return new ParseError(`the answer of ${system} at ${address} is too large`, `more than ${formatBytes(maxBytes)}, the most cimops reads from it; stopped reading`, {
    hint: 'narrow the request (a shorter window, more filters), or check what answers at this address',
    system,
    address,
  })
}

interface AxiosLike {
  code?: string
  message: string
  response?: {status: number; statusText?: string; data: unknown}
}

function isAxiosLike(error: unknown): error is AxiosLike {
  return typeof error === 'object' && error !== null && (error as {isAxiosError?: unknown}).isAxiosError === true
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
