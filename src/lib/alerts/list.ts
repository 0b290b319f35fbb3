/** `alerts list`: current alerts from Alertmanager, filtered server-side, sorted, grouped, with their runbook. */
import type {AlertmanagerClient, AlertQuery} from '../adapters/alertmanager/client.js'
import {alertmanagerServer, withUtf8Names} from './label-names.js'
import {formatMatcher, matchesEmpty, type Matcher} from './matchers.js'
import {groupAlerts, sortAlerts, toAlertView, type AlertListResult, type AlertView, type RunbookRef} from './model.js'
import {loadRunbookIndex, type RunbookIndex} from './runbooks.js'

export interface ListAlertsOptions {
  matchers: Matcher[]
  /** Also silenced alerts. */
  silenced?: boolean
  /** Also inhibited alerts. */
  inhibited?: boolean
  /** Every alert Alertmanager has: active, silenced, inhibited and unprocessed. */
  all?: boolean
  /** Regex on receiver names, anchored by the server. */
  receiver?: string
  /** Only these values of the severity label. */
  severities?: string[]
  groupBy?: string
  /** Where runbooks live (tests); default the package's runbooks/. */
  runbooksDir?: string
}

/**
 * The Alertmanager query for the options. Like amtool, and unlike the API's defaults, only active alerts
 * unless --silenced / --inhibited / --all ask for more.
 */
export function alertQuery(options: ListAlertsOptions): AlertQuery {
  const filter = options.matchers.map(formatMatcher)
  if (options.severities && options.severities.length > 0) {
    filter.push(formatMatcher({name: 'severity', op: '=~', value: options.severities.map(escapeRegex).join('|')}))
  }
  const states = options.all ? {} : {active: true, silenced: Boolean(options.silenced), inhibited: Boolean(options.inhibited)}
  return {filter, ...states, receiver: options.receiver}
}

/** RE2 and JavaScript agree on these escapes of punctuation. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&')
}

export async function listAlerts(alertmanager: AlertmanagerClient, options: ListAlertsOptions): Promise<AlertListResult> {
  const query = alertQuery(options)
  const alerts = await withUtf8Names(alertmanagerServer(alertmanager), options.matchers, () => alertmanager.alerts(query))
  const mutedBy = alerts.length > 0 ? await mutedByFingerprint(alertmanager, query) : new Map<string, string[]>()
  const needsIndex = alerts.some((alert) => !alert.annotations.runbook_url)
  const index: RunbookIndex = needsIndex ? await loadRunbookIndex(options.runbooksDir) : {byAlert: new Map(), warnings: []}
  const views = sortAlerts(
    alerts.map((alert) =>
      toAlertView({...alert, status: {...alert.status, mutedBy: mutedBy.get(alert.fingerprint) ?? []}}, runbookFor(alert.labels.alertname, alert.annotations, index)),
    ),
  )
  const result: AlertListResult = {alerts: views, warnings: index.warnings, hints: alerts.length === 0 ? await emptyResultHints(alertmanager, options) : []}
  if (options.groupBy) {
    result.groupBy = options.groupBy
    result.groups = groupAlerts(views, options.groupBy).map(({value, alerts: members}) => ({
      value,
      count: members.length,
      fingerprints: members.map((alert: AlertView) => alert.fingerprint),
    }))
  }
  return result
}

/**
 * Why a filtered listing came back empty, when a typo is the likely cause: a label no alert has, a
 * value no alert has. Reads every alert Alertmanager has (one request, only on an empty answer).
 */
async function emptyResultHints(alertmanager: AlertmanagerClient, options: ListAlertsOptions): Promise<string[]> {
  if (options.matchers.length === 0 && (options.severities ?? []).length === 0) return []
  const everything = await alertmanager.alerts({filter: []})
  return typoHints(options.matchers, options.severities ?? [], everything.map((alert) => alert.labels))
}

/** At most this many names or values are listed in a hint. */
const HINT_LIST_LENGTH = 8

/** Pure: the hints for matchers and severities against the label sets of every alert there is. */
export function typoHints(matchers: readonly Matcher[], severities: readonly string[], labelSets: ReadonlyArray<Record<string, string>>): string[] {
  const list = (values: Iterable<string>) => {
    const sorted = [...new Set(values)].sort()
    return sorted.length === 0 ? 'none' : sorted.slice(0, HINT_LIST_LENGTH).join(', ') + (sorted.length > HINT_LIST_LENGTH ? ', …' : '')
  }
  const valuesOf = (name: string) => labelSets.flatMap((labels) => (name in labels ? [labels[name]] : []))
  const hints: string[] = []
  // Only matchers that need the label: an absent label already satisfies name!=x or name=~".*".
  for (const matcher of matchers.filter((m) => !matchesEmpty(m))) {
    const values = valuesOf(matcher.name)
    if (values.length === 0) hints.push(`no alert has a label ${matcher.name} (labels present: ${list(labelSets.flatMap(Object.keys))})`)
    else if (matcher.op === '=' && !values.includes(matcher.value)) hints.push(`no alert has ${formatMatcher(matcher)} (values of ${matcher.name} present: ${list(values)})`)
  }
  const present = valuesOf('severity')
  const unknown = severities.filter((severity) => !present.includes(severity))
  if (unknown.length > 0) hints.push(`no alert has severity ${unknown.join(', ')} (severities present: ${list(present)})`)
  return hints
}

/**
 * The time intervals muting each alert of the query. Alertmanager 0.28+ says so only in the alerts of its
 * aggregation groups, since an interval mutes a route, not an alert (GET /alerts always sends an empty
 * mutedBy). An alert on several routes gets the intervals of all of them. Older servers: none.
 */
async function mutedByFingerprint(alertmanager: AlertmanagerClient, query: AlertQuery): Promise<Map<string, string[]>> {
  const muted = new Map<string, Set<string>>()
  for (const group of await alertmanager.alertGroups(query)) {
    for (const alert of group.alerts) {
      if (alert.status.mutedBy.length === 0) continue
      const names = muted.get(alert.fingerprint) ?? new Set<string>()
      for (const name of alert.status.mutedBy) names.add(name)
      muted.set(alert.fingerprint, names)
    }
  }
  return new Map([...muted].map(([fingerprint, names]) => [fingerprint, [...names].sort()]))
}

/** The `runbook_url` annotation wins; otherwise a runbook whose front matter lists the alertname. */
export function runbookFor(alertname: string | undefined, annotations: Record<string, string>, index: RunbookIndex): RunbookRef | null {
  if (annotations.runbook_url) return {source: 'annotation', url: annotations.runbook_url}
  const entry = alertname === undefined ? undefined : index.byAlert.get(alertname)
  return entry ? {source: 'runbooks', name: entry.name, path: entry.path} : null
}
