import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import type {IncidentListResult} from '../../lib/incident/service.js'

export default class IncidentList extends BaseCommand<typeof IncidentList> {
  static summary = 'List incidents: the open ones, or all with --all'
  static description = `Folds the events on cim.ops.incident.> of the ops log: every on-call engineer sees the same incidents.
Newest first. Also re-posts the Alertmanager alerts of open incidents, so they stay firing.`
  static examples = ['<%= config.bin %> incident list', '<%= config.bin %> incident list --all --json | jq -r \'.incidents[] | [.id, .status, .title] | @tsv\'']
  static flags = {
    open: Flags.boolean({summary: 'Only open incidents (the default).', exclusive: ['all']}),
    all: Flags.boolean({summary: 'Resolved incidents too.', exclusive: ['open']}),
  }

  async run(): Promise<IncidentListResult> {
    const ctx = await this.context()
    const [{listIncidents}, {renderList}] = await Promise.all([import('../../lib/incident/service.js'), import('../../lib/incident/render.js')])
    const result = await listIncidents(ctx, {all: this.flags.all}, {signal: this.signal, nats: await this.nats()})
    this.print(renderList(result.incidents, result.scope, {style: this.style, width: this.width}))
    for (const warning of result.warnings) this.note(`cimops: warning: ${warning}`)
    return result
  }
}
