import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../lib/core/base-command.js'
import type {SilenceListResult} from '../../../lib/alerts/model.js'
import type {ListSilencesOptions, SilenceState} from '../../../lib/alerts/silences.js'

export default class AlertsSilenceList extends BaseCommand<typeof AlertsSilenceList> {
  static summary = 'List silences with the time they have left and how many current alerts each matches'
  static description = `Active and pending silences by default (active soonest to end first, then pending soonest to start); --state picks the states, and expired silences come last, most recent first (Alertmanager keeps them for its data retention, 5 days by default).
--created-by keeps the silences of exactly that author, --comment those whose comment contains the text (ignoring case); cimops filters the list itself, so they work on every Alertmanager version.
MATCHING counts the current alerts, in any state, that the silence's matchers match. ANNOTATIONS (Alertmanager 0.32+) appears when a listed silence has some; --json always has an annotations object, {} where none.`
  static examples = [
    '<%= config.bin %> alerts silence list',
    '<%= config.bin %> alerts silence list --state expired --comment INC-311',
    '<%= config.bin %> alerts silence list --state active,pending,expired --created-by alice',
    '<%= config.bin %> alerts silence list --json | jq -r \'.silences[] | select(.matchingAlerts == 0) | .id\'',
  ]
  static flags = {
    state: Flags.string({
      summary: 'Only silences in these states, comma-separated or repeated [default: active,pending].',
      options: ['active', 'pending', 'expired'],
      multiple: true,
      delimiter: ',',
      exclusive: ['expired'],
    }),
    expired: Flags.boolean({summary: 'Only expired silences (--state expired).', exclusive: ['state']}),
    'created-by': Flags.string({summary: 'Only silences created by exactly this author.'}),
    comment: Flags.string({summary: 'Only silences whose comment contains this text, ignoring case.'}),
  }

  async run(): Promise<SilenceListResult> {
    const options: ListSilencesOptions = {
      states: this.flags.expired ? ['expired'] : (this.flags.state as SilenceState[] | undefined),
      createdBy: this.flags['created-by'],
      comment: this.flags.comment,
    }
    const ctx = await this.context()
    const {alertmanagerFor} = await import('../../../lib/alerts/clients.js')
    const {listSilences} = await import('../../../lib/alerts/silences.js')
    const result = await listSilences(await alertmanagerFor(ctx), options)
    await this.render(result, options)
    return result
  }

  private async render(result: SilenceListResult, options: ListSilencesOptions): Promise<void> {
    if (result.silences.length === 0) {
      this.print(`No ${describeWanted(options)}.`)
      return
    }
    const {renderSilenceTable} = await import('../../../lib/alerts/render.js')
    this.print(renderSilenceTable(result.silences, {style: this.style, width: this.width, now: Date.now()}))
  }
}

/** "active or pending silences", "expired silences by alice with a comment containing "INC-7"". */
function describeWanted({states, createdBy, comment}: ListSilencesOptions): string {
  const wanted = states?.length ? [...new Set(states)] : ['active', 'pending']
  const which = wanted.length === 3 ? 'silences' : `${wanted.slice(0, -1).join(', ')}${wanted.length > 1 ? ' or ' : ''}${wanted.at(-1)} silences`
  return `${which}${createdBy === undefined ? '' : ` by ${createdBy}`}${comment === undefined ? '' : ` with a comment containing ${JSON.stringify(comment)}`}`
}
