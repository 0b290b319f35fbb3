/** The effective settings of one invocation, after flag > env > context > default precedence. */

export interface NatsTls {
  certFile?: string
  keyFile?: string
  caFile?: string
  /** TLS before the NATS INFO handshake (natscli `tls_first`). */
  handshakeFirst?: boolean
}

export interface NatsSettings {
  servers: string[]
  creds?: string
  nkey?: string
  user?: string
  password?: string
  token?: string
  tls?: NatsTls
  jsDomain?: string
  inboxPrefix?: string
  /** Name of the natscli context these settings came from, when any. */
  natsContext?: string
}

export interface HttpServiceSettings {
  url: string
  bearerTokenFile?: string
}

export interface StreamNames {
  events: string
  ops: string
}

export interface Thresholds {
  /** Seconds. */
  lagWarn: number
  lagCrit: number
  /** Percent used. */
  memWarn: number
  memCrit: number
  /** Percent free. */
  diskFreeWarn: number
  diskFreeCrit: number
  /** JetStream account storage and memory, percent of the limit used. */
  jsWarn: number
  jsCrit: number
  /** 1-minute load average per core. */
  loadWarn: number
  loadCrit: number
  /** Seconds without a delivery, while work is pending, after which a consumer counts as stalled. */
  stallAfter: number
  /** Seconds a mirror or source may be behind its origin (the recovery point objective now): `dr status`, the replication check. */
  rpoWarnSeconds: number
  rpoCritSeconds: number
}

/** Weights of the health score's groups (seed composite: event processing, messaging, memory, disk). */
export type ScoreWeights = Record<string, number>

/** Direct incident notifiers of the context; only file paths and endpoints, the secrets stay in the files. */
export interface NotifierSettings {
  pagerduty?: {routingKeyFile: string; url?: string}
  slack?: {webhookUrlFile: string; url?: string}
}

/** GPU health settings of the context; absent keys take the defaults of src/lib/gpu/thresholds.ts. Durations in seconds. */
export interface GpuContextSettings {
  expectedGpus?: number
  tempWarn?: number
  tempCrit?: number
  tlimitWarn?: number
  tlimitCrit?: number
  slowdownMargin?: number
  memFullPercent?: number
  xidWindow?: number
  xid?: {ignore?: number[]; warn?: number[]; drain?: number[]}
  healthStaleAfter?: number
}

export type SettingSource = 'flag' | 'env' | 'context' | 'natscli-context' | 'default'

export interface ResolvedContext {
  /** Name of the cimops context in use, or undefined when none is configured. */
  name?: string
  nats: NatsSettings
  prometheus: HttpServiceSettings
  alertmanager: HttpServiceSettings
  /** The event monitor, when the context names it (`monitor.url`). */
  monitor?: {url: string}
  streams: StreamNames
  thresholds: Thresholds
  /** Where each threshold came from: a flag of the command, the context's file, or cimops's default. */
  thresholdSources: Record<keyof Thresholds, 'flag' | 'context' | 'default'>
  /** Mount points whose free space the system check watches. */
  mounts: string[]
  scoreWeights: ScoreWeights
  /** Per network call, milliseconds. */
  timeoutMs: number
  /** Incident notifiers beyond Alertmanager (PagerDuty, Slack); absent or empty when none is configured. */
  notifiers?: NotifierSettings
  /** GPU health settings (`gpu:` in the context), when any. */
  gpu?: GpuContextSettings
  /** Where each top-level address came from, for `context show` and --verbose. */
  sources: {nats: SettingSource; prometheus: SettingSource; alertmanager: SettingSource}
}

export const DEFAULTS = {
  natsUrl: 'nats://127.0.0.1:4222',
  prometheusUrl: 'http://127.0.0.1:9090',
  alertmanagerUrl: 'http://127.0.0.1:9093',
  monitorListen: '127.0.0.1:9091',
  timeoutMs: 5000,
  streams: {events: 'EVENTS', ops: 'CIM_OPS'} satisfies StreamNames,
  thresholds: {
    lagWarn: 10,
    lagCrit: 60,
    memWarn: 80,
    memCrit: 90,
    diskFreeWarn: 20,
    diskFreeCrit: 10,
    jsWarn: 75,
    jsCrit: 90,
    loadWarn: 1.5,
    loadCrit: 3,
    stallAfter: 300,
    rpoWarnSeconds: 30,
    rpoCritSeconds: 300,
  } satisfies Thresholds,
  mounts: ['/'],
  scoreWeights: {events: 40, messaging: 30, memory: 15, disk: 15, monitoring: 10, cpu: 5, gpu: 5} satisfies ScoreWeights,
} as const
