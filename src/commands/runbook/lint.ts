import {existsSync} from 'node:fs'
import {resolve} from 'node:path'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {ExitCode} from '../../lib/core/errors.js'
import type {LintResult} from '../../lib/runbooks/lint.js'

export default class RunbookLint extends BaseCommand<typeof RunbookLint> {
  static summary = 'Check runbooks: front matter, step attributes, duplicate names, and every `cimops …` line against the real commands'
  static description = `Errors (exit 65):
  front matter that does not validate (id, title, alerts, tags, params with name, description, default, required, pattern, secret), unknown keys;
  step attributes that are unknown or unreadable (name, confirm, timeout, continueOnError, excludeFromRunAll, cwd, interpreter, category; Runme's others are accepted), duplicate step names and runbook ids;
  a \`cimops …\` command in a step that is not a cimops command, or uses a flag it does not have, a value outside its choices, too many arguments, or misses a required one. Lines are read like the shell reads them: quotes, continuations, pipes, $(…). In a block excluded from --all, an unknown command is only a warning (documentation of a command this version may not have).
Warnings: missing Meaning/Impact/Diagnosis/Mitigation sections, unnamed steps, steps without a description, unused parameters, an alert answered by two runbooks.
Without arguments, every runbook is checked; arguments are runbook ids or files.`
  static examples = [
    '<%= config.bin %> runbook lint',
    {description: 'Your own runbooks, in CI', command: '<%= config.bin %> runbook lint --dir ops/runbooks'},
    '<%= config.bin %> runbook lint ./runbooks/high-event-lag.md --json | jq \'.problems[] | select(.severity == "error")\'',
  ]
  static strict = false
  static args = {runbook: Args.string({description: 'runbook id or file (repeatable); default: all'})}
  static flags = {
    dir: Flags.string({summary: 'Read runbooks from this directory [default: CIMOPS_RUNBOOKS, else the shipped ones].'}),
  }

  async run(): Promise<LintResult> {
    const {argv} = await this.parse(RunbookLint)
    const targets = (argv as string[]).filter(Boolean)
    const [{loadRunbooks, runbookDirs}, {lintLibrary}, {catalogFrom}] = await Promise.all([
      import('../../lib/runbooks/load.js'),
      import('../../lib/runbooks/lint.js'),
      import('../../lib/runbooks/catalog.js'),
    ])
    // Arguments that are files or directories are read as such; the others are ids in the usual directories.
    const paths = targets.filter((target) => target.endsWith('.md') || (target.includes('/') && existsSync(target))).map((target) => resolve(target))
    const ids = targets.filter((target) => !paths.includes(resolve(target)))
    const dirs = paths.length > 0 && ids.length === 0 ? paths : [...runbookDirs(this.flags.dir), ...paths]
    const library = await loadRunbooks(dirs)
    const catalog = catalogFrom(this.config.commands as unknown as Parameters<typeof catalogFrom>[0])
    const result = lintLibrary(library, catalog, {only: ids.length > 0 ? [...ids, ...paths] : undefined})
    if (ids.length > 0) {
      const known = new Set(library.runbooks.map((r) => r.id))
      const unknown = ids.filter((id) => !known.has(id) && !library.broken.some((path) => path.endsWith(`/${id}.md`)))
      if (unknown.length > 0) {
        const {NotFoundError} = await import('../../lib/core/errors.js')
        throw new NotFoundError(`no runbook ${unknown.join(', ')}`, `the runbooks are ${[...known].join(', ') || 'none'}`, {hint: '`cimops runbook list` shows them'})
      }
    }
    const {renderLint} = await import('../../lib/runbooks/render.js')
    this.print(renderLint(result, this.style))
    if (result.errors > 0) process.exitCode = ExitCode.DATA
    return result
  }
}
