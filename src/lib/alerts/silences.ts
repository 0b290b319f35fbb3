/** `alerts silence add|list|expire`: Alertmanager silences, with client-side matching against the current alerts. */
import {OperationError, UsageError} from '../core/errors.js'
import {SeveralMatcherSetsError, type AlertmanagerClient} from '../adapters/alertmanager/client.js'
import type {Labels, Silence} from '../adapters/alertmanager/schema.js'
import {compareVersions, parseServerVersion, type ServerVersion} from '../core/version.js'
import {alertmanagerServer, withUtf8Names} from './label-names.js'
import {compileMatchers, formatMatcher, fromApiMatcher, matchesEmpty, toApiMatcher, type Matcher} from './matchers.js'
import {sortAlerts, toAlertView, type AlertView, type SilenceListResult, type SilenceView} from './model.js'

export interface SilencePlanInput {
  matchers: Matcher[]
  durationMs: number
  author: string
  comment: string
  /** Alertmanager 0.32+ stores them on the silence; older servers are refused up front. */
  annotations?: Labels
  now?: Date
}

export interface SilencePlan {
  matchers: Array<Pick<Matcher, 'name' | 'op' | 'value'>>
  startsAt: string
  endsAt: string
  durationSeconds: number
  createdBy: string
  comment: string
  annotations: Labels
  /** Current alerts (any state) the silence would match, sorted like `alerts list`. */
  matchedAlerts: AlertView[]
  /** How many alerts Alertmanager has now. */
  totalAlerts: number
  /** The matchers match every current alert (and there is at least one): creating it needs --yes. */
  matchesEveryAlert: boolean
}

/** The checks Alertmanager would make, done first so they are usage errors (exit 64) with a clear message. */
export function checkSilenceInput({matchers, durationMs, comment, author}: Omit<SilencePlanInput, 'now'>): void {
  if (matchers.length === 0) {
    throw new UsageError('no matchers given', 'a silence needs at least one matcher', {hint: 'e.g. `cimops alerts silence add alertname=HighEventLag --comment "deploying fix"`'})
  }
  if (matchers.every(matchesEmpty)) {
    throw new UsageError(
      `the matchers ${matchers.map(formatMatcher).join(' ')} also match alerts without those labels`,
      'at least one matcher must not match the empty string (Alertmanager refuses such silences)',
      {hint: 'add a matcher such as alertname=NAME'},
    )
  }
  if (!(durationMs > 0)) throw new UsageError(`invalid --duration ${durationMs / 1000}s`, 'a silence must last longer than 0s')
  if (comment.trim() === '') throw new UsageError('a comment is required', 'say why the alerts are silenced', {hint: 'pass --comment "TEXT"'})
  if (author.trim() === '') throw new UsageError('an author is required', '--actor is empty', {hint: 'pass --actor NAME'})
}

/** `--annotation NAME=VALUE` values: split at the first `=`; a name given twice is a usage error, not a silent overwrite. */
export function parseAnnotations(values: readonly string[]): Labels {
  const annotations: Labels = {}
  for (const value of values) {
    const equals = value.indexOf('=')
    if (equals <= 0) throw new UsageError(`invalid --annotation ${JSON.stringify(value)}`, 'expected NAME=VALUE', {hint: 'e.g. --annotation ticket=INC-42'})
    const name = value.slice(0, equals)
    if (name in annotations) throw new UsageError(`--annotation ${name} given twice`, 'a silence has one value per annotation')
    annotations[name] = value.slice(equals + 1)
  }
  return annotations
}

/** Silence annotations came with 0.32; older servers drop the field without a word, so the silence would lack them. */
const ANNOTATIONS_SINCE: ServerVersion = [0, 32, 0]

async function checkAnnotationsSupported(alertmanager: AlertmanagerClient): Promise<void> {
  const {version} = (await alertmanager.status()).versionInfo
  const parsed = parseServerVersion(version)
  if (parsed && compareVersions(parsed, ANNOTATIONS_SINCE) >= 0) return
  throw new UsageError(`--annotation needs Alertmanager ${ANNOTATIONS_SINCE.join('.')} or newer`, `the one at ${alertmanager.baseUrl} is ${version || 'of an unknown version'}`, {
    hint: 'put the note in --comment instead',
  })
}

/** What a new silence would do, against the alerts Alertmanager has now. Creates nothing. */
export async function planSilence(alertmanager: AlertmanagerClient, input: SilencePlanInput): Promise<SilencePlan> {
  checkSilenceInput(input)
  const annotations = input.annotations ?? {}
  if (Object.keys(annotations).length > 0) await checkAnnotationsSupported(alertmanager)
  const now = input.now ?? new Date()
  const alerts = await alertmanager.alerts()
  const matches = compileMatchers(input.matchers)
  const matched = sortAlerts(alerts.filter((alert) => matches(alert.labels)).map((alert) => toAlertView(alert)))
  return {
    matchers: input.matchers.map(({name, op, value}) => ({name, op, value})),
    startsAt: now.toISOString(),
    endsAt: new Date(now.getTime() + input.durationMs).toISOString(),
    durationSeconds: input.durationMs / 1000,
    createdBy: input.author,
    comment: input.comment,
    annotations,
    matchedAlerts: matched,
    totalAlerts: alerts.length,
    matchesEveryAlert: alerts.length > 0 && matched.length === alerts.length,
  }
}

