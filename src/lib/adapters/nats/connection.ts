/**
 * NATS connections for one-shot commands: auth from the resolved settings, a timeout on connect,
 * no endless reconnecting, and failures turned into the typed errors of core/errors.ts. A long-running
 * service (the event monitor) asks for `reconnect: 'forever'` instead.
 * nats.js is imported only when a connection is made, so `cimops --help` never loads it.
 */
import {access, readFile} from 'node:fs/promises'
import type {JetStreamClient, JetStreamManager} from '@nats-io/jetstream'
import type {Authenticator, NatsConnection, NodeConnectionOptions} from '@nats-io/transport-node'
import {ApiError, ConfigError, isCimopsError, TimeoutError, UnreachableError, UsageError} from '../../core/errors.js'
import type {NatsSettings} from '../../core/context-types.js'
import {withUrlCredentials} from '../../core/nats-url.js'
import {joinAddresses, stripUserinfo} from '../redact.js'
import {UNREACHABLE_REASONS} from '../network-errors.js'

/** What services hold and pass back to adapter calls, without importing nats.js themselves. */
export type {JetStreamClient, JetStreamManager, NatsConnection}

const SYSTEM = 'nats'
/** With reconnect on, a dead server costs a few seconds, not the nats.js default of ten attempts. */
const MAX_RECONNECT_ATTEMPTS = 3
/** reconnect 'forever': the delays between attempts grow from this, doubling, up to RECONNECT_MAX_MS (reconnectBackoff). */
const RECONNECT_BASE_MS = 250
const RECONNECT_MAX_MS = 5000
/** reconnect 'forever': a peer that stops answering is noticed after ~3 pings, not nats.js's default of 4 minutes. */
const SERVICE_PING_INTERVAL_MS = 10_000
const SERVICE_MAX_PINGS_OUT = 3
const AUTH_HINT = 'check the credentials: --nats-creds, --nats-context, or the user/password/token of the context'

export interface NatsConnectOptions {
  /** Connect timeout per server, and the default for requests made on the connection. */
  timeoutMs: number
  /** Client name shown by the server (`nats server report connections`). Default `cimops`. */
  name?: string
  /**
   * Default false: a one-shot command fails fast instead of waiting for the server to come back.
   * true: a few attempts (live views). 'forever': a service that must ride out any outage: unlimited
   * attempts, at once, then after 0.5s, 1s, 2s, 4s and every 5s from then on (reconnectBackoff). The
   * first connect still fails fast either way:
   * a service retries it itself, so that it can tell a wrong password from a server not up yet.
   */
  reconnect?: boolean | 'forever'
}

export interface NatsServerInfo {
  version: string
  serverName: string
  cluster?: string
  jetstream: boolean
}

export async function connectNats(given: NatsSettings, opts: NatsConnectOptions): Promise<NatsConnection> {
  const settings = withUrlCredentials(given)
  const address = natsAddress(settings)
  if (settings.servers.length === 0) throw new ConfigError('no NATS server configured', 'the server list is empty', {hint: 'set --nats-url or the context'})
  const nats = await import('@nats-io/transport-node')
  const options: NodeConnectionOptions = {
    servers: settings.servers,
    name: opts.name ?? 'cimops',
    timeout: opts.timeoutMs,
    reconnect: Boolean(opts.reconnect),
    // Not 0: nats.js 3.4 then drops two servers per failed first dial (the failed one and the last
    // in the list), so a cluster with one dead node could fail to connect at all. Without reconnect,
    // -1 only means "try every server once"; with 'forever' it means no limit.
    maxReconnectAttempts: opts.reconnect === true ? MAX_RECONNECT_ATTEMPTS : -1,
    ...(opts.reconnect === 'forever'
      ? {reconnectDelayHandler: reconnectBackoff(), pingInterval: SERVICE_PING_INTERVAL_MS, maxPingOut: SERVICE_MAX_PINGS_OUT}
      : {}),
    inboxPrefix: settings.inboxPrefix,
    user: settings.user,
    pass: settings.password,
    token: settings.token,
    authenticator: await fileAuthenticators(settings, nats),
    tls: await tlsOptions(settings),
  }
  try {
    return await nats.connect(options)
  } catch (error) {
    throw toNatsError(error, address, opts.timeoutMs)
  }
}

