/**
 * PagerDuty Events API v2 (reference/prometheus-alertmanager.md §5.1): trigger and resolve with a
 * dedup key. The routing key is the credential; it is read from a file and never shown.
 */
import {readSecretFile} from './secret-file.js'
import {type NotifierTarget, postJson, unexpectedAnswer} from './post.js'

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue'
const MAX_SUMMARY_CHARS = 1024
const MAX_DEDUP_KEY_CHARS = 255

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info'

export type PagerDutyEvent =
  | {
      action: 'trigger'
      dedupKey: string
      summary: string
      source: string
      severity: PagerDutySeverity
      /** RFC 3339 */
      timestamp?: string
      component?: string
      group?: string
      class?: string
      customDetails?: Record<string, unknown>
    }
  | {action: 'resolve' | 'acknowledge'; dedupKey: string}

export interface PagerDutyClient {
  readonly address: string
  /** Resolves once PagerDuty confirmed the event; `timeoutMs` caps the client's timeout for this call. */
  send(event: PagerDutyEvent, timeoutMs?: number): Promise<void>
}

export interface PagerDutySettings {
  routingKeyFile: string
  /** Default: the public Events API v2 endpoint. */
  url?: string
}

export async function createPagerDutyClient(settings: PagerDutySettings, timeoutMs: number): Promise<PagerDutyClient> {
  const routingKey = await readSecretFile(settings.routingKeyFile, 'PagerDuty routing key', 'pagerduty.routingKeyFile')
  const url = settings.url ?? PAGERDUTY_EVENTS_URL
  const target: NotifierTarget = {system: 'pagerduty', url, address: url}
  return {
    address: url,
    async send(event, cap = timeoutMs) {
      const answer = await postJson(target, pagerDutyBody(routingKey, event), Math.min(timeoutMs, cap))
      if (!isAccepted(answer.body)) throw unexpectedAnswer(target, answer, 'JSON with "status": "success"')
    },
  }
}

/** PagerDuty confirms with 202 and a JSON body `{"status": "success", "message", "dedup_key"}`. */
function isAccepted(body: string): boolean {
  try {
    return (JSON.parse(body) as {status?: unknown} | null)?.status === 'success'
  } catch {
    return false
  }
}

/** The wire body; only the fields PagerDuty documents, limits applied. */
export function pagerDutyBody(routingKey: string, event: PagerDutyEvent): Record<string, unknown> {
  const base = {routing_key: routingKey, event_action: event.action, dedup_key: event.dedupKey.slice(0, MAX_DEDUP_KEY_CHARS)}
  if (event.action !== 'trigger') return base
  const payload: Record<string, unknown> = {
    summary: truncate(event.summary, MAX_SUMMARY_CHARS),
    source: event.source,
    severity: event.severity,
  }
  if (event.timestamp) payload.timestamp = event.timestamp
  if (event.component) payload.component = event.component
  if (event.group) payload.group = event.group
  if (event.class) payload.class = event.class
  if (event.customDetails) payload.custom_details = event.customDetails
  return {...base, payload, client: 'cimops'}
}

function truncate(text: string, max: number): string {
  const chars = Array.from(text)
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`
}
