import {Args, Flags} from '@oclif/core'

import {osUser} from '../../../lib/core/actor.js'
import {BaseCommand} from '../../../lib/core/base-command.js'
import {parseDuration} from '../../../lib/core/duration.js'
import {OperationError} from '../../../lib/core/errors.js'
import {plural} from '../../../lib/core/output/units.js'
import {formatMatcher, parseMatcherArgs} from '../../../lib/alerts/matchers.js'
import {MATCHER_FLAGS, matcherMode} from '../../../flags/matchers.js'
import type {SilencePlan} from '../../../lib/alerts/silences.js'

export interface SilenceAddResult extends SilencePlan {
  dryRun: boolean
  /** The new silence's ID; absent with --dry-run. */
  id?: string
}

export default class AlertsSilenceAdd extends BaseCommand<typeof AlertsSilenceAdd> {
  static summary = 'Silence alerts matching MATCHER... for a while, with a comment saying why'
  static description = `Matchers use Alertmanager's syntax and are ANDed (see \`cimops alerts list --help\`); a bare first word is an alertname. At least one matcher must not match an empty label (Alertmanager's rule).
--dry-run shows which current alerts the silence would match and creates nothing. A silence that matches every current alert asks for confirmation on a terminal and needs --yes otherwise.
The author (--actor) defaults to your OS user name. --annotation NAME=VALUE (repeatable) stores more on the silence, such as a ticket; it needs Alertmanager 0.32 or newer and is refused (exit 64) on older ones.
Prints the new silence's ID; expire it early with \`cimops alerts silence expire ID\`.`
  static examples = [
    {description: 'Silence one alert for the default 2 hours', command: '<%= config.bin %> alerts silence add HighEventLag domain=graph --comment "replaying graph projections, INC-42"'},
    {description: 'See first what a silence would catch', command: '<%= config.bin %> alerts silence add \'instance=~"gpu-0[1-3]"\' --duration 30m --comment "GPU maintenance" --dry-run'},
    '<%= config.bin %> alerts silence add alertname=DiskAlmostFull --duration 1d --comment "resize scheduled" --actor alice --json | jq -r .id',
    {description: 'With annotations (Alertmanager 0.32+)', command: '<%= config.bin %> alerts silence add NatsSlowConsumer --comment "consumer rebuild" --annotation ticket=INC-42 --annotation team=data'},
  ]
  static audited = true
  static strict = false
  static args = {
    matcher: Args.string({description: 'Alertmanager matcher(s), ANDed, e.g. alertname=HighEventLag domain=graph.'}),
  }
  static flags = {
    ...MATCHER_FLAGS,
    comment: Flags.string({char: 'c', summary: 'Why the alerts are silenced (required).'}),
    duration: Flags.string({char: 'd', summary: 'How long the silence lasts, e.g. 30m, 2h, 1d.', default: '2h'}),
    // --author was this flag's name before --actor became the one word for who acts; scripts still pass it.
    actor: Flags.string({char: 'a', aliases: ['author'], summary: 'Who silenced, as recorded on the silence and in the ops log [default: OS user].'}),
    annotation: Flags.string({summary: 'Annotation NAME=VALUE stored on the silence (repeatable; Alertmanager 0.32+).', multiple: true, multipleNonGreedy: true}),
    'dry-run': Flags.boolean({summary: 'Show which current alerts would be silenced; create nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask, even when the silence matches every current alert.'}),
  }

  async run(): Promise<SilenceAddResult> {
    const {argv} = await this.parse({flags: AlertsSilenceAdd.flags, baseFlags: BaseCommand.baseFlags, args: AlertsSilenceAdd.args, strict: false, enableJsonFlag: true})
    const {matchers, warnings} = parseMatcherArgs(argv as string[], matcherMode(this.flags))
    for (const warning of warnings) this.warning(warning)
    const durationMs = parseDuration(this.flags.duration, '--duration')
    const {checkSilenceInput, parseAnnotations, planSilence, createSilence} = await import('../../../lib/alerts/silences.js')
    const annotations = parseAnnotations(this.flags.annotation ?? [])
    const input = {matchers, durationMs, author: this.flags.actor ?? osUser(), comment: this.flags.comment ?? '', annotations}
    checkSilenceInput(input) // usage errors before any network call
    const ctx = await this.context()
    const {alertmanagerFor} = await import('../../../lib/alerts/clients.js')
    const alertmanager = await alertmanagerFor(ctx)
    const plan = await planSilence(alertmanager, input)
    const what = matchers.map(formatMatcher).join(' ')

    if (this.flags['dry-run']) {
      await this.renderPlan(plan, what)
      return {...plan, dryRun: true}
    }
    if (plan.matchesEveryAlert) {
      const {confirm} = await import('../../../lib/core/confirm.js')
      const question = `${what} matches every current alert (${plural(plan.totalAlerts, 'alert')}); silence them all?`
      if (!(await confirm(question, {yes: this.flags.yes}))) {
        throw new OperationError('silence not created', 'declined at the prompt')
      }
    }
    const id = await createSilence(alertmanager, plan)
    const {humanSeconds, localTimeOrDate} = await helpers()
    this.print(`Silenced ${plural(plan.matchedAlerts.length, 'current alert')} matching ${what} for ${humanSeconds(plan.durationSeconds)} (until ${localTimeOrDate(plan.endsAt)}).`)
    this.print(id)
    return {...plan, dryRun: false, id}
  }

  private async renderPlan(plan: SilencePlan, what: string): Promise<void> {
    const {humanSeconds} = await helpers()
    const {renderAlertTable} = await import('../../../lib/alerts/render.js')
    this.print(
      `Dry run: a silence of ${what} for ${humanSeconds(plan.durationSeconds)} by ${plan.createdBy} would match ${plural(plan.matchedAlerts.length, 'current alert')} of ${plan.totalAlerts}. Nothing created.`,
    )
    if (plan.matchesEveryAlert) this.print(this.style.status('WARNING', 'It matches every current alert: creating it needs confirmation (--yes).'))
    if (plan.matchedAlerts.length > 0) this.print(`\n${renderAlertTable(plan.matchedAlerts, {style: this.style, width: this.width, now: Date.now(), runbook: false})}`)
  }
}

async function helpers() {
  const {humanSeconds} = await import('../../../lib/alerts/model.js')
  const {localTime} = await import('../../../lib/alerts/render.js')
  return {humanSeconds, localTimeOrDate: (iso: string) => localTime(iso, Date.now())}
}
