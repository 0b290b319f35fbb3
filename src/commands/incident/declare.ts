import {Flags} from '@oclif/core'

import {SEVERITY_CHOICES, severityAliasNote, severityFlag} from '../../flags/incident-severity.js'
import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import {UsageError} from '../../lib/core/errors.js'
import type {IncidentActionResult} from '../../lib/incident/service.js'

export default class IncidentDeclare extends BaseCommand<typeof IncidentDeclare> {
  static audited = true
  static summary = 'Declare an incident: record it in the ops log and page through Alertmanager, PagerDuty and Slack'
  static description = `Allocates an id INC-YYYYMMDD-N (unique across concurrent declarers), records the IncidentDeclared event on cim.ops.incident.<id>.IncidentDeclared with a snapshot of the health check and the firing alerts, then notifies:
- Alertmanager: alert IncidentDeclared{incident, severity} with annotations title, summary, commander, and an explicit endsAt 12h ahead; every incident command re-posts it while the incident is open, so your existing routes page the on-call and it never resolves by itself;
- PagerDuty Events v2 (trigger, dedup key = incident id) and a Slack webhook, when the context has notifiers (secrets read from files).
The id is printed on stderr as soon as the incident is recorded. Failed notifications (429/5xx/unreachable) are retried with backoff within 10s in total (or one --timeout, if longer), reported, and recorded as events; an answer that is not the service's documented success (a login page) is a failure. The incident is recorded regardless: retry them with \`cimops incident notify ID\`, also after Ctrl-C (exit 130), never by declaring again.`
  static examples = [
    {description: 'Page the on-call', command: '<%= config.bin %> incident declare --title "Payments projection stalled" --severity critical --commander alice'},
    {description: 'Quick, without the health snapshot, id only', command: '<%= config.bin %> incident declare --title "Orders lag" --severity minor --no-snapshot --json | jq -r .incident.id'},
  ]
  static flags = {
    title: Flags.string({summary: 'What is wrong, in a line.', required: true}),
    severity: severityFlag({summary: `How bad it is: ${SEVERITY_CHOICES}.`, required: true}),
    summary: Flags.string({summary: 'More detail: impact, first observations.'}),
    commander: Flags.string({summary: 'Incident commander (name or handle).'}),
    snapshot: Flags.boolean({summary: 'Record the health-check result and firing alerts (--no-snapshot skips it).', default: true, allowNo: true}),
    ...MUTATING_FLAGS,
  }

  async run(): Promise<IncidentActionResult> {
    const {title, summary, commander, snapshot, actor} = this.flags
    const {severity} = this.flags.severity
    if (title.trim() === '') throw new UsageError('invalid --title', 'it is empty', {hint: 'say what is wrong in a line'})
    const aliasNote = severityAliasNote(this.flags.severity)
    if (aliasNote) this.note(aliasNote)
    const ctx = await this.context()
    const [{declareIncident}, {renderAction}] = await Promise.all([import('../../lib/incident/service.js'), import('../../lib/incident/render.js')])
    // On stderr even under --json: whoever is waiting on the notifications knows the id, and Ctrl-C is safe from here.
    const onRecorded = (id: string) => process.stderr.write(`Recorded ${id}; notifying (Ctrl-C is safe now: \`cimops incident notify ${id}\` sends what is left)\n`)
    const result = await declareIncident(ctx, {title: title.trim(), severity, summary, commander, snapshot}, {signal: this.signal, actor, onRecorded, nats: await this.nats()})
    this.print(renderAction('Declared', result, {style: this.style, width: this.width}))
    for (const warning of result.warnings) this.note(`cimops: warning: ${warning}`)
    return result
  }
}
