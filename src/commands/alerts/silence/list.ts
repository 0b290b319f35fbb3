import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../lib/core/base-command.js'
import type {SilenceListResult, SilenceView} from '../../../lib/alerts/model.js'

export default class AlertsSilenceList extends BaseCommand<typeof AlertsSilenceList> {
  static summary = 'List silences with the time they have left and how many current alerts each matches'
  static description = `Active and pending silences by default (soonest to end first); --expired lists expired ones instead, most recent first (Alertmanager keeps them for its data retention, 5 days by default).
MATCHING counts the current alerts, in any state, that the silence's matchers match.`
  static examples = ['<%= config.bin %> alerts silence list', '<%= config.bin %> alerts silence list --expired', '<%= config.bin %> alerts silence list --json | jq -r \'.silences[] | select(.matchingAlerts == 0) | .id\'']
  static flags = {
    expired: Flags.boolean({summary: 'List expired silences instead of active and pending ones.'}),
  }

  async run(): Promise<SilenceListResult> {
    const ctx = await this.context()
    const {alertmanagerFor} = await import('../../../lib/alerts/clients.js')
    const {listSilences} = await import('../../../lib/alerts/silences.js')
    const result = await listSilences(await alertmanagerFor(ctx), {expired: this.flags.expired})
    await this.render(result)
    return result
  }

  private async render(result: SilenceListResult): Promise<void> {
    if (result.silences.length === 0) {
      this.print(this.flags.expired ? 'No expired silences.' : 'No active or pending silences.')
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
    this.print(
      renderTable(
        result.silences,
        [
          {header: 'ID', get: (s) => s.id},
          {header: 'MATCHERS', get: (s) => s.matchers.map(formatMatcher).join(' '), flexible: true},
          {header: this.flags.expired ? 'ENDED' : 'ENDS', get: timeLeft, paint: (text, s) => (s.state === 'active' ? text : this.style.dim(text))},
          {header: 'MATCHING', get: (s) => String(s.matchingAlerts), align: 'right'},
          {header: 'CREATED BY', get: (s) => s.createdBy},
          {header: 'COMMENT', get: (s) => s.comment, flexible: true},
        ],
        {width: this.width, paintHeader: this.style.dim},
      ),
    )
  }
}
