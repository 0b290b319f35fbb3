/**
 * `morning-check`: the seed's five-minute morning routine as one report. It has the shape every check
 * command shares (status, summary, checks, durationSeconds: one check per area), plus each area's details
 * and a short list of recommended actions linked to runbooks.
 */
import type {Episode} from '../alerts/model.js'
import type {CheckReport} from '../core/check/result.js'
import type {Status} from '../core/check/status.js'
import type {DomainRate} from '../domains/rates.js'

export type {DomainRate} from '../domains/rates.js'

export const AREAS = ['alerts', 'events', 'consumers', 'gpu', 'backups', 'drills', 'health', 'domains'] as const
export type Area = (typeof AREAS)[number]

export interface AreaBase {
  status: Status
  summary: string
  /** Why the area could not be read (status UNKNOWN). */
  error?: string
}

export interface ActiveAlert {
  alertname: string
  severity: string | null
  labels: Record<string, string>
  summary?: string
  startsAt: string
  /** Runbook id, or the runbook_url annotation. */
  runbook?: string
}

export interface AlertsArea extends AreaBase {
  /** Firing now and neither silenced nor inhibited, most severe first. */
  active: ActiveAlert[]
  /** Silenced or inhibited now (counted, not judged). */
  suppressed: number
  /** Episodes from Prometheus (ALERTS) in the window, resolved ones and those still firing. */
  overnight: Episode[]
  /** Why the history could not be read (Prometheus down); the active alerts still count. */
  historyError?: string
}

export interface EventsArea extends AreaBase {
  /** prometheus: the monitor's cim_events_total; jetstream: stream subject counts and sequence times. */
  source: 'prometheus' | 'jetstream' | 'none'
  stream?: string
  domains: DomainRate[]
  /** All domains: events in the window and per second over the last 5 minutes. */
  windowCount: number | null
  ratePerSecond: number | null
}

export interface ConsumerTrend {
  /** Pending work at the previous morning check. */
  previousPending: number
  /** RFC 3339 of the previous check. */
  previousAt: string
  deltaPending: number
  direction: 'growing' | 'shrinking' | 'steady'
}

export interface ConsumerLine {
  stream: string
  name: string
  status: Status
  lagSeconds: number
  /** unprocessed + ack pending. */
  pending: number
  unprocessed: number
  ackPending: number
  stalled: boolean
  summary: string
  /** Against the previous morning check; absent on the first. */
  trend?: ConsumerTrend
}

export interface ConsumersArea extends AreaBase {
  consumers: ConsumerLine[]
  /** RFC 3339 of the previous morning check the trends compare with. */
  previousCheckAt?: string
}

export interface GpuNode {
  node: string
  /** active, draining, drained (KV cim_gpu_nodes). */
  state: string
  reason?: string
  since?: string
  /** Latest health the node published (KV cim_gpu_health), when it says. */
  health?: string
}

export interface GpuArea extends AreaBase {
  /** The health-check's gpu check of this host. */
  local?: {status: Status; summary: string}
  /** Nodes registered in KV; empty when there is no fleet. */
  nodes: GpuNode[]
}

export interface BackupSetInfo {
  name: string
  path: string
  /** RFC 3339: when the backup completed (else started). */
  time: string
  ageSeconds: number
  streams: string[]
}

export interface BackupsArea extends AreaBase {
  dir: string
  newest?: BackupSetInfo
  /** Complete sets found. */
  sets: number
  /** The streams that matter (the context's events and ops streams), each by the newest set holding it. */
  streams: Array<{stream: string; status: Status; set?: string; ageSeconds?: number}>
  warnSeconds: number
  critSeconds: number
}

export interface DrillInfo {
  id: string
  /** RFC 3339 */
  time: string
  ageSeconds: number
  passed: boolean
}

export interface DrillsArea extends AreaBase {
  last?: DrillInfo
  lastSuccessful?: DrillInfo
  warnSeconds: number
}

export interface HealthArea extends AreaBase {
  score?: number
  checks: Array<{name: string; component: string; status: Status; summary: string}>
}

/** `cimops domain health` in brief: each domain's verdict and why. */
export interface DomainsArea extends AreaBase {
  domains: Array<{domain: string; status: Status; summary: string}>
}

export interface Action {
  status: Status
  area: Area
  text: string
  /** Runbook id that covers it. */
  runbook?: string
  /** What to type next. */
  command?: string
}

export interface MorningReport extends CheckReport {
  /** RFC 3339 */
  checkedAt: string
  context?: string
  window: {seconds: number; from: string}
  alerts: AlertsArea
  events: EventsArea
  consumers: ConsumersArea
  gpu: GpuArea
  backups: BackupsArea
  drills: DrillsArea
  health: HealthArea
  domains: DomainsArea
  actions: Action[]
}