/**
 * The delay between reconnect attempts for reconnect 'forever': the first attempt at once, the next
 * after twice baseMs, doubling per attempt up to maxMs, each less up to a quarter of random jitter so
 * that many clients do not come back in step. nats.js asks for the delay before every dial and again while it waits, so an
 * attempt is taken to be over once the delay last handed out has passed; a quiet spell longer than
 * twice maxMs (the connection was up meanwhile) starts the next outage from baseMs again.
 */
export function reconnectBackoff(options: {baseMs?: number; maxMs?: number; random?: () => number; now?: () => number} = {}): () => number {
  const baseMs = options.baseMs ?? RECONNECT_BASE_MS
  const maxMs = options.maxMs ?? RECONNECT_MAX_MS
  const random = options.random ?? Math.random
  const now = options.now ?? Date.now
  let attempt = 0
  let delay = 0
  let setAt = Number.NEGATIVE_INFINITY
  let askedAt = Number.NEGATIVE_INFINITY
  return () => {
    const t = now()
    if (t - askedAt > 2 * maxMs) {
      attempt = 0
      setAt = Number.NEGATIVE_INFINITY
    }
    askedAt = t
    if (t >= setAt + delay) {
      delay = Math.round(Math.min(maxMs, baseMs * 2 ** attempt) * (1 - 0.25 * random()))
      setAt = t
      attempt = Math.min(attempt + 1, 30)
    }
    return delay
  }
}

/** Connects, runs `work`, and always closes: drained after success so pending publishes are flushed. */
export async function withNats<T>(settings: NatsSettings, opts: NatsConnectOptions, work: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connectNats(settings, opts)
  try {
    const result = await work(nc)
    await nc.drain().catch((error: unknown) => {
      throw toNatsError(error, natsAddress(settings), opts.timeoutMs)
    })
    return result
  } finally {
    if (!nc.isClosed()) await nc.close()
  }
}

/** A JetStream manager honouring the JetStream domain; fails clearly when JetStream is off. */
export async function jetstreamManagerFor(nc: NatsConnection, settings: NatsSettings, timeoutMs: number): Promise<JetStreamManager> {
  const {jetstreamManager} = await import('@nats-io/jetstream')
  const address = stripUserinfo(nc.getServer())
  try {
    // Checks the API with $JS.API.INFO, so a server without JetStream fails here and not on first use.
    return await jetstreamManager(nc, {domain: settings.jsDomain, timeout: timeoutMs})
  } catch (error) {
    if (error instanceof Error && error.name === 'JetStreamNotEnabled') {
      const hint = settings.jsDomain
        ? `check the JetStream domain "${settings.jsDomain}" and that JetStream is enabled for the account`
        : 'enable JetStream on the server (jetstream {} in its config) and for the account'
      throw new ApiError(SYSTEM, address, 'JetStream is not enabled on this server/account', {hint})
    }
    throw toNatsError(error, address, timeoutMs)
  }
}

export function serverInfo(nc: NatsConnection): NatsServerInfo {
  const info = nc.info
  if (!info) throw new UnreachableError(SYSTEM, stripUserinfo(nc.getServer()), 'not connected')
  return {version: info.version, serverName: info.server_name, cluster: info.cluster, jetstream: info.jetstream === true}
}

/** Servers in the cluster: the URLs given, or those the server advertises when more. */
export function clusterSize(nc: NatsConnection, configuredServers: string[]): number {
  return Math.max(configuredServers.length, nc.info?.connect_urls?.length ?? 1)
}

/**
 * Maps an error thrown by nats.js to a typed error; typed errors pass through and anything
 * unrecognised is returned as is. Matched by name: nats.js is loaded lazily, so its classes are not.
 */
export function toNatsError(error: unknown, address: string, timeoutMs: number): unknown {
  if (isCimopsError(error) || !(error instanceof Error)) return error
  if (isConsumerLimit(error)) return consumerLimitError(address)
  if (error.name === 'TimeoutError') return new TimeoutError(SYSTEM, address, timeoutMs)
  // nats.js checks stream and consumer names before sending: a name the user gave, so a usage error.
  if (error.name === 'InvalidNameError') {
    const named = /^(\w+) name \('(.*)'\)/s.exec(error.message)
    return new UsageError(named ? `invalid ${named[1]} name "${named[2]}"` : error.message, 'NATS stream and consumer names cannot contain spaces, tabs, line breaks, ".", "*", ">", "/" or "\\"')
  }
  const unnamed = /^(\w+) name required$/.exec(error.message)
  if (unnamed) return new UsageError(`no ${unnamed[1]} name given`, 'the name is empty')
  if (error.name === 'AuthorizationError' || error.name === 'UserAuthenticationExpiredError') {
    return new ApiError(SYSTEM, address, error.message.toLowerCase(), {hint: AUTH_HINT})
  }
  const code = errnoCode(error)
  if (code && UNREACHABLE_REASONS[code]) return new UnreachableError(SYSTEM, address, `${UNREACHABLE_REASONS[code]} (${code})`)
  if (error.name === 'ConnectionError') return new UnreachableError(SYSTEM, address, error.message)
  return error
}

