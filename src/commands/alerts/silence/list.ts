import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../lib/core/base-command.js'
import type {SilenceListResult, SilenceView} from '../../../lib/alerts/model.js'
import type {ListSilencesOptions, SilenceState} from '../../../lib/alerts/silences.js'
import type {Column} from '../../../lib/core/output/table.js'

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
    const {renderTable} = await import('../../../lib/core/output/table.js')
    const {ago, humanSeconds} = await import('../../../lib/alerts/model.js')
    const {formatMatcher} = await import('../../../lib/alerts/matchers.js')
    const now = Date.now()
    const timeLeft = (s: SilenceView) => {
      if (s.state === 'expired') return `expired ${ago((now - Date.parse(s.endsAt)) / 1000)}`
      if (s.state === 'pending') return `starts in ${humanSeconds((Date.parse(s.startsAt) - now) / 1000)}`
      return `${humanSeconds(s.remainingSeconds)} left`
    }
    const onlyExpired = result.silences.every((s) => s.state === 'expired')
    const columns: Array<Column<SilenceView>> = [
      {header: 'ID', get: (s) => s.id},
      {header: 'MATCHERS', get: (s) => s.matchers.map(formatMatcher).join(' '), flexible: true},
      {header: onlyExpired ? 'ENDED' : 'ENDS', get: timeLeft, paint: (text, s) => (s.state === 'active' ? text : this.style.dim(text))},
      {header: 'MATCHING', get: (s) => String(s.matchingAlerts), align: 'right'},
      {header: 'CREATED BY', get: (s) => s.createdBy},
      {header: 'COMMENT', get: (s) => s.comment, flexible: true},
    ]
    // Only where a silence has some: servers before 0.32 never do, and their table stays as it was.
    if (result.silences.some((s) => Object.keys(s.annotations).length > 0)) {
      columns.push({header: 'ANNOTATIONS', get: (s) => annotationsText(s.annotations) || '-', flexible: true})
    }
    this.print(renderTable(result.silences, columns, {width: this.width, paintHeader: this.style.dim}))
  }
}

/** `ticket=INC-42 url=https://…`, by name. */
function annotationsText(annotations: Record<string, string>): string {
  return Object.entries(annotations)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`)
    .join(' ')
}

/** "active or pending silences", "expired silences by alice with a comment containing "INC-7"". */
function describeWanted({states, createdBy, comment}: ListSilencesOptions): string {
  const wanted = states?.length ? [...new Set(states)] : ['active', 'pending']
  const which = wanted.length === 3 ? 'silences' : `${wanted.slice(0, -1).join(', ')}${wanted.length > 1 ? ' or ' : ''}${wanted.at(-1)} silences`
  return `${which}${createdBy === undefined ? '' : ` by ${createdBy}`}${comment === undefined ? '' : ` with a comment containing ${JSON.stringify(comment)}`}`
}
