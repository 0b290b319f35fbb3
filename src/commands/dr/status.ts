import {Flags} from '@oclif/core'

import {BaseCommand, FLEET_FLAGS} from '../../lib/core/base-command.js'
import {NAGIOS_CODE} from '../../lib/core/check/status.js'
import type {ResolvedContext} from '../../lib/core/context-types.js'
import {withThresholdFlags} from '../../lib/core/context.js'
import {parseDuration} from '../../lib/core/duration.js'
import type {NatsSession} from '../../lib/core/nats-session.js'
import type {DrStatusReport} from '../../lib/dr/status.js'

const THRESHOLDS = 'THRESHOLD'

export default class DrStatus extends BaseCommand<typeof DrStatus> {
  static isCheck = true
  static summary = 'Replication between sites: how far every mirror and source is behind its origin, promoted primaries, split brains'
  static description = `For every stream of the sites given that mirrors or sources another: messages behind, seconds behind (the RPO now: the age of the oldest origin message the copy does not hold yet, measured at the origin, on its clock where it sends one), the last contact and any error the server reports, judged against --rpo-warn/--rpo-crit (context thresholds rpoWarnSeconds/rpoCritSeconds, default 30s/5m). A mirror never heard from, or with an error, is CRITICAL.
The origin of a mirror in another JetStream domain is read through the site's own connection with the mirror's API prefix (across the leaf link), so one context is enough. When the origin does not answer (the link is down), seconds behind is an upper bound from the last contact (≤ in the table; secondsBehindIsBound in --json), since the server's lag figure freezes during an outage.
A stream promoted by \`cimops dr promote\` shows as the primary it now is. Two writable streams taking the same subjects at two sites are CRITICAL as a split brain, naming both sites, when the sites are linked (every publish is stored at both) or one was promoted from the other; unlinked sites without a promotion are independent.
Repeat --context or give --all-contexts to look at several sites at once (default: the current context); a site that cannot be read is CRITICAL and delays no other.
--json gives {status, summary, contexts: [{context, domain, status, error, thresholds}], links: [{context, stream, kind, origin, originDomain, messagesBehind, secondsBehind, secondsBehindIsBound, lag, activeSeconds, lastContact, originReachable, error, status, summary}], primaries, splitBrain}; --format nagios one line with perfdata per link (lag, active, seconds_behind, messages_behind) and split_brain.
Exit code is the Nagios code of the overall status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.`
  static examples = [
    {description: 'The DR site: how far its copies are behind the primary', command: '<%= config.bin %> dr status --context sandbox-dr'},
    {description: 'Both sites, to find a split brain after a failover', command: '<%= config.bin %> dr status --context sandbox --context sandbox-dr'},
    {description: 'A tighter recovery point objective', command: '<%= config.bin %> dr status --rpo-warn 10s --rpo-crit 1m'},
    {description: 'For Nagios/Icinga', command: '<%= config.bin %> dr status --context sandbox-dr --format nagios'},
    '<%= config.bin %> dr status --all-contexts --json | jq \'.links[] | {stream, secondsBehind, status}\'',
  ]
  static flags = {
    ...FLEET_FLAGS,
    format: Flags.option({options: ['table', 'nagios'] as const, default: 'table', summary: 'Output format (--json for JSON).'})(),
    'rpo-warn': Flags.string({summary: 'Seconds behind its origin that is a WARNING [context rpoWarnSeconds, default 30s].', helpGroup: THRESHOLDS}),
    'rpo-crit': Flags.string({summary: 'Seconds behind its origin that is CRITICAL [context rpoCritSeconds, default 5m].', helpGroup: THRESHOLDS}),
  }

  async run(): Promise<DrStatusReport> {
    const contexts = ((await this.fleetContexts()) ?? [await this.context()]).map((ctx) => this.withOverrides(ctx))
    const {drStatus} = await import('../../lib/dr/status.js')
    const sessions = await this.sessions(contexts)
    const report = await drStatus(contexts.map((ctx, i) => ({ctx, session: sessions[i]})))
    const {formatDrNagios, renderDrStatus} = await import('../../lib/dr/render.js')
    this.print(this.flags.format === 'nagios' ? formatDrNagios(report) : renderDrStatus(report, this.style, {width: this.width}))
    process.exitCode = NAGIOS_CODE[report.status]
    return report
  }

  /** The command's own session for one context; one each for several, held and closed like it. */
  private async sessions(contexts: ResolvedContext[]): Promise<NatsSession[]> {
    if (contexts.length === 1) return [await this.nats()]
    return Promise.all(contexts.map((ctx) => this.natsAt(ctx, {name: 'cimops-dr-status'})))
  }

  private withOverrides(ctx: ResolvedContext): ResolvedContext {
    const seconds = (flag: string, value?: string) => (value === undefined ? undefined : parseDuration(value, `--${flag}`) / 1000)
    return withThresholdFlags(ctx, {rpoWarnSeconds: seconds('rpo-warn', this.flags['rpo-warn']), rpoCritSeconds: seconds('rpo-crit', this.flags['rpo-crit'])})
  }
}
