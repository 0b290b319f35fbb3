/**
 * Alertmanager API v2 shapes (server 0.25), only the fields cimops uses.
 * See reference/prometheus-alertmanager.md section 2.
 */
import * as z from 'zod'

export const Labels = z.record(z.string(), z.string())
export type Labels = z.infer<typeof Labels>

export const Peer = z.object({name: z.string(), address: z.string()})
export type Peer = z.infer<typeof Peer>

export const Status = z.object({
  cluster: z.object({
    name: z.string().optional(),
    /** `/-/ready` is always 200 in 0.25; this is the real readiness signal. */
    status: z.enum(['ready', 'settling', 'disabled']),
    peers: z.array(Peer).nullish().transform((peers) => peers ?? []),
  }),
  versionInfo: z.object({version: z.string()}),
  /** RFC 3339: when the server started. */
  uptime: z.string(),
})
export type Status = z.infer<typeof Status>

export const Receiver = z.object({name: z.string()})
export type Receiver = z.infer<typeof Receiver>

export const Alert = z.object({
  labels: Labels,
  annotations: Labels,
  startsAt: z.string(),
  endsAt: z.string(),
  updatedAt: z.string(),
  generatorURL: z.string().optional(),
  fingerprint: z.string(),
  receivers: z.array(Receiver),
  status: z.object({
    /** Silenced and inhibited alerts are both `suppressed`. */
    state: z.enum(['unprocessed', 'active', 'suppressed']),
    silencedBy: z.array(z.string()),
    inhibitedBy: z.array(z.string()),
    /**
     * 0.28+: names of the time intervals muting the alert; absent before. Filled in the alerts of
     * `/alerts/groups` only (a time interval mutes a route): `/alerts` always sends [] (0.28.1, 0.33.1).
     */
    mutedBy: z.array(z.string()).default([]),
  }),
})
export type Alert = z.infer<typeof Alert>

export const Alerts = z.array(Alert)

/** An aggregation group of the routing tree: its `group_by` labels, the receiver, and its alerts. */
export const AlertGroup = z.object({
  labels: Labels,
  receiver: Receiver,
  alerts: z.array(Alert),
})
export type AlertGroup = z.infer<typeof AlertGroup>

export const AlertGroups = z.array(AlertGroup)

export const Matcher = z.object({
  name: z.string(),
  value: z.string(),
  isRegex: z.boolean(),
  isEqual: z.boolean().default(true),
})
export type Matcher = z.infer<typeof Matcher>

export const Silence = z.object({
  id: z.string(),
  status: z.object({state: z.enum(['expired', 'active', 'pending'])}),
  matchers: z.array(Matcher),
  startsAt: z.string(),
  endsAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
  /** 0.32+ always sends it; older servers have no annotations: {}. */
  annotations: Labels.nullish().transform((annotations) => annotations ?? {}),
})
export type Silence = z.infer<typeof Silence>

export const Silences = z.array(Silence)

export const CreatedSilence = z.object({silenceID: z.string()})
