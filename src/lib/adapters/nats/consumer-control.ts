/** The JetStream calls emergency stop needs: list a stream's consumers, pause and resume one (2.11+). */
import type {JetStreamManager} from '@nats-io/jetstream'

import {ApiError} from '../../core/errors.js'
import {toNatsError} from './connection.js'
import {isStreamNotFound} from './jetstream.js'

export interface ConsumerBrief {
  stream: string
  name: string
  durable: boolean
  filterSubjects: string[]
  /** Servers before 2.11 do not report it: undefined. */
  paused?: boolean
}

export interface ConsumerControl {
  /** Durable and ephemeral consumers of the stream; none when the stream does not exist. */
  list(stream: string): Promise<ConsumerBrief[]>
  pause(stream: string, name: string, until: Date): Promise<{pauseUntil?: string}>
  resume(stream: string, name: string): Promise<void>
}

export function consumerControl(jsm: JetStreamManager, address: string, timeoutMs: number): ConsumerControl {
  const fail = (error: unknown, what: string): never => {
    const typed = toNatsError(error, address, timeoutMs)
    if (typed !== error) throw typed
    throw new ApiError('nats', address, `${what}: ${error instanceof Error ? error.message : String(error)}`)
  }
  return {
    async list(stream) {
      const out: ConsumerBrief[] = []
      try {
        for await (const info of jsm.consumers.list(stream)) {
          const config = info.config
          const filters = config.filter_subjects ?? (config.filter_subject ? [config.filter_subject] : [])
          out.push({stream, name: info.name, durable: isDurable(config), filterSubjects: filters, ...(info.paused === undefined ? {} : {paused: info.paused})})
        }
      } catch (error) {
        if (isStreamNotFound(error)) return []
        return fail(error, `cannot list the consumers of ${stream}`)
      }
      return out
    },
    async pause(stream, name, until) {
      const response = await jsm.consumers.pause(stream, name, until).catch((error: unknown) => fail(error, `cannot pause ${stream} > ${name}`))
      return response.pause_until ? {pauseUntil: response.pause_until} : {}
    },
    async resume(stream, name) {
      await jsm.consumers.resume(stream, name).catch((error: unknown) => fail(error, `cannot resume ${stream} > ${name}`))
    },
  }
}

/** Named with durable_name, or created by name without an inactivity threshold (ephemeral ones always have one). */
function isDurable(config: {durable_name?: string; inactive_threshold?: number}): boolean {
  return Boolean(config.durable_name) || !config.inactive_threshold
}
