import type {JetStreamClient, JetStreamManager, NatsConnection} from './connection.js'
import type {ServerFeatures} from './versions.js'

/** One connection for one command: the manager, the server's features (from INFO, read once), and the settings the adapters need. streams/session.ts opens it. */
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
  close(): Promise<void>
}
