/**
 * Whether two JetStream connections reach one stream, not merely streams of the same name: a stream restored
 * from a backup keeps its name, its creation time and its contents, so only a trace left on one and looked for
 * through the other tells them apart.
 */
import type {JetStreamManager} from '@nats-io/jetstream'

import {isConsumerNotFound, isStreamNotFound, NANOS_PER_MS, toJetStreamError} from './jetstream.js'
import {HELPER_INACTIVE_MS} from './messages.js'

export interface StreamAccess {
  jsm: JetStreamManager
  /** The server list without credentials, and the request timeout: for errors. */
  address: string
  timeoutMs: number
}

/**
 * Makes an idle ephemeral consumer on `stream` through `one` (it delivers nothing and vanishes on its own should
 * the delete be lost) and looks it up through `other`: found, the two reach the same stream. Deleted after.
 */
export async function reachSameStream(one: StreamAccess, other: StreamAccess, stream: string): Promise<boolean> {
  let probe: string
  try {
    const info = await one.jsm.consumers.add(stream, {
      ack_policy: 'none',
      deliver_policy: 'new',
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: HELPER_INACTIVE_MS * NANOS_PER_MS,
    } as never)
    probe = info.name
  } catch (error) {
    throw toJetStreamError(error, one.address, one.timeoutMs)
  }
  try {
    await other.jsm.consumers.info(stream, probe)
    return true
  } catch (error) {
    if (isConsumerNotFound(error) || isStreamNotFound(error)) return false
    throw toJetStreamError(error, other.address, other.timeoutMs)
  } finally {
    await one.jsm.consumers.delete(stream, probe).catch(() => undefined)
  }
}
