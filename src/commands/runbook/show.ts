import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import type {Runbook, RunbookStep} from '../../lib/runbooks/model.js'

export default class RunbookShow extends BaseCommand<typeof RunbookShow> {
  static summary = 'Show a runbook for the terminal, or one step\'s script'
  static description = `Sections, parameters and every step labelled with its name and attributes (asks first, timeout, failure ignored, not in --all).
--step NAME prints that step's script alone, exactly as it runs (pipe it, paste it). --json gives the parsed model: front matter, sections and steps with their attributes.
An unknown id exits 2, naming the runbooks there are; a runbook with errors is refused (exit 65): \`cimops runbook lint ID\` lists them.`
  static examples = [
    '<%= config.bin %> runbook show high-event-lag',
    {description: 'One step\'s commands', command: '<%= config.bin %> runbook show high-event-lag --step consumer-report'},
    '<%= config.bin %> runbook show nats-recovery --json | jq \'.steps[] | {name, description}\'',
  ]
  static args = {id: Args.string({description: 'runbook id, as `cimops runbook list` shows it', required: true})}
  static flags = {
    step: Flags.string({char: 's', summary: 'Print only this step\'s script (name, ID/name, or number).'}),
    dir: Flags.string({summary: 'Read runbooks from this directory [default: CIMOPS_RUNBOOKS, else the shipped ones].'}),
  }

  async run(): Promise<Runbook | RunbookStep> {
    const {assertRunnable, findRunbook, loadRunbooks, runbookDirs} = await import('../../lib/runbooks/load.js')
    const library = await loadRunbooks(runbookDirs(this.flags.dir))
    const runbook = findRunbook(library, this.args.id)
    assertRunnable(library, runbook)
    if (this.flags.step) {
      const {findStep} = await import('../../lib/runbooks/plan.js')
      const step = findStep(runbook, this.flags.step)
      if (!this.jsonEnabled()) process.stdout.write(`${step.script}\n`)
      return step
    }
    const {renderRunbook} = await import('../../lib/runbooks/render.js')
    this.print(renderRunbook(runbook, this.style, this.width))
    return runbook
  }
}
