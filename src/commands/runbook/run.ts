import {Args, Flags} from '@oclif/core'

import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import {withUrlCredentials} from '../../lib/core/nats-url.js'
import type {RunRecord} from '../../lib/runbooks/execute.js'
import type {RunbookStep} from '../../lib/runbooks/model.js'
import type {ResolvedParam} from '../../lib/runbooks/params.js'
import type {RecorderResult} from '../../lib/runbooks/record.js'

export interface RunbookRunResult extends RunRecord {
  /** Whether the run's events reached the ops log, and why not. */
  opsLog: RecorderResult
}

export interface RunbookDryRunResult {
  dryRun: true
  runbook: {id: string; title: string; path: string}
  selection: string
  params: Record<string, string>
  steps: Array<{index: number; name: string; description: string; script: string; shell: string; cwd: string; timeoutSeconds?: number; confirm: boolean; continueOnError: boolean}>
}

/** The global flags that pick where cimops connects, as the environment variables nested `cimops` commands read. */
const CONNECTION_ENV: Record<string, string> = {
  context: 'CIMOPS_CONTEXT',
  'nats-url': 'NATS_URL',
  'nats-creds': 'NATS_CREDS',
  'nats-context': 'NATS_CONTEXT',
  'prometheus-url': 'CIMOPS_PROMETHEUS_URL',
  'alertmanager-url': 'CIMOPS_ALERTMANAGER_URL',
}

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
  static args = {id: Args.string({description: 'runbook id (see `cimops runbook list`)', required: true})}
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
    const [{assertRunnable, findRunbook, loadRunbooks, runbookDirs}, {parseParamFlags, resolveParams, visibleParams}, {selectSteps, stepCwd, stepShell}] = await Promise.all([
      import('../../lib/runbooks/load.js'),
      import('../../lib/runbooks/params.js'),
      import('../../lib/runbooks/plan.js'),
    ])
    const given = parseParamFlags(this.flags.param)
    const library = await loadRunbooks(runbookDirs(this.flags.dir))
    const runbook = findRunbook(library, this.args.id)
    assertRunnable(library, runbook)
    this.maskSecretsInArgv(new Set(runbook.params.filter((p) => p.secret).map((p) => p.name.toLowerCase())))
    const {selection, steps} = selectSteps(runbook, {steps: this.flags.step, all: this.flags.all, category: this.flags.category})

    const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !this.jsonEnabled()
    const params = await resolveParams(runbook, {given, ask: interactive && !this.flags['dry-run'] ? (param) => this.askParam(param) : undefined})
    const {registerSecret} = await import('../../lib/core/redact.js')
    for (const param of params) if (param.secret) registerSecret(param.value)

    if (this.flags['dry-run']) {
      const plan: RunbookDryRunResult = {
        dryRun: true,
        runbook: {id: runbook.id, title: runbook.title, path: runbook.path},
        selection,
        params: visibleParams(params),
        steps: steps.map((step) => ({
          index: step.index,
          name: step.name,
          description: step.description,
          script: step.script,
          shell: stepShell(runbook, step),
          cwd: stepCwd(runbook, step, process.cwd()),
          ...(step.attributes.timeoutMs === undefined ? {} : {timeoutSeconds: step.attributes.timeoutMs / 1000}),
          confirm: step.attributes.confirm,
          continueOnError: step.attributes.continueOnError,
        })),
      }
      this.print(this.renderPlan(plan, params))
      return plan
    }

    const ctx = await this.context()
    const [{executeRunbook}, {newRunId, opsRecorder}, {runStreaming}, reporters] = await Promise.all([
      import('../../lib/runbooks/execute.js'),
      import('../../lib/runbooks/record.js'),
      import('../../lib/adapters/proc/stream.js'),
      import('../../lib/runbooks/reporter.js'),
    ])
    const runId = newRunId()
    const live = !this.jsonEnabled() && Boolean(process.stderr.isTTY) && !isCI()
    const reporter = live
      ? await reporters.liveReporter(process.stderr)
      : reporters.plainReporter((line) => (this.jsonEnabled() ? process.stderr.write(`${line}\n`) : process.stdout.write(`${line}\n`)), this.style)
    const recorder = opsRecorder(ctx, await this.nats())
    const shim = await this.cimopsShim(runId)
    let record: RunRecord
    try {
      record = await executeRunbook({
        runbook,
        steps,
        selection,
        params,
        runId,
        env: {...this.connectionEnv(), PATH: `${shim.dir}:${process.env.PATH ?? ''}`},
        secrets: [ctx.nats.password, ctx.nats.token],
        cwd: process.cwd(),
        keepGoing: this.flags['keep-going'],
        yes: this.flags.yes,
        ask: interactive ? (step, position, total, reason) => this.askStep(reporter, step, position, total, reason) : undefined,
        signal: this.signal,
        runner: (execution, io) => runStreaming(execution.shell, execution.args, {env: execution.env, cwd: execution.cwd, timeoutMs: execution.timeoutMs, signal: io.signal, onLine: io.onLine}),
        onEvent: (event) => {
          reporter.handle(event)
          recorder.handle(event)
        },
        actor: this.flags.actor,
        context: ctx.name,
      })
    } finally {
      await reporter.stop()
      await shim.remove()
    }
    const opsLog = await recorder.close()
    process.exitCode = record.exitCode
    if (!this.jsonEnabled()) {
      const {renderRunSummary} = await import('../../lib/runbooks/render.js')
      this.print(`\n${renderRunSummary(record, this.style, this.width)}`)
      this.print(
        this.style.dim(
          opsLog.recorded
            ? `Recorded in the ops log ${opsLog.stream}: cim.ops.runbook.${runId}.> (${opsLog.events} events)`
            : `Not recorded in the ops log: ${opsLog.reason ?? 'nothing to record'}`,
        ),
      )
    }
    return {...record, opsLog}
  }

  /** --param values of secret parameters never reach the audit event: masked in argv before the base command records it. */
  private maskSecretsInArgv(secretNames: Set<string>): void {
    if (secretNames.size === 0) return
    const masked = (pair: string) => {
      const at = pair.indexOf('=')
      return at > 0 && secretNames.has(pair.slice(0, at).toLowerCase()) ? `${pair.slice(0, at)}=***` : pair
    }
    const out: string[] = []
    for (let i = 0; i < this.argv.length; i++) {
      const arg = this.argv[i]
      if ((arg === '--param' || arg === '-p') && i + 1 < this.argv.length) {
        out.push(arg, masked(this.argv[++i]))
      } else if (arg.startsWith('--param=')) {
        out.push(`--param=${masked(arg.slice('--param='.length))}`)
      } else if (/^-p[^=]/.test(arg)) {
        out.push(`-p${masked(arg.slice(2))}`)
      } else {
        out.push(arg)
      }
    }
    this.argv = out
  }

  /** Nested `cimops` commands in steps connect where this one does: the connection flags given, as environment variables. */
  private connectionEnv(): Record<string, string> {
    const env: Record<string, string> = {}
    const flags = this.flags as Record<string, unknown>
    for (const [flag, variable] of Object.entries(CONNECTION_ENV)) {
      if (typeof flags[flag] === 'string') env[variable] = flags[flag] as string
    }
    // Credentials never travel inside NATS_URL, which a step may well print: natscli's own variables carry them.
    const url = env.NATS_URL ?? process.env.NATS_URL
    if (url) {
      const nats = withUrlCredentials({servers: url.split(',').map((server) => server.trim()).filter(Boolean)})
      env.NATS_URL = nats.servers.join(',')
      if (nats.user !== undefined) Object.assign(env, {NATS_USER: nats.user, NATS_PASSWORD: nats.password ?? ''})
      if (nats.token !== undefined) env.NATS_TOKEN = nats.token
    }
    if (this.flags['no-color']) env.NO_COLOR = '1'
    return env
  }

  /** A directory with a `cimops` that runs this very cimops, put first on the steps' PATH. */
  private async cimopsShim(runId: string): Promise<{dir: string; remove(): Promise<void>}> {
    const [{mkdtemp, rm, writeFile}, {tmpdir}, {join}] = await Promise.all([import('node:fs/promises'), import('node:os'), import('node:path')])
    const dir = await mkdtemp(join(tmpdir(), `cimops-run-${runId}-`))
    const entry = process.argv[1] && /[/\\]bin[/\\](run|dev)\.js$/.test(process.argv[1]) ? process.argv[1] : join(this.config.root, 'bin', 'run.js')
    const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`
    await writeFile(join(dir, 'cimops'), `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(entry)} "$@"\n`, {mode: 0o755})
    return {dir, remove: () => rm(dir, {recursive: true, force: true})}
  }

  private async askParam(param: {name: string; description?: string; secret: boolean}): Promise<string | undefined> {
    if (param.secret) return undefined
    return this.question(`${param.name}${param.description ? ` (${param.description})` : ''}: `)
  }

  private async askStep(reporter: {announce(step: RunbookStep, position: number, total: number): void; pause(): Promise<void>}, step: RunbookStep, position: number, total: number, reason: 'walk' | 'confirm'): Promise<'yes' | 'no' | 'quit'> {
    reporter.announce(step, position, total)
    await reporter.pause()
    const cautious = step.attributes.confirm || step.attributes.excludeFromRunAll
    const why = step.attributes.confirm ? 'This step changes things. ' : step.attributes.excludeFromRunAll ? 'This step is not part of --all. ' : ''
    const answer = (await this.question(`${why}Run step ${position}/${total} ${step.name}? ${cautious ? '[y/N/q]' : '[Y/n/q]'} `)).trim().toLowerCase()
    if (answer === 'q' || answer === 'quit') return 'quit'
    if (answer === '') return cautious ? 'no' : 'yes'
    return /^y(es)?$/.test(answer) ? 'yes' : 'no'
  }

  private async question(text: string): Promise<string> {
    const {createInterface} = await import('node:readline/promises')
    const rl = createInterface({input: process.stdin, output: process.stderr})
    try {
      return await rl.question(text, {signal: this.signal})
    } catch {
      return 'q'
    } finally {
      rl.close()
    }
  }

  private renderPlan(plan: RunbookDryRunResult, params: ResolvedParam[]): string {
    const style = this.style
    const lines = [style.bold(`Dry run of runbook ${plan.runbook.id} (${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}, ${plan.selection === 'walk' ? 'each asked for in turn' : plan.selection === 'all' ? '--all' : '--step'}): nothing runs.`)]
    if (params.length > 0) {
      lines.push(`Parameters (environment variables of every step): ${params.map((p) => `${p.name}=${plan.params[p.name] === '' ? '""' : plan.params[p.name]} ${style.dim(`(${p.source})`)}`).join(', ')}`)
    }
    const env = Object.keys(this.connectionEnv())
    lines.push(style.dim(`Also in the environment: CIMOPS_RUNBOOK, CIMOPS_RUNBOOK_STEP, CIMOPS_RUN_ID${env.length > 0 ? `, ${env.join(', ')}` : ''}; this cimops first on PATH.`))
    for (const step of plan.steps) {
      const attrs = [`${step.shell} -e`, `cwd ${step.cwd}`, ...(step.timeoutSeconds ? [`timeout ${step.timeoutSeconds}s`] : []), ...(step.confirm ? ['asks first'] : []), ...(step.continueOnError ? ['failure ignored'] : [])]
      lines.push('', `${style.bold(`${step.index}. ${step.name}`)}${step.description ? `: ${step.description}` : ''}`, style.dim(`   ${attrs.join(' · ')}`))
      for (const line of step.script.split('\n')) lines.push(`   | ${line}`)
    }
    return lines.join('\n')
  }
}

function isCI(): boolean {
  const ci = process.env.CI
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false'
}
