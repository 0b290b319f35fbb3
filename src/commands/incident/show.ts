import {Args} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import type {IncidentShowResult} from '../../lib/incident/service.js'

export default class IncidentShow extends BaseCommand<typeof IncidentShow> {
  static summary = 'Show an incident: state, notifications, snapshot and timeline'
  static examples = ['<%= config.bin %> incident show INC-20261122-1', '<%= config.bin %> incident show INC-20261122-1 --json | jq .incident.timeline']
  static args = {id: Args.string({description: 'incident id, e.g. INC-20261122-1', required: true})}

  async run(): Promise<IncidentShowResult> {
    const ctx = await this.context()
    const [{showIncident}, {renderIncident}, {parseIncidentIdArg}] = await Promise.all([
      import('../../lib/incident/service.js'),
      import('../../lib/incident/render.js'),
      import('../../lib/incident/store.js'),
    ])
    const result = await showIncident(ctx, parseIncidentIdArg(this.args.id), {signal: this.signal, nats: await this.nats()})
    this.print(renderIncident(result.incident, {style: this.style, width: this.width}))
    for (const warning of result.warnings) this.note(`cimops: warning: ${warning}`)
    return result
  }
}
