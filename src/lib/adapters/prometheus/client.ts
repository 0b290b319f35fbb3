/** Typed client of the Prometheus HTTP API (servers 2.42 to 3.x); the only place that knows its paths and JSON. */
import type {ZodType} from 'zod'
import {ApiError} from '../../core/errors.js'
import type {HttpServiceSettings} from '../../core/context-types.js'
import {createHttpClient, validate, type HttpClient, type QueryParams} from '../http.js'
import {
  Alerts,
  BuildInfo,
  Envelope,
  MatrixData,
  QueryData,
  RuleGroups,
  Targets,
  type Alert,
  type RangeSeries,
  type RuleGroup,
} from './schema.js'

const SYSTEM = 'prometheus'
/** Read caps per endpoint (the rest take MAX_RESPONSE_BYTES): a range query may hold many series of up to 11,000 points each. */
const QUERY_BYTES = 64 * 1024 * 1024
const SMALL_BYTES = 1024 * 1024
const READY_BYTES = 64 * 1024
/** Rule groups per page of /api/v1/rules (3.x pages with `group_limit`; older servers ignore it and send all). */
const RULE_GROUPS_PER_PAGE = 1000
/** Bounds the paging, so a server that keeps handing out tokens cannot hold cimops in a loop. */
const MAX_RULE_PAGES = 100

export interface Readiness {
  ready: boolean
  /** The server's words, e.g. `Prometheus Server is Ready.` or `HTTP 503: Service Unavailable`. */
  detail: string
}

/** What the server said beside the data: `warnings` (the result may be incomplete or wrong) and `infos` (2.54+, hints such as "might not be a counter"). */
export interface ServerNotes {
  warnings: string[]
  infos: string[]
}

export type WithNotes<T> = T & ServerNotes

export interface PrometheusClient {
  readonly baseUrl: string
  /** GET /-/ready: 503 while the TSDB/WAL is replayed, which is an answer, not a failure. */
  ready(): Promise<Readiness>
  buildInfo(): Promise<BuildInfo>
  targets(state?: 'active' | 'dropped' | 'any'): Promise<Targets>
  /** Every group, following `groupNextToken` page by page where the server pages. */
  rules(type?: 'alert' | 'record'): Promise<RuleGroup[]>
  /** Instant query; `time` defaults to the server's now. */
  query(expr: string, time?: Date): Promise<WithNotes<QueryData>>
  /** Range query; `step` in seconds (the server caps a series at 11,000 points). */
  queryRange(expr: string, start: Date, end: Date, step: number): Promise<WithNotes<{result: RangeSeries[]}>>
  /** Current pending and firing alerts (no history: see queryRange over ALERTS). */
  alerts(): Promise<Alert[]>
}

export function createPrometheusClient(settings: HttpServiceSettings, timeoutMs: number): PrometheusClient {
  const http = createHttpClient({system: SYSTEM, baseUrl: settings.url, timeoutMs, bearerTokenFile: settings.bearerTokenFile})
  // Lets the server give up on an expensive query when cimops stops waiting for it.
  const serverTimeout = `${Math.max(1, Math.floor(timeoutMs / 1000))}s`

  return {
    baseUrl: http.baseUrl,
    async ready() {
      try {
        return {ready: true, detail: (await http.getText('/-/ready', {maxBytes: READY_BYTES})).trim()}
      } catch (error) {
        if (error instanceof ApiError && error.status === 503) return {ready: false, detail: error.why}
        throw error
      }
    },
    async buildInfo() {
      return (await getData(http, '/api/v1/status/buildinfo', BuildInfo, undefined, SMALL_BYTES)).data
    },
    async targets(state = 'active') {
      return (await getData(http, '/api/v1/targets', Targets, {state})).data
    },
    async rules(type) {
      const groups: RuleGroup[] = []
      let token: string | undefined
      for (let page = 0; page < MAX_RULE_PAGES; page++) {
        const {data} = await getData(http, '/api/v1/rules', RuleGroups, {type, group_limit: RULE_GROUPS_PER_PAGE, group_next_token: token})
        groups.push(...data.groups)
        if (!data.groupNextToken) return groups
        token = data.groupNextToken
      }
      throw new ApiError(SYSTEM, http.endpoint('/api/v1/rules'), `still more rule groups after ${MAX_RULE_PAGES} pages of ${RULE_GROUPS_PER_PAGE}`)
    },
    async query(expr, time) {
      const {data, notes} = await getData(http, '/api/v1/query', QueryData, {query: expr, time: time?.toISOString(), timeout: serverTimeout}, QUERY_BYTES)
      return {...data, ...notes}
    },
    async queryRange(expr, start, end, step) {
      const params = {query: expr, start: start.toISOString(), end: end.toISOString(), step, timeout: serverTimeout}
      const {data, notes} = await getData(http, '/api/v1/query_range', MatrixData, params, QUERY_BYTES)
      return {result: data.result, ...notes}
    },
    async alerts() {
      return (await getData(http, '/api/v1/alerts', Alerts)).data.alerts
    },
  }
}

/** Unwraps the `{status, data, errorType, error, warnings, infos}` envelope, then checks `data`. */
async function getData<T>(http: HttpClient, path: string, data: ZodType<T>, params?: QueryParams, maxBytes?: number): Promise<{data: T; notes: ServerNotes}> {
  const envelope = await http.getJson(path, Envelope, params, {maxBytes}).catch((error: unknown) => {
    // Before the TSDB/WAL is loaded every /api/v1 route answers a plain-text 503, not the JSON envelope.
    if (error instanceof ApiError && error.status === 503 && /Service Unavailable$/i.test(error.why) && !error.hint) {
      throw new ApiError(SYSTEM, http.endpoint(path), error.why, {status: 503, hint: 'Prometheus is not ready yet (still loading its TSDB/WAL); retry in a moment'})
    }
    throw error
  })
  if (envelope.status === 'error') {
    // Normally an HTTP error status carries these; checked anyway so an odd 200 is never read as data.
    const why = [envelope.errorType, envelope.error].filter(Boolean).join(': ') || 'status "error" without a message'
    throw new ApiError(SYSTEM, http.endpoint(path), why)
  }
  return {data: validate(data, envelope.data, SYSTEM, http.endpoint(path)), notes: {warnings: envelope.warnings, infos: envelope.infos}}
}
