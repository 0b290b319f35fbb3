/**
 * A session on the GPU fleet: the command's NATS session, the three KV buckets and the ops log. Services in this
 * folder take a FleetSession so they stay free of connection handling (and testable with an in-memory one).
 */
import type {GpuFleetStore} from '../adapters/nats/gpu-kv.js'
import type {NatsSession} from '../adapters/nats/session.js'
import type {ResolvedContext} from '../core/context-types.js'
import {CimopsError} from '../core/errors.js'

export interface PublishedEvent {
  subject: string
  /** Stream sequence in the ops log; absent when the event went out on core NATS only. */
  seq?: number
}

export interface FleetSession {
  store: GpuFleetStore
  /**
   * Publishes an event on the ops log (created on first use). When the ops log cannot take it, the event still
   * goes out on core NATS, so agents hear an evacuate command, and a note says it was not stored.
   */
  publish(subject: string, body: {id: string; [key: string]: unknown}): Promise<PublishedEvent>
  /** What went wrong on the side (ops log unavailable...), for the result. */
  notes: string[]
}

export interface FleetOptions {
  /** The command's session. Without one, the fleet opens its own with the options below and closes it after. */
  nats?: NatsSession
  /** Client name shown by the server. */
  name?: string
  /** Long waits (evacuation) survive a brief server restart. */
  reconnect?: boolean
}

export async function withFleet<T>(ctx: ResolvedContext, options: FleetOptions, work: (session: FleetSession) => Promise<T>): Promise<T> {
  const [{withNatsSession}, {clusterSize}, {openGpuFleet}, {contextOpsLog}] = await Promise.all([
    import('../adapters/nats/session.js'),
    import('../adapters/nats/connection.js'),
    import('../adapters/nats/gpu-kv.js'),
    import('../audit/ops-log.js'),
  ])
  return withNatsSession(options.nats, ctx.nats, {timeoutMs: ctx.timeoutMs, name: options.name, reconnect: options.reconnect}, async (nats) => {
    const [{nc}, jsm] = await Promise.all([nats.connection(), nats.jsm()])
    const store = await openGpuFleet(nc, jsm, ctx.nats, ctx.timeoutMs, clusterSize(nc, ctx.nats.servers))
    const notes: string[] = []
    let log: ReturnType<typeof contextOpsLog> | undefined
    const opsLog = () => {
      log ??= contextOpsLog(nc, jsm, ctx, {create: true})
      return log
    }
    const session: FleetSession = {
      store,
      notes,
      async publish(subject, body) {
        try {
          const ack = await (await opsLog()).publish(subject, body, {msgID: body.id})
          return {subject, seq: ack.seq}
        } catch (error) {
          if (error instanceof CimopsError && error.code === 'INTERRUPTED') throw error
          nc.publish(subject, JSON.stringify(body))
          await nc.flush()
          const why = error instanceof Error ? error.message : String(error)
          const note = `ops log unavailable (${why}): events sent on core NATS only, not stored`
          if (!notes.includes(note)) notes.push(note)
          return {subject}
        }
      },
    }
    return work(session)
  })
}
