import type {JetStreamManager, NatsConnection} from '../adapters/nats/connection.js'
import type {NatsSettings} from '../core/context-types.js'
import {joinAddresses} from '../adapters/redact.js'

/** One NATS connection (and JetStream manager) shared by every check of a run, opened on first use. */
export interface NatsSession {
  connection(): Promise<{nc: NatsConnection; connectSeconds: number}>
  jetstream(): Promise<JetStreamManager>
  readonly address: string
  close(): Promise<void>
}

export function createNatsSession(settings: NatsSettings, timeoutMs: number): NatsSession {
  let connecting: Promise<{nc: NatsConnection; connectSeconds: number}> | undefined
  let manager: Promise<JetStreamManager> | undefined
  const session: NatsSession = {
    address: joinAddresses(settings.servers),
    connection() {
      connecting ??= (async () => {
        const {connectNats} = await import('../adapters/nats/connection.js')
        const started = performance.now()
        const nc = await connectNats(settings, {timeoutMs})
        return {nc, connectSeconds: (performance.now() - started) / 1000}
      })()
      return connecting
    },
    jetstream() {
      manager ??= (async () => {
        const {nc} = await session.connection()
        const {jetstreamManagerFor} = await import('../adapters/nats/connection.js')
        return jetstreamManagerFor(nc, settings, timeoutMs)
      })()
      return manager
    },
    async close() {
      if (!connecting) return
      const opened = await connecting.catch(() => undefined)
      if (opened && !opened.nc.isClosed()) await opened.nc.close()
    },
  }
  return session
}
