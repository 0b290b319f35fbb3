import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {parseDuration} from '../../lib/core/duration.js'
import {UsageError} from '../../lib/core/errors.js'
import {parseMatcherArgs} from '../../lib/alerts/matchers.js'
import {MATCHER_FLAGS, matcherMode} from '../../flags/matchers.js'
import type {AlertHistoryResult} from '../../lib/alerts/model.js'

export default class AlertsHistory extends BaseCommand<typeof AlertsHistory> {
  static summary = 'What fired in a time window: firing episodes from Prometheus'
  static description = `Neither Alertmanager nor Prometheus keeps alert history, but Prometheus records the ALERTS series while a rule fires. This runs a range query over ALERTS{alertstate="firing"} (and your matchers) and folds each alert's samples into episodes: from, to (or "still firing") and duration.
Times are accurate to the step: by default 15s, coarser when the window needs it (Prometheus allows 11,000 points per series; 30d gives 236s). Episodes separated by at most two steps are merged. Each step point covers the step before it, left edge excluded, alike on Prometheus 2 and 3. The newest edge is exact whatever the step: the last two to three steps come from the raw samples (one per rule evaluation), and "still firing" means firing now. History reaches back as far as Prometheus' retention, and only covers rules this Prometheus evaluates (alerts posted straight to Alertmanager are not in it).
Matchers use Alertmanager's syntax (see \`cimops alerts list --help\`); a bare first word is an alertname.`
  static examples = [
    {description: 'What fired overnight', command: '<%= config.bin %> alerts history --since 12h'},
    {description: 'One alert over the last two days', command: '<%= config.bin %> alerts history HighEventLag --since 2d'},
    {description: 'Fine-grained, for the last 10 minutes', command: '<%= config.bin %> alerts history --since 10m --step 5s severity=critical'},
    '<%= config.bin %> alerts history --since 24h --json | jq \'.episodes[] | select(.stillFiring)\'',
  ]
  static strict = false
  static args = {
    matcher: Args.string({description: 'Alertmanager-style matcher(s) on the alert labels, ANDed; a bare first word is an alertname.'}),
  }
  static flags = {
    ...MATCHER_FLAGS,
    since: Flags.string({summary: 'How far back to look, e.g. 30m, 12h, 2d.', default: '12h'}),
    step: Flags.string({summary: 'Resolution of the query [default: the larger of 15s and window/11000].'}),
  }

  async run(): Promise<AlertHistoryResult> {
    const {argv} = await this.parse({flags: AlertsHistory.flags, baseFlags: BaseCommand.baseFlags, args: AlertsHistory.args, strict: false, enableJsonFlag: true})
    const {matchers, warnings} = parseMatcherArgs(argv as string[], matcherMode(this.flags))
    for (const warning of warnings) this.warning(warning)
    const sinceMs = parseDuration(this.flags.since, '--since')
    if (sinceMs <= 0) throw new UsageError(`invalid --since "${this.flags.since}"`, 'the window must be longer than 0s')
    const stepMs = this.flags.step === undefined ? undefined : parseDuration(this.flags.step, '--step')
    if (stepMs !== undefined && stepMs <= 0) throw new UsageError(`invalid --step "${this.flags.step}"`, 'the step must be longer than 0s')
    const ctx = await this.context()
    const {prometheusFor} = await import('../../lib/alerts/clients.js')
    const {alertHistory} = await import('../../lib/alerts/history.js')
    const result = await alertHistory(await prometheusFor(ctx), {matchers, sinceMs, stepMs})
    for (const warning of result.warnings) this.note(this.style.status('WARNING', `prometheus warning: ${warning}`))
    // Infos are hints about the query (e.g. "might not be a counter"), not about the answer: only asked for.
    if (this.flags.verbose) for (const info of result.infos) this.note(this.style.dim(`prometheus info: ${info}`))
    await this.render(result)
    return result
  }

  private async render(result: AlertHistoryResult): Promise<void> {
    const {renderAlertHistory} = await import('../../lib/alerts/render-history.js')
    this.print(renderAlertHistory(result, `the last ${this.flags.since}`, {style: this.style, width: this.width}))
  }
}
