/**
 * The NATS session (core/nats-session.ts): the one way cimops holds a connection. Nothing is dialled until first
 * use; the connect attempt, the JetStream manager and client are each made once and shared, a failure included, so
 * that checks running side by side wait on one timeout, not one each.
 */
import type {NatsSettings} from '../../core/context-types.js'
import type {NatsSession, NatsSessionOptions} from '../../core/nats-session.js'
import {joinAddresses} from '../redact.js'
import {connectNats, type JetStreamClient, type JetStreamManager, jetstreamManagerFor, type NatsConnection, type NatsServerInfo, serverInfo, toNatsError} from './connection.js'
import {jsApiPrefix} from './jetstream.js'
import {type ServerFeatures, serverApiLevel, serverFeatures} from './versions.js'

export type {NatsSession, NatsSessionOptions}

declare module '../../core/nats-session.js' {
  /** What the adapter adds: the connection and JetStream, each opened on first use. */
  interface NatsSession {
    /** The JetStream API subject prefix: the default one or the domain's. */
    readonly jsApiPrefix: string
    /** The connection, and how long the connect took (the health check reports it). */
    connection(): Promise<{nc: NatsConnection; connectSeconds: number}>
    /** Fails clearly when JetStream is off (jetstreamManagerFor). */
    jsm(): Promise<JetStreamManager>
    /** Only commands that read or publish messages need it. */
    js(): Promise<JetStreamClient>
    serverInfo(): Promise<NatsServerInfo>
    /** What the server supports: from the API level it reports ($JS.API.INFO), else its version; read once. */
    features(): Promise<ServerFeatures>
    /** Connected, with the manager and features at hand: for code that reads streams step by step. */
    jetstream(): Promise<JetStreamSession>
  }
}

/** A session with JetStream ready (NatsSession.jetstream()): every field usable without waiting. Its owner closes the session. */
export interface JetStreamSession {
  nc: NatsConnection
  jsm: JetStreamManager
  /** Created on first use: only commands that read messages need it. */
  js(): Promise<JetStreamClient>
  features: ServerFeatures
  /** The server list, without credentials: for errors. */
  address: string
  /** The JetStream API subject prefix: the default one or the domain's (jsApiPrefix). */
  jsApiPrefix: string
  timeoutMs: number
}

export function openNatsSession(settings: NatsSettings, options: NatsSessionOptions & {timeoutMs: number}): NatsSession {
  const {timeoutMs} = options
  let connecting: Promise<{nc: NatsConnection; connectSeconds: number}> | undefined
  let features: Promise<ServerFeatures> | undefined
  let manager: Promise<JetStreamManager> | undefined
  let client: Promise<JetStreamClient> | undefined
  let ready: Promise<JetStreamSession> | undefined
  let closing: Promise<void> | undefined
  const connected = () =>
    (connecting ??= (async () => {
      // Its owner has let it go: a late caller must not leave a connection behind that nobody closes.
      if (closing) throw new Error('the NATS session is closed')
      const started = performance.now()
      const nc = await connectNats(settings, {timeoutMs, name: options.name, reconnect: options.reconnect})
      return {nc, connectSeconds: (performance.now() - started) / 1000}
    })())
  const session: NatsSession = {
    settings,
    address: joinAddresses(settings.servers),
    timeoutMs,
    jsApiPrefix: jsApiPrefix(settings.jsDomain),
    async connection() {
      const {nc, connectSeconds} = await connected()
      return {nc, connectSeconds}
    },
    jsm() {
      manager ??= connected().then(({nc}) => jetstreamManagerFor(nc, settings, timeoutMs))
      return manager
    },
    js() {
      client ??= Promise.all([connected(), import('./messages.js')]).then(([{nc}, {jetstreamClientFor}]) => jetstreamClientFor(nc, settings, timeoutMs))
      return client
    },
    async serverInfo() {
      return serverInfo((await connected()).nc)
    },
    features() {
      // The API level where the server reports one (2.11+), else the version; a server without JetStream has only its version.
      features ??= connected().then(async ({nc}) => serverFeatures(serverInfo(nc).version, await session.jsm().then(serverApiLevel, () => undefined)))
      return features
    },
    jetstream() {
      ready ??= Promise.all([connected(), session.jsm(), session.features()]).then(([{nc}, jsm, features]) => ({
        nc,
        jsm,
        js: () => session.js(),
        features,
        address: session.address,
        jsApiPrefix: session.jsApiPrefix,
        timeoutMs,
      }))
      return ready
    },
    close({drain = false} = {}) {
      closing ??= (async () => {
        const opened = await connecting?.catch(() => undefined)
        if (!opened || opened.nc.isClosed()) return
        const {nc} = opened
        if (!drain) return nc.close()
        try {
          // Drained, so that what was published is flushed before the connection goes.
          await nc.drain()
        } catch (error) {
          if (!nc.isClosed()) await nc.close()
          throw toNatsError(error, session.address, timeoutMs)
        }
      })()
      return closing
    },
  }
  return session
}

/**
 * Runs `work` on the caller's session, left open for its owner to close; a caller without one (a test, a library
 * user) gets a session of its own, closed after: drained after success, as withNats does.
 */
export async function withNatsSession<T>(
  given: NatsSession | undefined,
  settings: NatsSettings,
  options: NatsSessionOptions & {timeoutMs: number},
  work: (session: NatsSession) => Promise<T>,
): Promise<T> {
  if (given) return work(given)
  const session = openNatsSession(settings, options)
  let ok = false
  try {
    const result = await work(session)
    ok = true
    return result
  } finally {
    if (ok) await session.close({drain: true})
    else await session.close().catch(() => undefined)
  }
}
