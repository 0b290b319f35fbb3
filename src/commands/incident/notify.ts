import {Args} from '@oclif/core'

import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import {ExitCode} from '../../lib/core/errors.js'
import type {IncidentActionResult} from '../../lib/incident/service.js'

export default class IncidentNotify extends BaseCommand<typeof IncidentNotify> {
  static audited = true
  static summary = "Send an incident's notifications again: re-post the Alertmanager alert, retry failed PagerDuty and Slack"
  static description = `Re-posts the IncidentDeclared alert (firing while the incident is open, resolved once it is resolved) and sends PagerDuty and Slack whatever they have not yet received for the incident's state. Outcomes are recorded as events.
Exit code 2 when a notification still fails.`
  static examples = [
    {description: 'After Alertmanager or PagerDuty is back', command: '<%= config.bin %> incident notify INC-20261122-1'},
  ]
  static args = {id: Args.string({description: 'incident id, e.g. INC-20261122-1', required: true})}
  static flags = {...MUTATING_FLAGS}

  async run(): Promise<IncidentActionResult> {
    const ctx = await this.context()
    const [{notifyIncident}, {renderAction}, {parseIncidentIdArg}] = await Promise.all([
      import('../../lib/incident/service.js'),
      import('../../lib/incident/render.js'),
      import('../../lib/incident/store.js'),
    ])
    const id = parseIncidentIdArg(this.args.id)
    const result = await notifyIncident(ctx, id, {signal: this.signal, actor: this.flags.actor, nats: await this.nats()})
    this.print(renderAction('Notified for', result, {style: this.style, width: this.width}))
    for (const warning of result.warnings) this.note(`cimops: warning: ${warning}`)
    if (result.notifications.some((n) => n.outcome === 'failed')) process.exitCode = ExitCode.FAILED
    return result
  }
}