/** JetStream's err_code for "maximum consumers limit reached" (a stream's max_consumers, or the account's limit). */
const CONSUMER_LIMIT_ERR_CODE = 10026

/** The server refused a new consumer: every command that creates one (replay, events, drill, the monitor) says so in one line. */
export function isConsumerLimit(error: Error): boolean {
  const {code, errCode} = error as {code?: unknown; errCode?: unknown}
  return code === CONSUMER_LIMIT_ERR_CODE || errCode === CONSUMER_LIMIT_ERR_CODE || /maximum consumers limit reached/i.test(error.message)
}

export function consumerLimitError(address: string): ApiError {
  return new ApiError(SYSTEM, address, 'no new consumer: maximum consumers limit reached (JetStream error 10026)', {
    hint: "the stream's max_consumers or the account's consumer limit is full (nats-server 2.15 allows 1,000 per stream by default); delete unused consumers or raise the limit",
  })
}

function natsAddress(settings: NatsSettings): string {
  return joinAddresses(settings.servers)
}

function errnoCode(error: Error): string | undefined {
  const own = (error as NodeJS.ErrnoException).code
  if (typeof own === 'string') return own
  const cause = error.cause as NodeJS.ErrnoException | undefined
  return typeof cause?.code === 'string' ? cause.code : undefined
}

type NatsModule = typeof import('@nats-io/transport-node')

/**
 * Creds (JWT + seed) and nkey seed files, read and tried now: a missing or garbled file is a config
 * error naming it, not a failure deep inside the handshake.
 */
async function fileAuthenticators(settings: NatsSettings, nats: NatsModule): Promise<Authenticator[] | undefined> {
  const authenticators: Authenticator[] = []
  if (settings.creds) {
    const creds = nats.credsAuthenticator(await readSecretFile(settings.creds, 'credentials'))
    authenticators.push(checkedAuthenticator(creds, settings.creds, 'credentials', 'a JWT and an nkey seed between -----BEGIN/END----- lines, as `nsc generate creds` writes'))
  }
  if (settings.nkey) {
    const seed = new TextDecoder().decode(await readSecretFile(settings.nkey, 'nkey seed')).trim()
    authenticators.push(checkedAuthenticator(nats.nkeyAuthenticator(new TextEncoder().encode(seed)), settings.nkey, 'nkey seed', 'one nkey seed (SU...), as `nk -gen user` writes'))
  }
  return authenticators.length > 0 ? authenticators : undefined
}

/** Signs a throwaway nonce once: nats.js parses the file only then. The error never quotes the file, which holds secrets. */
function checkedAuthenticator(authenticator: Authenticator, file: string, what: string, expected: string): Authenticator {
  try {
    authenticator('cimops-check')
  } catch {
    throw new ConfigError(`invalid NATS ${what} file ${file}`, `expected ${expected}`, {hint: 'check --nats-creds, --nats-context or the context'})
  }
  return authenticator
}

async function tlsOptions({tls}: NatsSettings): Promise<NodeConnectionOptions['tls']> {
  if (!tls || Object.values(tls).every((value) => value === undefined || value === false)) return undefined
  for (const [file, what] of [[tls.certFile, 'certificate'], [tls.keyFile, 'key'], [tls.caFile, 'CA']] as const) {
    if (file) await accessFile(file, `TLS ${what}`)
  }
  // Paths are handed over as is: transport-node reads them when the TLS handshake starts.
  return {certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile, handshakeFirst: tls.handshakeFirst}
}

async function readSecretFile(file: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(file)
  } catch (error) {
    throw unreadableFile(file, what, error)
  }
}

async function accessFile(file: string, what: string): Promise<void> {
  try {
    await access(file)
  } catch (error) {
    throw unreadableFile(file, what, error)
  }
}

function unreadableFile(file: string, what: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
  return new ConfigError(`cannot read the NATS ${what} file ${file}`, code === 'ENOENT' ? 'no such file' : code, {
    hint: 'check --nats-creds, --nats-context or the context',
  })
}
