import {Args, Flags} from '@oclif/core'

import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import {OperationError} from '../../lib/core/errors.js'
import type {PromotionResult} from '../../lib/dr/promote.js'

export default class DrPromote extends BaseCommand<typeof DrPromote> {
  static audited = true
  static summary = 'Failover: make the DR copy (a mirror) the writable event stream when the primary site is lost'
  static description = `Run it against the surviving site (--context sandbox-dr). It first builds a plan and checks everything that could make it fail, changing nothing: the stream exists and is a mirror, the subjects to take (--subjects, else the origin's when it answers, else cim.>) are captured by no other stream at this site.
Split brain is the danger of every failover: when the old primary can be reached (through the mirror's API prefix while the link is up, or --fence-context), its stream is fenced first (its subjects replaced by cimops.fenced.<STREAM>.>, the old ones recorded on it and in the ops log) and the copy waits, up to --wait, until it holds every event the origin acknowledged. When it cannot be reached it says so plainly: the old primary must then be fenced or kept isolated before its link returns.
nats-server 2.12+ promotes the mirror in place (its events keep their sequences and times). Older servers cannot remove a mirror (error 10055): the safest path creates --new-stream sourcing the mirror, waits until it holds every event, then gives it the subjects; its events are renumbered and timed at the copy, and the mirror is kept as evidence.
The promoted stream is marked (metadata on 2.10+, else its description) so that \`cimops dr status\` shows it as the new primary, and the promotion is recorded in this site's ops log.
Always asks first; without a terminal it refuses unless --yes. --dry-run shows the plan and the events the copy lacks as far as can be known.
Exit codes: 0 promoted (or the dry-run plan); 2 the stream does not exist, or a step failed (the line says what was left changed: re-running continues); 64 bad usage, not a mirror, subjects captured by another stream, or no confirmation; 69 this site unreachable; 75 timed out.`
  static examples = [
    {description: 'See the plan and what the copy lacks', command: '<%= config.bin %> dr promote EVENTS_DR --context sandbox-dr --dry-run'},
    {description: 'Fail over, from a script', command: '<%= config.bin %> dr promote EVENTS_DR --context sandbox-dr --yes --json'},
    {description: 'Fence the old primary through its own context', command: '<%= config.bin %> dr promote EVENTS_DR --context prod-dr --fence-context prod'},
    {description: 'Take chosen subjects; the old primary was isolated by hand', command: '<%= config.bin %> dr promote EVENTS_DR --context prod-dr --subjects "cim.>" --no-fence'},
  ]
  static args = {stream: Args.string({description: 'the DR copy (a mirror) at this site', required: true})}
  static flags = {
    subjects: Flags.string({multiple: true, delimiter: ',', summary: "Subjects the promoted stream takes [default: the origin's when it answers, else cim.>]."}),
    'fence-context': Flags.string({summary: 'A context pointing at the old primary, to fence it when the mirror cannot reach it.'}),
    'no-fence': Flags.boolean({summary: 'Do not fence the old primary (it is isolated some other way).', exclusive: ['fence-context']}),
    'new-stream': Flags.string({summary: 'Servers before 2.12: the stream to promote into [default: <STREAM>_PROMOTED].'}),
    wait: Flags.string({default: '60s', summary: 'How long the copy may take to catch up (after fencing; on the safest path).'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask (required without a terminal).'}),
    'dry-run': Flags.boolean({summary: 'Show the plan and what the copy lacks; change nothing.'}),
    ...MUTATING_FLAGS,
  }

  async run(): Promise<PromotionResult> {
    const [{parseDuration, MAX_TIMER_MS}, {preparePromotion}, {renderPromotion, renderPromotionPlan}, {confirm}] = await Promise.all([
      import('../../lib/core/duration.js'),
      import('../../lib/dr/promote.js'),
      import('../../lib/dr/promote-render.js'),
      import('../../lib/core/confirm.js'),
    ])
    const waitMs = parseDuration(this.flags.wait, '--wait', {max: MAX_TIMER_MS})
    const dryRun = this.flags['dry-run']
    const ctx = await this.context()
    const fenceNats = await this.fenceSession()
    const promotion = await preparePromotion(ctx, {
      stream: this.args.stream,
      subjects: this.flags.subjects,
      noFence: this.flags['no-fence'],
      newStream: this.flags['new-stream'],
      waitMs,
      actor: this.flags.actor,
      nats: await this.nats(),
      ...(fenceNats ? {fenceNats} : {}),
      signal: this.signal,
    })
    const {plan} = promotion
    this.print(renderPromotionPlan(plan, this.style, {dryRun}))
    if (dryRun) return promotion.dryRun()
    const unfenced = plan.fence.action === 'unreachable' ? ' The old primary is NOT fenced.' : ''
    if (!(await confirm(`Promote ${plan.stream}${plan.mode === 'update' ? '' : ` into ${plan.promotedStream}`} to the writable event stream?${unfenced}`, {yes: this.flags.yes}))) {
      throw new OperationError(`${plan.stream} not promoted`, 'declined at the prompt; nothing was changed')
    }
    const result = await promotion.execute()
    this.print(renderPromotion(result, this.style))
    return result
  }

  /** The old primary's own session, when --fence-context names it. */
  private async fenceSession() {
    const name = this.flags['fence-context']
    if (!name) return undefined
    return {context: name, session: await this.natsAt(await this.otherContext(name), {name: 'cimops-dr-promote-fence'})}
  }
}
