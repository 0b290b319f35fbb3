/**
 * A nats-server's HTTP monitoring endpoint (`http: 8222` in its config): its client port (varz) and its client
 * connections (connz) as the server sees them: the client's address and name, the bytes waiting to be written to it,
 * and, once closed, why (a slow consumer among the reasons). Plain HTTP: no NATS connection is opened.
 */
import * as z from 'zod'

import {createHttpClient} from '../http.js'

const SYSTEM = 'nats monitor'
/** One page is enough for any server cimops watches; the server's own default is 1024. */
const CONNECTIONS_LIMIT = 100_000

const connectionSchema = z.object({
  cid: z.number().int(),
  ip: z.string(),
  port: z.number().int(),
  pending_bytes: z.number().int().optional(),
  name: z.string().optional(),
  reason: z.string().optional(),
})
const connzSchema = z.object({connections: z.array(connectionSchema).nullish()})
const varzSchema = z.object({port: z.number().int()})

export interface ClientConnection {
  cid: number
  name: string
  /** The client's address as the server sees it. */
  ip: string
  port: number
  /** Bytes the server holds for the client, not yet written to it. */
  pendingBytes: number
  /** Why the server closed it ("Slow Consumer (Write Deadline)", "Client Closed", ...); undefined while open. */
  closedReason?: string
}

export interface NatsMonitor {
  readonly url: string
  /** The port clients connect to. */
  clientPort(): Promise<number>
  /** Open client connections of that name. */
  connectionsNamed(name: string): Promise<ClientConnection[]>
  /** One connection, open or closed (the server remembers the last closed ones); undefined when it forgot it. */
  connection(cid: number): Promise<ClientConnection | undefined>
}

export function natsMonitor(url: string, timeoutMs: number): NatsMonitor {
  const http = createHttpClient({system: SYSTEM, baseUrl: url, timeoutMs})
  const toConnection = (c: z.infer<typeof connectionSchema>): ClientConnection => ({
    cid: c.cid,
    name: c.name ?? '',
    ip: c.ip,
    port: c.port,
    pendingBytes: c.pending_bytes ?? 0,
    ...(c.reason ? {closedReason: c.reason} : {}),
  })
  return {
    url: http.baseUrl,
    clientPort: async () => (await http.getJson('/varz', varzSchema)).port,
    async connectionsNamed(name) {
      const connz = await http.getJson('/connz', connzSchema, {subs: 0, limit: CONNECTIONS_LIMIT})
      return (connz.connections ?? []).filter((c) => c.name === name).map(toConnection)
    },
    async connection(cid) {
      // Open first, then closed: with a cid, the server's state=any searches the closed ones only.
      for (const state of ['open', 'closed']) {
        const connz = await http.getJson('/connz', connzSchema, {cid, state, subs: 0})
        const found = connz.connections?.find((c) => c.cid === cid)
        if (found) return toConnection(found)
      }
      return undefined
    },
  }
}
