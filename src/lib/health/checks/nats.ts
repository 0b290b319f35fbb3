import type {CheckContext, CheckOutcome, HealthCheck} from '../runner.js'

/** NATS reachability: connect time, round trip, server version. */
export const natsCheck: HealthCheck = {
  name: 'nats',
  component: 'nats',
  async run({ctx}: CheckContext): Promise<CheckOutcome> {
    const {connectNats, serverInfo} = await import('../../adapters/nats/connection.js')
    const started = performance.now()
    const nc = await connectNats(ctx.nats, {timeoutMs: ctx.timeoutMs})
    try {
      const connectSeconds = (performance.now() - started) / 1000
      const rttSeconds = (await nc.rtt()) / 1000
      const info = serverInfo(nc)
      return {
        name: 'nats',
        component: 'nats',
        status: 'OK',
        summary: `connected to ${info.serverName} (nats-server ${info.version}) in ${(connectSeconds * 1000).toFixed(0)}ms, rtt ${(rttSeconds * 1000).toFixed(1)}ms`,
        metrics: [
          {name: 'connect_time', value: round(connectSeconds), unit: 's', warn: 0.5, crit: 1},
          {name: 'rtt', value: round(rttSeconds), unit: 's', warn: 0.5, crit: 1},
        ],
        details: {version: info.version, server: info.serverName, jetstream: info.jetstream},
      }
    } finally {
      await nc.close()
    }
  },
}

function round(seconds: number): number {
  return Math.round(seconds * 10_000) / 10_000
}
