/** Public shapes of the sandbox: real servers on loopback, recorded in `<stateDir>/state.json`. */
import type {SandboxGuard} from './guard.js'


/** The servers, plus `monitor`: the event monitor (`cimops monitor`), which Prometheus scrapes. */
export type SandboxComponent = 'nats' | 'prometheus' | 'alertmanager' | 'monitor'

/** Components run from a server binary of their own (the monitor runs this package's CLI). */
export type ServerComponent = Exclude<SandboxComponent, 'monitor'>
/** A server, or a server's own command-line tool (from the same set, so it reads what that server writes). */
export type ServerExecutable = ServerComponent | 'promtool' | 'amtool'

/**
 * The sets of servers the sandbox runs: Debian 12's installed packages, or the newest packages of a
 * Debian suite that scripts/install-servers.sh fetched into the cache (never installed).
 */
export const SERVER_SETS = ['debian12', 'trixie', 'unstable'] as const
export type ServerSet = (typeof SERVER_SETS)[number]
export const DEFAULT_SERVER_SET: ServerSet = 'debian12'

/** The default components of the API: the three servers. `cimops sandbox up` adds `monitor`. */
export const SANDBOX_COMPONENTS: readonly SandboxComponent[] = ['nats', 'prometheus', 'alertmanager']

/**
 * The NATS sites of a two-site sandbox, each also its JetStream domain. The DR site is a leaf node
 * (cluster) of the primary with a domain of its own, so each site keeps its own meta group and
 * survives the other's loss (a two-site supercluster would share one meta group and lose it).
 */
export const SANDBOX_SITES = {primary: 'primary', dr: 'dr'} as const
export type SandboxSite = (typeof SANDBOX_SITES)[keyof typeof SANDBOX_SITES]

/** The DR site's copy of an events stream, as `sandbox seed` names it: EVENTS_DR. */
export function drMirrorName(eventsStream: string): string {
  return `${eventsStream}_DR`
}

export interface SandboxOptions {
  /** All configs, data, logs and state.json live here. */
  stateDir: string
  /** 3 = three-node JetStream cluster, routes on loopback (at each site). */
  cluster?: 1 | 3
  /** 2 = a second NATS site (DR) joined to the first by leaf node connections. Default 1. */
  sites?: 1 | 2
  /**
   * Default: the three servers. With `monitor`, the event monitor runs too (on its own loopback port,
   * counting the events stream, refreshing every second), Prometheus scrapes it every second as job
   * cim-monitor and evaluates the project's alert rules (deploy/prometheus/rules/cim.yml).
   */
  components?: SandboxComponent[]
  /** Which servers run; default: the set CIMOPS_SERVERS names (Debian 12's when unset). Per-binary env overrides still win. */
  servers?: ServerSet
  /** Binaries chosen by the caller (the throwaway server of verify --deep: one that can read the set); they win over the set's. */
  binaries?: Partial<Record<ServerComponent, string>>
  /**
   * Two sites only, for tests that cut the link between them: the DR site dials this loopback port (a proxy the
   * caller runs, forwarding to the primary's leafnode port) instead of the primary's, and the primary advertises
   * it, so the leaf connection never reconnects around the proxy (reference/nats-sites-dr.md §1b).
   */
  leafLinkPort?: number
  /** Default true; false lets tests simulate "JetStream disabled". */
  jetstream?: boolean
  /** The servers' JetStream file storage (`max_file`); default 2 GiB. Small, for tests of a full store. */
  jetstreamMaxFileBytes?: number
  /** Prometheus starts on this history instead of an empty TSDB (tests of reports over weeks). Default: none. */
  prometheusHistory?: PrometheusHistory
  /** Default 20000. */
  readyTimeoutMs?: number
  /**
   * The servers this call starts die with the calling process, even when it is killed with SIGKILL
   * (throwaway servers: verify --deep, drill). Default false: they outlive it (`sandbox up`).
   */
  tiedToParent?: boolean
  /** Ctrl-C: a fresh start stops what it has started and leaves no sandbox behind (InterruptedError). */
  signal?: AbortSignal
  log?: (line: string) => void
}

