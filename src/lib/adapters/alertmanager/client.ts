/** Typed client of the Alertmanager API v2 (server 0.25); the only place that knows its paths and JSON. */
import {ApiError, ParseError} from '../../core/errors.js'
import type {HttpServiceSettings} from '../../core/context-types.js'
import {createHttpClient} from '../http.js'
import {AlertGroups, Alerts, CreatedSilence, Silence as SilenceSchema, Silences, Status, type Alert, type AlertGroup, type Labels, type Silence} from './schema.js'

const SYSTEM = 'alertmanager'
/** Read cap of one-object answers; lists of alerts and silences take MAX_RESPONSE_BYTES. */
const SMALL_BYTES = 1024 * 1024

/** Server-side filters of GET /api/v2/alerts. Unset flags keep the server default, which is true for all three. */
export interface AlertQuery {
  /** Matchers such as `alertname="Foo"` or `severity=~"page|critical"`, ANDed. */
  filter?: string[]
  active?: boolean
  silenced?: boolean
  inhibited?: boolean
  /** Regex, anchored by the server. */
  receiver?: string
}

/** Times are RFC 3339. Without `endsAt` the alert resolves itself after `resolve_timeout` unless re-posted. */
export interface PostableAlert {
  labels: Labels
  annotations?: Labels
  startsAt?: string
  endsAt?: string
  generatorURL?: string
}

export interface PostableMatcher {
  name: string
  value: string
  isRegex: boolean
  /**
   * False makes `!=` / `!~`. The server defaults it to true, but a silence cimops creates always says
   * which it means: clients that left it to the default were bitten (Alertmanager issue 2602).
   */
  isEqual: boolean
}

/** All fields but `id` are required by the server; `endsAt` must be in the future. */
export interface PostableSilence {
  /** Updating may still yield a new ID: always use the returned one. */
  id?: string
  matchers: PostableMatcher[]
  startsAt: string
  endsAt: string
  createdBy: string
  comment: string
  /** 0.32+; older servers drop the field silently. */
  annotations?: Labels
}

export interface AlertmanagerClient {
  readonly baseUrl: string
  /** Cluster state and version; use it for readiness, `/-/healthy` and `/-/ready` always say OK. */
  status(): Promise<Status>
  alerts(query?: AlertQuery): Promise<Alert[]>
  /** The alerts as the routing tree groups them (`group_by`); 0.25 has no `unprocessed` filter here. */
  alertGroups(query?: AlertQuery): Promise<AlertGroup[]>
  /** Resolves once Alertmanager took them; `timeoutMs` caps the client's timeout for this call. */
  postAlerts(alerts: PostableAlert[], timeoutMs?: number): Promise<void>
  /**
   * All silences, expired ones included (kept for `--data.retention`). `filter` keeps silences having
   * an identical matcher (same name, type and value), not those that would match such an alert.
   */
  silences(filter?: string[]): Promise<Silence[]>
  /** One silence, or undefined when the server does not know the ID (or it is not a UUID); SeveralMatcherSetsError for one API v2 cannot show. */
  silence(id: string): Promise<Silence | undefined>
  /** Returns the silence ID. A refusal for the limits of 0.28+ (count, size) says which limit and what to do. */
  createSilence(silence: PostableSilence): Promise<string>
  /** Idempotent for an expired silence; an unknown ID is an ApiError. */
  expireSilence(id: string): Promise<void>
}

