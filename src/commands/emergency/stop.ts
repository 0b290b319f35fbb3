import {Flags} from '@oclif/core'

import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import {confirm} from '../../lib/core/confirm.js'
import {OperationError} from '../../lib/core/errors.js'
import {checkDomain} from '../../lib/emergency/model.js'
import type {EmergencyResult} from '../../lib/emergency/service.js'

export default class EmergencyStop extends BaseCommand<typeof EmergencyStop> {
  static audited = true
  static summary = "Emergency stop: tell every CIM service to stop, and pause the domain's consumers where the server can"
  static description = `Publishes cim.ops.emergency.stop on the ops log: {id, type, domain (null = all domains), reason, actor, time}. CIM services honour it.
As the part cimops can enforce itself, pauses delivery to the domain's durable consumers on the events stream (projections <domain>-*), but only where nats-server supports consumer pause (2.11+, read from the server's INFO). On older servers it says that only the broadcast was possible, and which consumers keep receiving.
--domain must be a domain the events stream knows (subjects cim.<domain>.> holding events, or consumers <domain>-<projection>): a typo is refused with exit 64, listing the known domains; --force accepts a new name on purpose.
Asks for confirmation on a terminal; without one it refuses unless --yes (exit 64). Undo with \`cimops emergency resume\`.`
  static examples = [
    {description: 'Stop the orders domain', command: '<%= config.bin %> emergency stop --domain orders --reason "duplicate payments being projected"'},
    {description: 'Everything, from a script', command: '<%= config.bin %> emergency stop --reason "data corruption suspected" --yes --json'},
    {description: 'See what would happen', command: '<%= config.bin %> emergency stop --domain orders --dry-run'},
  ]
  static flags = {
    domain: Flags.string({summary: 'Only this domain (default: all domains); must be one the events stream knows.'}),
    force: Flags.boolean({summary: 'Accept a --domain the events stream does not know (a deliberate new name).'}),
    reason: Flags.string({summary: 'Why: shown to every service and in the ops log.'}),
    yes: Flags.boolean({summary: 'Do not ask for confirmation (required without a terminal).'}),
    'dry-run': Flags.boolean({summary: 'Show what would be broadcast and paused; change nothing.'}),
    ...MUTATING_FLAGS,
  }

  async run(): Promise<EmergencyResult> {
    const {domain, reason, yes, actor, force} = this.flags
    const dryRun = this.flags['dry-run']
    checkDomain(domain)
    const ctx = await this.context()
    if (domain !== undefined && !force) {
      const {assertKnownDomain} = await import('../../lib/emergency/domains.js')
      const unchecked = await assertKnownDomain(ctx, await this.nats(), domain, 'pass --force to stop a domain with no events or consumers yet')
      if (unchecked) this.note(this.style.dim(`note: ${unchecked}`))
    }
    const scope = domain ? `domain ${domain}` : 'ALL domains'
    if (!dryRun && !(await confirm(`Emergency stop of ${scope}: broadcast cim.ops.emergency.stop and pause its consumers?`, {yes}))) {
      throw new OperationError('emergency stop not done', 'declined at the prompt; nothing was changed')
    }
    const [{emergency}, {renderEmergency}] = await Promise.all([import('../../lib/emergency/service.js'), import('../../lib/emergency/render.js')])
    const result = await emergency(ctx, 'stop', {domain: domain ?? null, reason, actor, dryRun, nats: await this.nats()})
    this.print(renderEmergency(result, {style: this.style, width: this.width}))
    return result
  }
}