/** Creates the planned silence; returns its ID. */
export async function createSilence(alertmanager: AlertmanagerClient, plan: SilencePlan): Promise<string> {
  return withUtf8Names(alertmanagerServer(alertmanager), plan.matchers, () =>
    alertmanager.createSilence({
      matchers: plan.matchers.map(toApiMatcher),
      startsAt: plan.startsAt,
      endsAt: plan.endsAt,
      createdBy: plan.createdBy,
      comment: plan.comment,
      // Only when there are some: a server before 0.32 then gets the very body it always did.
      ...(Object.keys(plan.annotations).length > 0 ? {annotations: plan.annotations} : {}),
    }),
  )
}

export type SilenceState = Silence['status']['state']

/** Filters applied here, not by the server: GET silences has no state filter before 0.34 and none by creator or comment. */
export interface ListSilencesOptions {
  /** The states listed; active and pending when empty, like amtool. */
  states?: readonly SilenceState[]
  /** Only silences created by exactly this author (amtool's --created-by). */
  createdBy?: string
  /** Only silences whose comment contains this text, ignoring case. */
  comment?: string
  now?: Date
}

export async function listSilences(alertmanager: AlertmanagerClient, options: ListSilencesOptions = {}): Promise<SilenceListResult> {
  const now = (options.now ?? new Date()).getTime()
  const [silences, alerts] = await Promise.all([alertmanager.silences(), alertmanager.alerts()])
  const states = new Set<SilenceState>(options.states?.length ? options.states : ['active', 'pending'])
  const comment = options.comment?.toLowerCase()
  const wanted = silences.filter(
    (silence) =>
      states.has(silence.status.state) &&
      (options.createdBy === undefined || silence.createdBy === options.createdBy) &&
      (comment === undefined || silence.comment.toLowerCase().includes(comment)),
  )
  const views = wanted.map((silence) => toSilenceView(silence, alerts, now))
  // Active: soonest to end first; pending: soonest to start; expired: most recently ended first.
  const order = {active: 0, pending: 1, expired: 2}
  views.sort(
    (a, b) =>
      order[a.state] - order[b.state] ||
      (a.state === 'expired' ? Date.parse(b.endsAt) - Date.parse(a.endsAt) : a.state === 'pending' ? Date.parse(a.startsAt) - Date.parse(b.startsAt) : Date.parse(a.endsAt) - Date.parse(b.endsAt)) ||
      a.id.localeCompare(b.id),
  )
  return {silences: views, alerts: alerts.length}
}

export function toSilenceView(silence: Silence, alerts: ReadonlyArray<{labels: Record<string, string>}>, nowMs: number): SilenceView {
  const matchers = silence.matchers.map(fromApiMatcher)
  const matches = compileMatchers(matchers)
  return {
    id: silence.id,
    state: silence.status.state,
    matchers,
    startsAt: silence.startsAt,
    endsAt: silence.endsAt,
    updatedAt: silence.updatedAt,
    createdBy: silence.createdBy,
    comment: silence.comment,
    annotations: silence.annotations,
    remainingSeconds: silence.status.state === 'expired' ? 0 : Math.max(0, Math.round((Date.parse(silence.endsAt) - nowMs) / 1000)),
    matchingAlerts: alerts.filter((alert) => matches(alert.labels)).length,
  }
}

export type ExpireOutcome = 'expired' | 'not-found' | 'already-expired'

export interface ExpireResult {
  id: string
  outcome: ExpireOutcome
  /** RFC 3339 end of an already expired silence. */
  endedAt?: string
  /** What the operator should know about an expiry that went through, such as a silence API v2 cannot show. */
  note?: string
}

const SEVERAL_MATCHER_SETS_NOTE =
  'it has several matcher sets, which API v2 cannot show: whether it was still active could not be read, and Alertmanager lists no silence until its --data.retention (120h by default) has passed'

/**
 * Expires each silence in turn. Alertmanager 0.25 answers DELETE of an expired silence with 200 and of
 * an unknown one with 500, so each is looked up first to say which it was. A silence with several
 * matcher sets, which 0.33 cannot show, is expired unseen (tried on 0.33.1: DELETE works).
 */
export async function expireSilences(alertmanager: AlertmanagerClient, ids: readonly string[]): Promise<ExpireResult[]> {
  const results: ExpireResult[] = []
  for (const id of ids) {
    let silence: Silence | undefined
    try {
      silence = await alertmanager.silence(id)
    } catch (error) {
      // 0.33 cannot show it, yet DELETE expires it (and is idempotent), so the expiry is still done.
      if (!(error instanceof SeveralMatcherSetsError)) throw error
      await alertmanager.expireSilence(id)
      results.push({id, outcome: 'expired', note: SEVERAL_MATCHER_SETS_NOTE})
      continue
    }
    if (!silence) {
      results.push({id, outcome: 'not-found'})
    } else if (silence.status.state === 'expired') {
      results.push({id, outcome: 'already-expired', endedAt: silence.endsAt})
    } else {
      await alertmanager.expireSilence(id)
      results.push({id, outcome: 'expired'})
    }
  }
  return results
}

/** One failure (exit 2) describing every ID that could not be expired, or undefined when all were. */
export function expireFailure(results: readonly ExpireResult[], address: string): OperationError | undefined {
  const failed = results.filter((result) => result.outcome !== 'expired')
  if (failed.length === 0) return undefined
  const reasons = failed.map((result) => (result.outcome === 'not-found' ? `no such silence ${result.id}` : `silence ${result.id} is already expired (ended ${result.endedAt})`))
  const hint = 'see `cimops alerts silence list` for active silences and `--expired` for expired ones'
  if (results.length === 1) {
    return new OperationError(reasons[0], failed[0].outcome === 'not-found' ? `Alertmanager at ${address} does not know it` : 'nothing to do', {hint})
  }
  return new OperationError(`expired ${results.length - failed.length} of ${results.length} silences`, reasons.join('; '), {hint})
}
