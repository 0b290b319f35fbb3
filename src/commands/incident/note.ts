import {Args, Flags} from '@oclif/core'

import {SEVERITY_CHOICES, severityAliasNote, severityFlag} from '../../flags/incident-severity.js'
import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import {UsageError} from '../../lib/core/errors.js'
import type {IncidentActionResult} from '../../lib/incident/service.js'

export default class IncidentNote extends BaseCommand<typeof IncidentNote> {
  static audited = true
  static summary = "Add a note to an incident's timeline, optionally changing its severity or commander"
  static description = `Records IncidentNoteAdded (and IncidentSeverityChanged / IncidentCommanderAssigned when --severity / --commander change them).
Re-posts the Alertmanager alert of every open incident and retries this incident's failed notifications.`
  static examples = [
    '<%= config.bin %> incident note INC-20261122-1 "Rolled back orders-api to 1.42; lag falling"',
    '<%= config.bin %> incident note INC-20261122-1 "Handing over" --commander bob --severity major',
  ]
  static args = {
    id: Args.string({description: 'incident id, e.g. INC-20261122-1', required: true}),
    text: Args.string({description: 'the note', required: true}),
  }
  static flags = {
    severity: severityFlag({summary: `Change the severity: ${SEVERITY_CHOICES}.`}),
    commander: Flags.string({summary: 'Hand over to a new incident commander.'}),
    ...MUTATING_FLAGS,
  }

  async run(): Promise<IncidentActionResult> {
    const text = this.args.text.trim()
    if (text === '') throw new UsageError('invalid note', 'it is empty')
    const aliasNote = severityAliasNote(this.flags.severity)
    if (aliasNote) this.note(aliasNote)
    const ctx = await this.context()
    const [{addNote}, {renderAction}, {parseIncidentIdArg}] = await Promise.all([
      import('../../lib/incident/service.js'),
      import('../../lib/incident/render.js'),
      import('../../lib/incident/store.js'),
    ])
    const id = parseIncidentIdArg(this.args.id)
    const result = await addNote(ctx, id, {text, severity: this.flags.severity?.severity, commander: this.flags.commander}, {signal: this.signal, actor: this.flags.actor, nats: await this.nats()})
    this.print(renderAction('Note added to', result, {style: this.style, width: this.width}))
    for (const warning of result.warnings) this.note(`cimops: warning: ${warning}`)
    return result
  }
}
