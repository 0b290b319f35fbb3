import {jetstreamManager, type JetStreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'

import {serverApiLevel, serverFeatures} from '../../src/lib/adapters/nats/versions.js'

/**
 * A JetStream manager on `servers` for one piece of work, closed after. `checkAPI: false`: a DR site whose
 * primary is gone may not answer `$JS.API.INFO` (reference/nats-sites-dr.md §6.10), and tests read it then.
 */
export async function withJsm<T>(servers: string[], use: (jsm: JetStreamManager, nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connect({servers})
  try {
    return await use(await jetstreamManager(nc, {checkAPI: false}), nc)
  } finally {
    await nc.close()
  }
}

/** Whether the site's server promotes a mirror in place (2.12+), as the code decides it: from what the server reports. */
export function promotesInPlace(servers: string[]): Promise<boolean> {
  return withJsm(servers, async (jsm, nc) => serverFeatures(nc.info!.version, await serverApiLevel(jsm)).has('mirrorPromotion'))
}
