import {Flags} from '@oclif/core'

import type {AuditListResult} from '../../lib/audit/list.js'
import {renderAuditList} from '../../lib/audit/render.js'
import {BaseCommand} from '../../lib/core/base-command.js'
import {parseDuration} from '../../lib/core/duration.js'

export default class AuditList extends BaseCommand<typeof AuditList> {
  static summary = 'Show what operators did: every mutating cimops command, from the ops log'
  static description = `Reads cim.ops.audit.> from the ops log (CIM_OPS, or the stream that captures cim.ops.>), so every machine sees the same history: who (user@host or --actor), when, the command with its arguments (secrets masked), the outcome and how long it took.
Events for this context and these NATS servers that could not be written yet (still in this machine's spool) are listed too, marked "spooled"; the next mutating command against the same context and servers writes them.`
  static examples = [
    '<%= config.bin %> audit list',
    '<%= config.bin %> audit list --since 7d --command "alerts silence add"',
    '<%= config.bin %> audit list --actor alice --json | jq \'.events[] | select(.outcome != "success")\'',
  ]
  static flags = {
    since: Flags.string({summary: 'How far back to look.', default: '24h'}),
    command: Flags.string({summary: 'Only this command, e.g. "restore" or "alerts silence add".'}),
    actor: Flags.string({summary: 'Only this actor (user or user@host).'}),
  }

  async run(): Promise<AuditListResult> {
    const since = new Date(Date.now() - parseDuration(this.flags.since, '--since'))
    const ctx = await this.context()
    const {listAuditEvents} = await import('../../lib/audit/list.js')
    const result = await listAuditEvents(ctx, await this.nats(), {since, command: this.flags.command, actor: this.flags.actor})
    this.print(renderAuditList(result, since, {style: this.style, width: this.width}))
    return result
  }
}
