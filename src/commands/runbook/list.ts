import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import type {Runbook} from '../../lib/runbooks/model.js'

export interface RunbookListResult {
  dirs: string[]
  runbooks: Array<{id: string; title: string; path: string; description?: string; alerts: string[]; tags: string[]; params: string[]; steps: Array<{name: string; description: string; language: string}>}>
  /** Files with errors (`cimops runbook lint` tells more). */
  warnings: string[]
}

export default class RunbookList extends BaseCommand<typeof RunbookList> {
  static summary = 'List runbooks: id, title, the alerts they answer, steps and tags'
  static description = `Runbooks are markdown files with YAML front matter whose shell blocks are executable steps. They are read from --dir, else from the directories in CIMOPS_RUNBOOKS (separated like PATH), else from the runbooks shipped with cimops.`
  static examples = [
    '<%= config.bin %> runbook list',
    {description: 'Runbooks for one alert', command: '<%= config.bin %> runbook list --alert HighEventProcessingLag'},
    {description: 'Your own runbooks next to the shipped ones', command: 'CIMOPS_RUNBOOKS=./ops/runbooks:$(npm root -g)/cimops/runbooks <%= config.bin %> runbook list --tag nats'},
  ]
  static flags = {
    tag: Flags.string({summary: 'Only runbooks with this tag (repeatable: any of them).', multiple: true}),
    alert: Flags.string({summary: 'Only runbooks answering this alert (case-insensitive).'}),
    dir: Flags.string({summary: 'Read runbooks from this directory [default: CIMOPS_RUNBOOKS, else the shipped ones].'}),
  }

  async run(): Promise<RunbookListResult> {
    const {loadRunbooks, runbookDirs, runbooksForAlert} = await import('../../lib/runbooks/load.js')
    const library = await loadRunbooks(runbookDirs(this.flags.dir))
    let runbooks: Runbook[] = this.flags.alert ? runbooksForAlert(library, this.flags.alert) : library.runbooks
    if (this.flags.tag) {
      const tags = this.flags.tag.map((t) => t.toLowerCase())
      runbooks = runbooks.filter((runbook) => runbook.tags.some((tag) => tags.includes(tag.toLowerCase())))
    }
    const warnings = [...new Set(library.problems.filter((p) => p.severity === 'error').map((p) => p.path))].map(
      (path) => `${path} has errors: \`cimops runbook lint ${path}\``,
    )
    for (const warning of warnings) this.note(this.style.dim(`warning: ${warning}`))
    if (runbooks.length === 0) {
      const filter = [this.flags.alert ? `answering ${this.flags.alert}` : '', this.flags.tag ? `tagged ${this.flags.tag.join(' or ')}` : ''].filter(Boolean).join(' and ')
      this.print(`No runbooks${filter ? ` ${filter}` : ''} in ${library.dirs.join(', ')}.`)
    } else {
      const {renderRunbookList} = await import('../../lib/runbooks/render.js')
      this.print(renderRunbookList(runbooks, this.style, this.width))
    }
    return {
      dirs: library.dirs,
      runbooks: runbooks.map((runbook) => ({
        id: runbook.id,
        title: runbook.title,
        path: runbook.path,
        ...(runbook.description ? {description: runbook.description} : {}),
        alerts: runbook.alerts,
        tags: runbook.tags,
        params: runbook.params.map((p) => p.name),
        steps: runbook.steps.map((step) => ({name: step.name, description: step.description, language: step.language})),
      })),
      warnings,
    }
  }
}
