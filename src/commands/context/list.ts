import {BaseCommand} from '../../lib/core/base-command.js'
import {renderContextList} from '../../lib/contexts/render.js'
import {type ContextListResult, listContexts} from '../../lib/contexts/service.js'

export default class ContextList extends BaseCommand<typeof ContextList> {
  static summary = 'List cimops contexts'
  static description = 'Each context names the NATS servers (or a natscli context), Prometheus and Alertmanager of one environment. The current one is marked with *.'
  static examples = ['<%= config.bin %> context list', '<%= config.bin %> context list --json']

  async run(): Promise<ContextListResult> {
    const result = await listContexts()
    this.print(renderContextList(result, {style: this.style, width: this.width}))
    return result
  }
}
