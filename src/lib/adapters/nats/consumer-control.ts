/** The JetStream calls emergency stop needs: list a stream's consumers, pause and resume one (2.11+). */
import type {ConsumerConfig, JetStreamManager} from '@nats-io/jetstream'

import {ApiError} from '../../core/errors.js'
import {toNatsError} from './connection.js'
import {isStreamNotFound} from './jetstream.js'

/**
 * The consumer metadata key an emergency stop sets (to its event id) before pausing a consumer, so that resume
 * unpauses exactly the consumers a stop paused and leaves alone those an operator paused for another reason.
 */
export const EMERGENCY_PAUSE_KEY = 'io.cimops.emergency.paused-by'

export interface ConsumerBrief {
  stream: string
  name: string
  durable: boolean
  filterSubjects: string[]
  /** Servers before 2.11 do not report it: undefined. */
  paused?: boolean
  /** The id of the emergency stop that paused it (its EMERGENCY_PAUSE_KEY metadata). */
  pausedByStop?: string
}

export interface ConsumerControl {
  /** Durable and ephemeral consumers of the stream; none when the stream does not exist. */
  list(stream: string): Promise<ConsumerBrief[]>
  /** Marks the consumer as paused by the stop `stopId`, then pauses it (a mark without a pause is harmless). */
  pause(stream: string, name: string, until: Date, stopId: string): Promise<{pauseUntil?: string}>
  /** Resumes the consumer, then removes the stop's mark. */
  resume(stream: string, name: string): Promise<void>
}

export function consumerControl(jsm: JetStreamManager, address: string, timeoutMs: number): ConsumerControl {
  const fail = (error: unknown, what: string): never => {
    const typed = toNatsError(error, address, timeoutMs)
    if (typed !== error) throw typed
    throw new ApiError('nats', address, `${what}: ${error instanceof Error ? error.message : String(error)}`)
  }
  /** An update replaces the whole metadata map, so the user's keys are sent back; the server re-adds its `_nats.*` ones. */
  const mark = async (stream: string, name: string, stopId: string | undefined) => {
    const {config} = await jsm.consumers.info(stream, name)
    const {[EMERGENCY_PAUSE_KEY]: _previous, ...metadata} = userMetadata(config.metadata)
    await jsm.consumers.update(stream, name, {metadata: stopId === undefined ? metadata : {...metadata, [EMERGENCY_PAUSE_KEY]: stopId}})
  }
  return {
    async list(stream) {
      const out: ConsumerBrief[] = []
      try {
        for await (const info of jsm.consumers.list(stream)) out.push(consumerBrief(stream, info))
      } catch (error) {
        if (isStreamNotFound(error)) return []
        return fail(error, `cannot list the consumers of ${stream}`)
      }
      return out
    },
    async pause(stream, name, until, stopId) {
      await mark(stream, name, stopId).catch((error: unknown) => fail(error, `cannot mark ${stream} > ${name} as paused by this stop`))
      const response = await jsm.consumers.pause(stream, name, until).catch((error: unknown) => fail(error, `cannot pause ${stream} > ${name}`))
      return response.pause_until ? {pauseUntil: response.pause_until} : {}
    },
    async resume(stream, name) {
      await jsm.consumers.resume(stream, name).catch((error: unknown) => fail(error, `cannot resume ${stream} > ${name}`))
      await mark(stream, name, undefined).catch((error: unknown) => fail(error, `resumed ${stream} > ${name} but cannot remove its emergency mark`))
    },
  }
}

export function consumerBrief(stream: string, info: {name: string; config: Partial<ConsumerConfig>; paused?: boolean}): ConsumerBrief {
  const config = info.config
  const filters = config.filter_subjects ?? (config.filter_subject ? [config.filter_subject] : [])
  const pausedByStop = config.metadata?.[EMERGENCY_PAUSE_KEY]
  return {
    stream,
    name: info.name,
    durable: isDurable(config),
    filterSubjects: filters,
    ...(info.paused === undefined ? {} : {paused: info.paused}),
    ...(pausedByStop ? {pausedByStop} : {}),
  }
}

/** The metadata a user set: without the `_nats.*` keys the server adds (2.11+) and re-adds on every update. */
export function userMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata ?? {}).filter(([key]) => !key.startsWith('_nats.')))
}

/** Named with durable_name, or created by name without an inactivity threshold (ephemeral ones always have one). */
function isDurable(config: {durable_name?: string; inactive_threshold?: number}): boolean {
  return Boolean(config.durable_name) || !config.inactive_threshold
}
