import {BaseCommand} from '../../lib/core/base-command.js'
import {renderTable} from '../../lib/core/output/table.js'
import {type ContextListResult, listContexts} from '../../lib/contexts/service.js'

export default class ContextList extends BaseCommand<typeof ContextList> {
  static summary = 'List cimops contexts'
  static description = 'Each context names the NATS servers (or a natscli context), Prometheus and Alertmanager of one environment. The current one is marked with *.'
  static examples = ['<%= config.bin %> context list', '<%= config.bin %> context list --json']

  async run(): Promise<ContextListResult> {
    const result = await listContexts()
    if (result.contexts.length === 0) {
      this.print(`No contexts in ${result.file}. Add one with \`cimops context add NAME --nats-url nats://host:4222\`, or start a local sandbox with \`cimops sandbox up\`.`)
      return result
    }
    this.print(
      renderTable(
        result.contexts,
        [
          {header: '', get: (c) => (c.current ? '*' : '')},
          {header: 'NAME', get: (c) => c.name, paint: (t, c) => (c.current ? this.style.bold(t) : t)},
          {header: 'NATS', get: (c) => c.nats, flexible: true},
          {header: 'PROMETHEUS', get: (c) => c.prometheus ?? '(default)', flexible: true},
          {header: 'ALERTMANAGER', get: (c) => c.alertmanager ?? '(default)', flexible: true},
        ],
        {width: this.width, paintHeader: this.style.dim},
      ),
    )
    return result
  }
}
