import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {NotFoundError} from '../../lib/core/errors.js'
import type {Runbook} from '../../lib/runbooks/model.js'

export default class RunbookForAlert extends BaseCommand<typeof RunbookForAlert> {
  static summary = 'Open the runbook that answers an alert'
  static description = `The runbook whose front matter lists the alert (alerts: [Name]), shown like \`runbook show\`; the same one \`cimops alerts list\` names in its RUNBOOK column. Alert names match case-insensitively. When several runbooks answer the alert, the first (by file name) is shown and the others are named.
Exit 2 when no runbook answers it.`
  static examples = [
    '<%= config.bin %> runbook for-alert HighEventProcessingLag',
    {description: 'Then run its diagnosis', command: '<%= config.bin %> runbook run $(<%= config.bin %> runbook for-alert HighEventProcessingLag --json | jq -r .id) --all'},
  ]
  static args = {alertname: Args.string({description: 'alert name, e.g. HighEventProcessingLag', required: true})}
  static flags = {
    dir: Flags.string({summary: 'Read runbooks from this directory [default: CIMOPS_RUNBOOKS, else the shipped ones].'}),
  }

  async run(): Promise<Runbook> {
    const {assertRunnable, loadRunbooks, runbookDirs, runbooksForAlert} = await import('../../lib/runbooks/load.js')
    const library = await loadRunbooks(runbookDirs(this.flags.dir))
    const [runbook, ...others] = runbooksForAlert(library, this.args.alertname)
    if (!runbook) {
      const known = [...new Set(library.runbooks.flatMap((r) => r.alerts))].sort()
      throw new NotFoundError(`no runbook answers alert ${this.args.alertname}`, known.length === 0 ? 'no runbook lists any alert' : `runbooks answer ${known.join(', ')}`, {
        hint: 'list it in a runbook\'s front matter (alerts: [Name]); `cimops runbook list` shows them all',
      })
    }
    assertRunnable(library, runbook)
    const {renderRunbook} = await import('../../lib/runbooks/render.js')
    this.print(renderRunbook(runbook, this.style, this.width))
    if (others.length > 0) this.note(this.style.dim(`also answering ${this.args.alertname}: ${others.map((r) => r.id).join(', ')}`))
    return runbook
  }
}
