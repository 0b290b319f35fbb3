import {Flags} from '@oclif/core'

import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import {confirm} from '../../lib/core/confirm.js'
import {OperationError} from '../../lib/core/errors.js'
import {checkDomain} from '../../lib/emergency/model.js'
import type {EmergencyResult} from '../../lib/emergency/service.js'

export default class EmergencyResume extends BaseCommand<typeof EmergencyResume> {
  static audited = true
  static summary = 'Undo an emergency stop: resume paused consumers and tell every CIM service to resume'
  static description = `Resumes the domain's durable consumers on the events stream that are paused (nats-server 2.11+), then publishes cim.ops.emergency.resume on the ops log.
--domain must be one the events stream knows, as for stop (exit 64 listing them; --force for a new name).
Asks for confirmation on a terminal; without one it refuses unless --yes (exit 64).`
  static examples = [
    '<%= config.bin %> emergency resume --domain orders --reason "fix deployed"',
    '<%= config.bin %> emergency resume --yes --json',
  ]
  static flags = {
    domain: Flags.string({summary: 'Only this domain (default: all domains); must be one the events stream knows.'}),
    force: Flags.boolean({summary: 'Accept a --domain the events stream does not know (a deliberate new name).'}),
    reason: Flags.string({summary: 'Why it is safe again.'}),
    yes: Flags.boolean({summary: 'Do not ask for confirmation (required without a terminal).'}),
    'dry-run': Flags.boolean({summary: 'Show what would be broadcast and resumed; change nothing.'}),
    ...MUTATING_FLAGS,
  }

  async run(): Promise<EmergencyResult> {
    const {domain, reason, yes, actor, force} = this.flags
    const dryRun = this.flags['dry-run']
    checkDomain(domain)
    const ctx = await this.context()
    if (domain !== undefined && !force) {
      const {assertKnownDomain} = await import('../../lib/emergency/domains.js')
      const unchecked = await assertKnownDomain(ctx, await this.nats(), domain, 'pass --force to resume a domain with no events or consumers yet')
      if (unchecked) this.note(this.style.dim(`note: ${unchecked}`))
    }
    const scope = domain ? `domain ${domain}` : 'ALL domains'
    if (!dryRun && !(await confirm(`Resume ${scope}: resume paused consumers and broadcast cim.ops.emergency.resume?`, {yes}))) {
      throw new OperationError('emergency resume not done', 'declined at the prompt; nothing was changed')
    }
    const [{emergency}, {renderEmergency}] = await Promise.all([import('../../lib/emergency/service.js'), import('../../lib/emergency/render.js')])
    const result = await emergency(ctx, 'resume', {domain: domain ?? null, reason, actor, dryRun, nats: await this.nats()})
    this.print(renderEmergency(result, {style: this.style, width: this.width}))
    return result
  }
}
