import type {JetStreamClient} from '../adapters/nats/connection.js'
import {joinAddresses} from '../adapters/redact.js'
import {serverApiLevel, serverFeatures} from '../adapters/nats/versions.js'
import type {JetStreamSession} from '../adapters/nats/session.js'
import type {ResolvedContext} from '../core/context-types.js'

export type {JetStreamSession}

export interface SessionOptions {
  /**
   * Long-running views (--watch, tail) ride out a server restart; one-shot commands fail fast.
   * 'forever': work that bounds its own waiting (a replay gives up after its fault tolerance).
   */
  reconnect?: boolean | 'forever'
}

export async function openJetStream(ctx: ResolvedContext, options: SessionOptions = {}): Promise<JetStreamSession> {
  const [{connectNats, jetstreamManagerFor, serverInfo}, {jsApiPrefix}] = await Promise.all([
    import('../adapters/nats/connection.js'),
    import('../adapters/nats/jetstream.js'),
  ])
  const nc = await connectNats(ctx.nats, {timeoutMs: ctx.timeoutMs, reconnect: options.reconnect})
  try {
    const jsm = await jetstreamManagerFor(nc, ctx.nats, ctx.timeoutMs)
    const features = serverFeatures(serverInfo(nc).version, await serverApiLevel(jsm))
    let client: Promise<JetStreamClient> | undefined
    return {
      nc,
      jsm,
      js: () => {
        client ??= import('../adapters/nats/messages.js').then(({jetstreamClientFor}) => jetstreamClientFor(nc, ctx.nats, ctx.timeoutMs))
        return client
      },
      features,
      address: joinAddresses(ctx.nats.servers),
      jsApiPrefix: jsApiPrefix(ctx.nats.jsDomain),
      timeoutMs: ctx.timeoutMs,
      close: async () => {
        if (!nc.isClosed()) await nc.close()
      },
    }
  } catch (error) {
    await nc.close()
    throw error
  }
}

/** Opens a session, runs `work`, and always closes it. */
export async function withJetStream<T>(ctx: ResolvedContext, work: (session: JetStreamSession) => Promise<T>, options: SessionOptions = {}): Promise<T> {
  const session = await openJetStream(ctx, options)
  try {
    return await work(session)
  } finally {
    await session.close()
  }
}