export function createAlertmanagerClient(settings: HttpServiceSettings, timeoutMs: number): AlertmanagerClient {
  const options = {system: SYSTEM, baseUrl: settings.url, timeoutMs, bearerTokenFile: settings.bearerTokenFile}
  const http = createHttpClient(options)

  return {
    baseUrl: http.baseUrl,
    status: () => http.getJson('/api/v2/status', Status, undefined, {maxBytes: SMALL_BYTES}),
    alerts: ({filter, active, silenced, inhibited, receiver}: AlertQuery = {}) =>
      http.getJson('/api/v2/alerts', Alerts, {filter, active, silenced, inhibited, receiver}),
    alertGroups: ({filter, active, silenced, inhibited, receiver}: AlertQuery = {}) =>
      http.getJson('/api/v2/alerts/groups', AlertGroups, {filter, active, silenced, inhibited, receiver}),
    async postAlerts(alerts, cap = timeoutMs) {
      const path = '/api/v2/alerts'
      const body = await (cap < timeoutMs ? createHttpClient({...options, timeoutMs: cap}) : http).postJson(path, alerts)
      // Alertmanager answers 200 with an empty body; a page instead (a proxy's login form) means the alerts never got there.
      if (body.trim() !== '') {
        const text = body.replace(/\s+/g, ' ').trim()
        throw new ParseError(`unexpected answer from ${SYSTEM} at ${http.endpoint(path)}`, `a 2xx answer with a body, expected none: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`, {
          system: SYSTEM,
          address: http.endpoint(path),
          hint: 'is --alertmanager-url a proxy or login page rather than Alertmanager itself?',
        })
      }
    },
    async silences(filter) {
      const path = '/api/v2/silences'
      try {
        return await http.getJson(path, Silences, {filter})
      } catch (error) {
        throw error instanceof ApiError && error.status === 500 ? silencesUnlistable(error, http.endpoint(path)) : error
      }
    },
    async silence(id) {
      const path = `/api/v2/silence/${encodeURIComponent(id)}`
      try {
        return await http.getJson(path, SilenceSchema, undefined, {maxBytes: SMALL_BYTES})
      } catch (error) {
        if (!(error instanceof ApiError)) throw error
        // 404 for an unknown ID; 422 when the ID is not a UUID at all (go-swagger's path validation).
        if (error.status === 404 || error.status === 422) return undefined
        const several = error.status === 500 ? SEVERAL_MATCHER_SETS.exec(error.why)?.[1] : undefined
        throw several ? new SeveralMatcherSetsError(several, http.endpoint(path), `HTTP 500: silence ${several} has several matcher sets, which API v2 cannot show`) : error
      }
    },
    async createSilence(silence) {
      const path = '/api/v2/silences'
      try {
        return (await http.postJson(path, silence, CreatedSilence)).silenceID
      } catch (error) {
        throw (error instanceof ApiError && error.status === 400 && silenceOverLimit(error, http.endpoint(path))) || error
      }
    },
    async expireSilence(id) {
      const path = `/api/v2/silence/${encodeURIComponent(id)}`
      try {
        await http.delete(path)
      } catch (error) {
        throw isSilenceNotFound(error) ? new ApiError(SYSTEM, http.endpoint(path), `silence ${id} not found`, {status: error.status}) : error
      }
    },
  }
}

/**
 * 0.33 answers GET of silences with 500 as soon as one silence has several (OR-ed) matcher sets, which
 * API v2 cannot represent: one such silence hides them all, and GET of that silence fails alike. DELETE
 * still expires it, but the server keeps an expired silence, and so the 500, for its --data.retention.
 */
export class SeveralMatcherSetsError extends ApiError {
  readonly silenceId: string
  constructor(silenceId: string, address: string, why: string) {
    super(SYSTEM, address, why, {
      status: 500,
      hint: `\`cimops alerts silence expire ${silenceId}\` stops it silencing, but Alertmanager keeps it, and this error, until its --data.retention (120h by default) has passed; other silences still apply`,
    })
    this.silenceId = silenceId
  }
}

const SEVERAL_MATCHER_SETS = /silence '([^']+)' has multiple matcher sets/

/** The server's words name the silence; any other 500 of GET silences is most likely the same, so the line says so. */
function silencesUnlistable(error: ApiError, address: string): ApiError {
  const id = SEVERAL_MATCHER_SETS.exec(error.why)?.[1]
  if (id) return new SeveralMatcherSetsError(id, address, `HTTP 500: silence ${id} has several matcher sets, which API v2 cannot show, so Alertmanager lists no silence`)
  return new ApiError(SYSTEM, address, `${error.why}; the likely cause is a silence with several matcher sets, which API v2 cannot show (Alertmanager 0.33+)`, {
    status: 500,
    hint: 'such a silence comes from a newer client or peer; expired, it still breaks the list until --data.retention (120h by default) has passed',
  })
}

/**
 * 0.28+ may cap the silences it holds (`--silences.max-silences`, expired ones counting until
 * `--data.retention` drops them) and the size of one (`--silences.max-silence-size-bytes`), answering
 * 400 with these words (0.28.1, 0.33.1). Undefined for any other 400.
 */
function silenceOverLimit(error: ApiError, address: string): ApiError | undefined {
  const count = /exceeded maximum number of silences: (\d+) \(limit: (\d+)\)/.exec(error.why)
  if (count) {
    return new ApiError(SYSTEM, address, `HTTP 400: it holds ${count[1]} silences, expired ones included, and --silences.max-silences=${count[2]} caps them`, {
      status: 400,
      hint: 'expiring silences frees nothing: they count until its --data.retention (120h by default) drops them; raise --silences.max-silences or shorten --data.retention',
    })
  }
  const size = /silence exceeded maximum size: (\d+) bytes \(limit: (\d+) bytes\)/.exec(error.why)
  if (size) {
    return new ApiError(SYSTEM, address, `HTTP 400: the silence is ${size[1]} bytes, over --silences.max-silence-size-bytes=${size[2]}`, {
      status: 400,
      hint: 'shorten the comment or annotations, use fewer matchers, or raise --silences.max-silence-size-bytes',
    })
  }
  return undefined
}

/** 0.25 answers an unknown ID with 500 `silence not found`; 0.26+ with 404. */
function isSilenceNotFound(error: unknown): error is ApiError {
  return error instanceof ApiError && (error.status === 404 || (error.status === 500 && /silence not found/i.test(error.why)))
}
