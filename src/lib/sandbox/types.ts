/** Public shapes of the sandbox: real servers on loopback, recorded in `<stateDir>/state.json`. */

export type SandboxComponent = 'nats' | 'prometheus' | 'alertmanager'

export const SANDBOX_COMPONENTS: readonly SandboxComponent[] = ['nats', 'prometheus', 'alertmanager']

export interface SandboxOptions {
  /** All configs, data, logs and state.json live here. */
  stateDir: string
  /** 3 = three-node JetStream cluster, routes on loopback. */
  cluster?: 1 | 3
  /** Default: all three. */
  components?: SandboxComponent[]
  /** Default true; false lets tests simulate "JetStream disabled". */
  jetstream?: boolean
  /** Default 20000. */
  readyTimeoutMs?: number
  log?: (line: string) => void
}

export interface SandboxProcess {
  /** 'nats-1', 'nats-2', 'nats-3', 'prometheus', 'alertmanager' */
  name: string
  component: SandboxComponent
  pid: number
  /** nats://127.0.0.1:P or http://127.0.0.1:P */
  url: string
  port: number
  /** nats-server HTTP monitor (http://127.0.0.1:M), used for readiness. */
  monitorUrl?: string
  clusterPort?: number
  configFile: string
  dataDir: string
  logFile: string
  /** Full command, so a stopped process can be restarted identically. */
  argv: string[]
}

export interface SandboxState {
  version: 1
  stateDir: string
  /** RFC 3339 */
  startedAt: string
  cluster: 1 | 3
  jetstream: boolean
  processes: SandboxProcess[]
  natsServers: string[]
  prometheusUrl?: string
  alertmanagerUrl?: string
}

export interface ProcessStatus extends SandboxProcess {
  alive: boolean
  healthy: boolean
  /** `ready`, `not running`, `healthz: ...`; nats cluster nodes add their routes. */
  detail: string
  /** nats cluster nodes only: established routes to the other nodes. */
  routes?: number
}

export interface SeedOptions {
  log?: (line: string) => void
  /** The seeded events' `occurredAt` times end shortly before this. Default: now. */
  now?: Date
  /** Default EVENTS. */
  eventsStream?: string
}

export interface SeedConsumer {
  name: string
  stream: string
  /** Messages not yet delivered (`num_pending`). */
  pending: number
  /** Delivered but not acknowledged (`num_ack_pending`). */
  ackPending: number
}

export interface SeedResult {
  streams: string[]
  published: number
  /** Events already stored, skipped or rejected by the server's duplicate window. */
  duplicates: number
  consumers: SeedConsumer[]
}
