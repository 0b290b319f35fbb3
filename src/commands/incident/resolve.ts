import {Args, Flags} from '@oclif/core'

import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import type {IncidentActionResult} from '../../lib/incident/service.js'

export default class IncidentResolve extends BaseCommand<typeof IncidentResolve> {
  static audited = true
  static summary = 'Resolve an incident: record it, resolve the Alertmanager alert, PagerDuty and tell Slack'
  static description = `Records IncidentResolved, posts the IncidentDeclared alert with endsAt now (so Alertmanager sends its resolved notification), sends a PagerDuty resolve for the incident's dedup key and a Slack message.
Failed notifications are retried with backoff and recorded; \`cimops incident notify ID\` retries them later.`
  static examples = [
    '<%= config.bin %> incident resolve INC-20261122-1 --note "orders-api 1.42 rolled back; projections caught up"',
    '<%= config.bin %> incident resolve INC-20261122-1 --json',
  ]
  static args = {id: Args.string({description: 'incident id, e.g. INC-20261122-1', required: true})}
  static flags = {
    note: Flags.string({summary: 'Resolution: what fixed it.'}),
    ...MUTATING_FLAGS,
  }

  async run(): Promise<IncidentActionResult> {
    const ctx = await this.context()
    const [{resolveIncident}, {renderAction}, {parseIncidentIdArg}] = await Promise.all([
      import('../../lib/incident/service.js'),
      import('../../lib/incident/render.js'),
      import('../../lib/incident/store.js'),
    ])
    const id = parseIncidentIdArg(this.args.id)
    const note = this.flags.note?.trim() || undefined
    const result = await resolveIncident(ctx, id, {note}, {signal: this.signal, actor: this.flags.actor, nats: await this.nats()})
    this.print(renderAction('Resolved', result, {style: this.style, width: this.width}))
    for (const warning of result.warnings) this.note(`cimops: warning: ${warning}`)
    return result
  }
}