/**
 * TSDB blocks (`promtool tsdb create-blocks-from`) copied into Prometheus' data directory before it starts, and the
 * retention it runs with: longer than the history, or Prometheus deletes the blocks (the default keeps 15 days).
 */
export interface PrometheusHistory {
  blocksDir: string
  /** `--storage.tsdb.retention.time`, e.g. `3650d`. */
  retention: string
}

export interface SandboxProcess {
  /** 'nats-1', 'nats-2', 'nats-3', 'prometheus', 'alertmanager', 'monitor' */
  name: string
  component: SandboxComponent
  pid: number
  /** nats://127.0.0.1:P or http://127.0.0.1:P */
  url: string
  port: number
  /** The release the server binary reports (`2.15.1`); absent for the event monitor and when it does not say. */
  version?: string
  /** nats-server HTTP monitor (http://127.0.0.1:M), used for readiness. */
  monitorUrl?: string
  clusterPort?: number
  /** nats of a two-site sandbox only: the site (and JetStream domain) the node belongs to. */
  site?: SandboxSite
  /** nats of the primary site of a two-site sandbox: where the DR site's leaf connections come in. */
  leafnodePort?: number
  /**
   * nats only: the server id it reported once ready. nats-server draws a new one at each start, so a
   * different server on the same port (or this one restarted by hand) does not match it.
   */
  serverId?: string
  /** The event monitor's: a natscli context file naming the sandbox's NATS servers. */
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
  /** Absent in states of an older cimops: one site. */
  sites?: 1 | 2
  /** The server set it was started with; absent in states of an older cimops. */
  servers?: ServerSet
  jetstream: boolean
  processes: SandboxProcess[]
  /** The primary site's nats servers. */
  natsServers: string[]
  /** Two sites only: the DR site's nats servers. */
  drNatsServers?: string[]
  prometheusUrl?: string
  alertmanagerUrl?: string
  /** The event monitor (`cimops monitor`), http://127.0.0.1:P (/metrics, /healthz, /readyz). */
  eventMonitorUrl?: string
}

export interface ProcessStatus extends SandboxProcess {
  alive: boolean
  healthy: boolean
  /** `ready`, `not running`, `healthz: ...`; nats cluster nodes add the peers they are routed to. */
  detail: string
  /** nats cluster nodes only: the other nodes this one has a route to (by name, whatever the pool size). */
  peers?: number
}

/** Seeding and catching up refuse any server but the sandbox's own recorded here (always set by `cimops sandbox seed`). */
interface SandboxGuarded {
  sandbox?: SandboxGuard
}

export interface SeedOptions extends SandboxGuarded {
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

/** The DR site's mirror of the events stream (two-site sandbox only). */
export interface SeedMirror {
  /** EVENTS_DR */
  stream: string
  /** The stream it mirrors at the primary site. */
  origin: string
  /** What it held when the seed finished waiting for it. */
  messages: number
  /** What the origin held after seeding. */
  originMessages: number
}

export interface SeedResult {
  streams: string[]
  published: number
  /** Events already stored, skipped or rejected by the server's duplicate window. */
  duplicates: number
  consumers: SeedConsumer[]
  mirror?: SeedMirror
}

export interface CatchUpOptions extends SandboxGuarded {
  log?: (line: string) => void
  /** Default EVENTS. */
  eventsStream?: string
  /** Give up after this long. Default 30000. */
  timeoutMs?: number
}

export interface CatchUpResult {
  consumer: string
  stream: string
  /** Events acknowledged now. */
  acked: number
  /** After catching up, as the server reports them: 0 and 0. */
  pending: number
  ackPending: number
}
