import {Args, Flags} from '@oclif/core'

import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import type {RunbookDryRunResult, RunbookRunResult} from '../../lib/runbooks/run.js'

export type {RunbookDryRunResult, RunbookRunResult} from '../../lib/runbooks/run.js'

export default class RunbookRun extends BaseCommand<typeof RunbookRun> {
  static audited = true
  static summary = 'Run a runbook\'s steps, streaming their output, and record the run in the ops log'
  static description = `Each step shows what it does and its commands, then runs in its shell (bash -e unless the block says otherwise: the first failing command fails the step), with the runbook parameters and the connection settings of this command as environment variables — a parameter is never spliced into a script. Steps that call \`cimops\` get this same cimops first on PATH.
Which steps: --step NAME (repeatable, in that order), --all (every step not marked excludeFromRunAll), or, on a terminal without either, each step in turn with a question before it.
A step marked confirm asks first; without a terminal the run is refused before anything runs unless --yes is given (exit 64).
A failing step stops the run (--keep-going runs the rest anyway; a step marked continueOnError never stops it). Exit code: that of the first failed step, 75 when it timed out, 130 on Ctrl-C, 0 when all succeeded.
Output: live on a terminal (an ink view on stderr), prefixed lines otherwise ([step] line). The run — steps, exit codes, durations, the last lines of output — is recorded as events cim.ops.runbook.<run-id>.started|step-finished|finished when the ops log exists. Secret parameters never appear: not in output, JSON, the ops log or the audit event.`
  static examples = [
    {description: 'The diagnosis of a lagging projection', command: '<%= config.bin %> runbook run high-event-lag --all --param CONSUMER=workflow-analytics'},
    {description: 'One step, and a mitigation that asks first (--yes for cron/CI)', command: '<%= config.bin %> runbook run event-replay --step domain-dry-run --step domain-replay --param DOMAIN=graph --yes'},
    {description: 'What would run, with which values', command: '<%= config.bin %> runbook run nats-recovery --all --dry-run'},
    {description: 'Keep going after a failed check, and keep the record', command: '<%= config.bin %> runbook run no-metrics --all --keep-going --json > run.json'},
  ]
  static args = {id: Args.string({description: 'runbook id, as `cimops runbook list` shows it', required: true})}
  static flags = {
    step: Flags.string({char: 's', summary: 'Run this step (repeatable, in the order given): name, ID/name or number.', multiple: true, multipleNonGreedy: true}),
    all: Flags.boolean({summary: 'Run every step not marked excludeFromRunAll, in order.'}),
    category: Flags.string({summary: 'With --all: only steps of this category (Runme `category`).', dependsOn: ['all']}),
    param: Flags.string({char: 'p', summary: 'Parameter NAME=VALUE (repeatable); also CIMOPS_PARAM_<NAME> in the environment.', multiple: true, multipleNonGreedy: true}),
    'dry-run': Flags.boolean({summary: 'Print the plan (steps, shells, parameters) and run nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Run steps marked confirm without asking (required without a terminal).'}),
    'keep-going': Flags.boolean({summary: 'Run the remaining steps after a step fails; the exit code is still the first failure\'s.'}),
    dir: Flags.string({summary: 'Read runbooks from this directory [default: CIMOPS_RUNBOOKS, else the shipped ones].'}),
    ...MUTATING_FLAGS,
  }

  async run(): Promise<RunbookRunResult | RunbookDryRunResult> {
    const [{assertRunnable, findRunbook, loadRunbooks, runbookDirs}, {parseParamFlags, resolveParams}, {selectSteps}, {maskSecretParams}, {askParam}, {contextParamValues, stepConnectionEnv}, {registerSecret}] = await Promise.all([
      import('../../lib/runbooks/load.js'),
      import('../../lib/runbooks/params.js'),
      import('../../lib/runbooks/plan.js'),
      import('../../lib/runbooks/argv.js'),
      import('../../lib/runbooks/prompts.js'),
      import('../../lib/runbooks/step-env.js'),
      import('../../lib/core/redact.js'),
    ])
    const given = parseParamFlags(this.flags.param)
    const library = await loadRunbooks(runbookDirs(this.flags.dir))
    const runbook = findRunbook(library, this.args.id)
    assertRunnable(library, runbook)
    // Before the base command records argv in the audit event.
    this.argv = maskSecretParams(this.argv, new Set(runbook.params.filter((p) => p.secret).map((p) => p.name.toLowerCase())))
    const {selection, steps} = selectSteps(runbook, {steps: this.flags.step, all: this.flags.all, category: this.flags.category})

    const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !this.jsonEnabled()
    const ctx = await this.context()
    const params = await resolveParams(runbook, {given, context: contextParamValues(ctx), ask: interactive && !this.flags['dry-run'] ? (param) => askParam(param, this.signal) : undefined})
    for (const param of params) if (param.secret) registerSecret(param.value)
    const connectionEnv = () => stepConnectionEnv(this.connectionFlags(), this.flags['no-color'])

    const [{dryRunPlan, runRunbook}, {renderDryRun, renderOpsLogLine, renderRunSummary}] = await Promise.all([import('../../lib/runbooks/run.js'), import('../../lib/runbooks/render.js')])
    if (this.flags['dry-run']) {
      const plan = dryRunPlan(runbook, selection, steps, params, process.cwd())
      this.print(renderDryRun(plan, params, Object.keys(connectionEnv()), this.style))
      return plan
    }

    const result = await runRunbook({
      ctx,
      nats: await this.nats(),
      runbook,
      steps,
      selection,
      params,
      env: connectionEnv(),
      root: this.config.root,
      cwd: process.cwd(),
      keepGoing: this.flags['keep-going'],
      yes: this.flags.yes,
      interactive,
      output: {json: this.jsonEnabled(), style: this.style},
      signal: this.signal,
      actor: this.flags.actor,
    })
    process.exitCode = result.exitCode
    this.print(`\n${renderRunSummary(result, this.style, this.width)}`)
    this.print(renderOpsLogLine(result.opsLog, result.runId, this.style))
    return result
  }
}
