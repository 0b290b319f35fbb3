import {joinAddresses} from '../../adapters/redact.js'
import type {CheckOutcome} from '../../core/check/result.js'
import type {CheckContext, HealthCheck} from '../runner.js'

/**
 * The context's site as `cimops dr status` sees it: one result per mirror or source (`replication:<stream>`, a
 * source also naming its origin) judged by seconds behind against rpoWarnSeconds/rpoCritSeconds, a promoted
 * stream OK as the primary it now is, and a split brain with a domain the site reaches CRITICAL. A site that copies
 * nothing and was never promoted is OK, as the GPU check is on a host without GPUs.
 */
export const replicationCheck: HealthCheck = {
  name: 'replication',
  component: 'replication',
  target: (ctx) => ({system: 'nats', address: joinAddresses(ctx.nats.servers)}),
  async run({ctx, nats, now}: CheckContext): Promise<CheckOutcome[]> {
    const {replicationFindings} = await import('../../dr/status.js')
    const {links, primaries, splitBrain} = await replicationFindings(ctx, nats, now)
    const {rpoWarnSeconds, rpoCritSeconds} = ctx.thresholds
    const sourcesOf = (stream: string) => links.filter((l) => l.stream === stream).length
    const outcomes: CheckOutcome[] = [
      ...links.map(
        (link): CheckOutcome => ({
          name: `replication:${link.stream}${link.kind === 'source' && sourcesOf(link.stream) > 1 ? `<${link.origin}` : ''}`,
          component: 'replication',
          status: link.status,
          summary: link.summary,
          metrics: [
            ...(link.secondsBehind === undefined ? [] : [{name: 'seconds_behind', value: link.secondsBehind, unit: 's' as const, warn: rpoWarnSeconds, crit: rpoCritSeconds}]),
            ...(link.messagesBehind === undefined ? [] : [{name: 'messages_behind', value: link.messagesBehind}]),
            {name: 'lag', value: link.lag},
            ...(link.activeSeconds === undefined ? [] : [{name: 'active', value: link.activeSeconds, unit: 's' as const}]),
          ],
        }),
      ),
      // A promoted stream in a split brain is reported once, as the split brain.
      ...primaries
        .filter((primary) => !splitBrain.some((brain) => brain.a.stream === primary.stream))
        .map((primary): CheckOutcome => ({name: `replication:${primary.stream}`, component: 'replication', status: 'OK', summary: primary.summary, metrics: []})),
      // One result per stream of this site, however many streams elsewhere share its subjects.
      ...[...new Set(splitBrain.map((brain) => brain.a.stream))].map((stream): CheckOutcome => {
        const found = splitBrain.filter((brain) => brain.a.stream === stream)
        return {name: `replication:${stream}`, component: 'replication', status: 'CRITICAL', summary: found.map((brain) => brain.summary).join('; '), metrics: [{name: 'split_brain', value: found.length}]}
      }),
    ]
    if (outcomes.length > 0) return outcomes
    return [{name: 'replication', component: 'replication', status: 'OK', summary: 'no mirrored, sourced or promoted streams at this site', metrics: []}]
  },
}
