/**
 * Every example a user can copy — README.md's and every command's `--help` examples — runs against the
 * sandbox of the quick start (`cimops sandbox up`, `cimops sandbox seed`) and neither fails as a usage error
 * (64), crashes (a stack trace) nor asks to be reported. An example whose documented output shows its exit
 * code (`# exit 64`) must exit with it. Examples run in bash with `cimops` on PATH (pipes to jq and
 * `$(...)` included), a few at a time, each in a directory of its own with its own copy of the config.
 * An example whose every call has a shape (SHAPE_FLAGS) another example runs, or needs no server (NO_SERVER), is
 * parsed by the built CLI instead, each call exactly as bash makes it. What cannot run as written is listed once, in ADAPTED, with the reason.
 * Run `npm run build` first.
 */
import {type ChildProcess, execFile, spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {jetstreamManager, StorageType} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {distinctExamples, type Example, helpExamples, readmeExamples} from '../helpers/examples.js'
import {BIN, isolatedHome, ROOT, runCli} from '../helpers/cli.js'

/**
 * Each example's limit. A bounded one (serving, watching, following) is stopped with Ctrl-C a second after it first
 * prints (one more refresh for those that refresh every second), or after BOUNDED_MS if it prints nothing.
 */
const TIMEOUT_MS = 45_000
const BOUNDED_MS = 4000
const BOUNDED_AFTER_OUTPUT_MS = 1000
/** Examples at once: an example spends much of its time waiting on a server or on the sandbox, so 4 keep 2 cores busy. */
const POOL = 4
/**
 * A call's shape: its command, how it prints, and whether it acts or asks. The first example of each shape runs;
 * the others differ only in values or in flags of the same code path, and are parsed (flags, arguments, values
 * their flags parse) by the built CLI.
 */
const SHAPE_FLAGS = ['--json', '--format', '--dry-run', '--yes', '--watch']
/**
 * Commands that need no server (config, runbook files, deploy assets, the version): their examples are parsed; what
 * they do is tested in context.test.ts, runbook.test.ts and deploy-lint.test.ts.
 */
const NO_SERVER = /^(context:[\w-]+|runbook:(list|show|lint|for-alert)|deploy:lint|--version)( |$)/

/**
 * The one place where examples are not run exactly as written, and why. `skip` leaves one out; `bounded`
 * runs one that never ends on its own for BOUNDED_MS; `rewrite` changes its text first.
 */
const ADAPTED: Array<{match: RegExp; skip?: string; bounded?: string; rewrite?: (command: string) => string; why?: string; bareConfig?: string; usageOn?: {alertmanagerBelow: string; why: string}}> = [
  {match: /^cimops (restore|replay)$|^cimops gpu status --textfile$/, skip: 'a command named in prose, not an example'},
  {match: /^cimops sandbox down$/, skip: 'stops the sandbox every other example runs against (the test ends with it)'},
  {match: /^cimops sandbox up --(cluster 3|servers unstable)$/, skip: 'another sandbox shape; refused (64) while the quick start sandbox runs, tested in sandbox-cli.test.ts'},
  {match: /--sites 2|--context sandbox-dr/, skip: 'the two-site sandbox; refused (64) while the one-site quick start sandbox runs, tested in sandbox-sites.test.ts'},
  {match: /^cimops drill --failover/, skip: 'drills two sites; the quick start sandbox is one (drill-failover.test.ts runs it on the two-site sandbox)'},
  {match: /--replicas 3/, skip: 'needs a 3-node cluster; the quick start sandbox is one server (restore-cluster.test.ts)'},
  {
    match: /--(target|to)-context staging|--as \S+ --context staging/,
    skip: 'needs a second server or account; staging here is the sandbox itself, which holds the source streams (replay refuses it as the source site: replay-sites.test.ts)',
  },
  {match: /^cimops context (add|import-nats) /, bareConfig: 'adds the contexts prod and staging that the other examples find already there'},
  {match: /--annotation/, usageOn: {alertmanagerBelow: '0.32.0', why: 'Alertmanager before 0.32 would drop annotations: refused (64), as documented'}},
  {match: /--watch|^cimops events tail|^cimops monitor\b/, bounded: 'runs until stopped'},
  {match: /^cimops profile-service\b/, bounded: 'profiles for minutes; Ctrl-C gives its partial report'},
  {
    match: /^cimops monitor\b/,
    rewrite: (command) => `${command.replace(/ --listen \S+/, '').replace(/\s*&$/, '')} --listen 127.0.0.1:0`,
    why: 'serves on a free loopback port, not on 9091 or every interface',
  },
  {
    match: /^cimops (gpu evacuate|gpu uncordon|gpu forget|emergency (stop|resume|gpu-evacuate)|restore)\b(?!.*--dry-run)/,
    rewrite: (command) => `${command} --dry-run`,
    why: 'changes or stops what the other examples run against, or asks first and there is no terminal: its plan instead',
  },
]

interface Invocation {
  args: string
  code: number
  stderr: string
}

interface Outcome {
  command: string
  invocations: Invocation[]
  stdout: string
  stderr: string
  timedOut: boolean
}

/** `cimops` on PATH for the examples: the built CLI, recording each call's arguments, exit code and stderr. */
const WRAPPER = `#!/usr/bin/env bash
record="$CIMOPS_EXAMPLE_LOG/$(date +%s%N)-$$"
printf '%s ' "$@" > "$record.args"
"${process.execPath}" "${BIN}" "$@" 2> "$record.stderr"
code=$?
cat "$record.stderr" >&2
echo "$code" > "$record.code"
exit "$code"
`

/** `cimops` for the examples that are only parsed: records each call's arguments as bash gives them, runs nothing. */
const STUB = `#!/usr/bin/env bash
printf '%s\\0' "$@" > "$CIMOPS_EXAMPLE_LOG/$(date +%s%N)-$$.argv"
`

/** Examples that take several seconds (steps, drills, linting with promtool, reading a whole stream back): run first. */
const LONG = /^cimops (runbook run|drill|deploy lint|morning-check|backup verify)\b|\$\(cimops runbook/

/** Run, never only parsed: arguments from cimops itself (`$(cimops ...)`), or an environment set for the call. */
const RUN_ALWAYS = /\$\([^)]*\bcimops\b|`|(^|[\s;&|])[A-Z_]+=\S*\s+cimops\b/

const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(node:.+\))$/m

describe('the examples of the README and of --help run against the quick start sandbox', () => {
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let work: string
  let root: string
  let config: string
  let bareConfig: string
  let alertmanagerVersion: string
  let substitutions: Array<[RegExp, string]>
  const examples = distinctExamples([
    ...readmeExamples(readFileSync(join(ROOT, 'README.md'), 'utf8')),
    ...helpExamples(JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8'))),
  ])

  beforeAll(async () => {
    home = await isolatedHome()
    work = await mkdtemp(join(tmpdir(), 'cimops-examples-'))
    const up = await runCli(['sandbox', 'up'], home.env)
    expect(up.code, up.stderr).toBe(0)
    const seed = await runCli(['sandbox', 'seed'], home.env)
    expect(seed.code, seed.stderr).toBe(0)
    const status = JSON.parse((await runCli(['sandbox', 'status', '--json'], home.env)).stdout) as {processes: Array<{component: string; url?: string}>; versions: {alertmanager: string}}
    const natsUrl = status.processes.find((p) => p.component === 'nats')!.url!
    alertmanagerVersion = status.versions.alertmanager

    // The machine the examples assume: the CLI on PATH; system paths (/var/lib/..., /backups) under a root of
    // their own; natscli contexts `prod` and `staging`, and cimops contexts of those names, on the sandbox.
    for (const [dir, script] of [['bin', WRAPPER], ['stub', STUB]]) {
      await mkdir(join(work, dir))
      await writeFile(join(work, dir, 'cimops'), script)
      await chmod(join(work, dir, 'cimops'), 0o755)
    }
    root = join(work, 'root')
    await mkdir(join(root, 'var', 'lib', 'node_exporter', 'textfile'), {recursive: true})
    await mkdir(join(root, 'var', 'lib', 'cimops'), {recursive: true})
    const natsContexts = join(home.env.XDG_CONFIG_HOME, 'nats', 'context')
    await mkdir(natsContexts, {recursive: true})
    for (const name of ['prod', 'staging']) await writeFile(join(natsContexts, `${name}.json`), JSON.stringify({url: natsUrl}))
    config = join(home.env.XDG_CONFIG_HOME, 'cimops', 'config.yaml')
    bareConfig = join(work, 'config-bare.yaml')
    await copyFile(config, bareConfig)
    for (const name of ['prod', 'staging']) expect((await runCli(['context', 'import-nats', name], home.env)).code).toBe(0)
    expect((await runCli(['context', 'use', 'sandbox'], home.env)).code).toBe(0)

    // Things the examples name: a snapshot and a logical backup set (one after the other: sets are named by the
    // second), an incident, a silence and one alice created (examples run at once, so none waits on another
    // example's), GPU nodes published from this host (no GPU: an OK verdict); all at once.
    const cliJson = async <T>(args: string[]) => JSON.parse((await runCli(args, home.env)).stdout) as T
    const backups = async () => {
      const snapshot = await cliJson<{set: string}>(['backup', 'create', '--all', '--json'])
      return {snapshot, logical: await cliJson<{set: string}>(['backup', 'create', '--logical', '--stream', 'EVENTS', '--json'])}
    }
    const [{snapshot, logical}, incident, silence, ...prepared] = await Promise.all([
      backups(),
      cliJson<{incident: {id: string}}>(['incident', 'declare', '--title', 'Examples', '--severity', 'minor', '--no-snapshot', '--json']),
      cliJson<{id: string}>(['alerts', 'silence', 'add', 'alertname=Examples', '--comment', 'examples', '--json']),
      runCli(['alerts', 'silence', 'add', 'alertname=ExamplesByAlice', '--comment', 'examples', '--actor', 'alice'], home.env),
      ...['gpu-07', 'gpu-08', 'gpu-99', 'gpu-old-03'].map((node) => runCli(['gpu', 'status', '--publish', '--node', node], home.env)),
    ])
    for (const run of prepared) expect(run.code, run.stderr).toBe(0)
    await mkdir(join(root, 'backups'))
    await symlink(join(snapshot.set, '..'), join(root, 'backups', 'cim'))
    // A stream CACHE (file storage, as `backup create --all` snapshots every stream); a stream that stores what
    // `replay --to-prefix rebuild` republishes; and a workflow aggregate of the seed to stand for the docs' wf-0007.
    const nc = await connect({servers: natsUrl})
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({name: 'CACHE', subjects: ['cache.>'], storage: StorageType.File})
    await jsm.streams.add({name: 'REBUILD', subjects: ['rebuild.>'], storage: StorageType.File})
    const workflowSubjects = (await jsm.streams.info('EVENTS', {subjects_filter: 'cim.workflow.workflow.>'})).state.subjects ?? {}
    const aggregate = Object.keys(workflowSubjects).sort()[0]!.split('.')[3]
    await nc.close()
    const seeded = new Date().toISOString()

    const name = (path: string) => path.split('/').pop()!
    substitutions = [
      // The docs' moments and domains, in a sandbox seeded seconds ago with five domains.
      [/--until (1m|2026-11-22T03:00:00Z)/g, `--until ${seeded}`],
      [/--domain orders/g, '--domain workflow'],
      [/(\/backups\/cim\/)?20261122T040000Z/g, name(logical.set)],
      [/(\/backups\/cim\/)?20261122T\d{6}Z/g, name(snapshot.set)],
      // A set named by the second: not beside the default sets, which other examples create in that same second.
      [/ \/backups\/cim\/\$\(date/g, ` ${root}/dated-backups/$(date`],
      [/ \/(var\/lib|backups)\//g, ` ${root}/$1/`],
      [/INC-20261122-1/g, incident.incident.id],
      [/wf-0007/g, aggregate],
      [/83a170f5-a754-4dbd-9a5b-10c27a856ad2|0c1f9d4e-6d2a-4b8e-9a0f-3c2b1a0d9e8f/g, silence.id],
    ]
  }, 120_000)

  afterAll(async () => {
    if (home) await runCli(['sandbox', 'down'], home.env)
    await home?.cleanup()
    if (work) await rm(work, {recursive: true, force: true})
  })

  it('finds the examples of the README and of every command', () => {
    expect(examples.length).toBeGreaterThan(150)
    expect(examples.filter((e) => e.sources.some((s) => s.startsWith('README.md'))).length).toBeGreaterThan(50)
  })

  it("runbook steps reach the context's event monitor: high-event-lag's monitor-lag reads the sandbox's, not 127.0.0.1:9091", async () => {
    const result = await runCli(['runbook', 'run', 'high-event-lag', '--step', 'monitor-lag', '--json'], home.env)
    expect(result.code, result.stderr).toBe(0)
    const run = JSON.parse(result.stdout) as {params: Record<string, string>; steps: Array<{name: string; status: string; outputTail: string[]}>}
    expect(run.params.MONITOR_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(run.params.MONITOR_URL).not.toBe('http://127.0.0.1:9091')
    expect(run.steps[0]).toMatchObject({name: 'monitor-lag', status: 'succeeded'})
    expect(run.steps[0].outputTail.join('\n')).toMatch(/^cim_event_processing_lag_seconds\{domain="workflow"\} /m)
  })

  it('runs each without a usage error, a crash or "please report"', async () => {
    const runnable = examples.filter((example) => !adaptation(example.command).skip)
    const failures: string[] = []
    const fail = (example: Example, how: string, problem: string) =>
      failures.push(`${example.command}\n    documented in ${example.sources.join(', ')}\n    ${how}\n    ${problem}`)

    // Every call of the examples that may be only parsed, as bash makes it, and what the built CLI makes of it.
    const mayParse = runnable.filter((example) => example.expectedExit === undefined && !adaptation(example.command).bounded && !RUN_ALWAYS.test(example.command))
    const calls = await stubCalls(mayParse)
    const parsed = await parseArgv([...calls.values()].flatMap(({argvs}) => argvs), home.env)

    // The first example of each shape runs, unless it needs no server; the rest are judged parsed.
    const shapesRun = new Set<string>()
    const toRun: Example[] = []
    for (const example of runnable) {
      const argvs = calls.get(example)?.argvs ?? []
      const shapes = argvs.map((argv) => shapeOf(argv, parsed.get(JSON.stringify(argv))!.id))
      if (argvs.length > 0 && shapes.every((shape) => shapesRun.has(shape) || NO_SERVER.test(shape))) continue
      for (const shape of shapes) shapesRun.add(shape)
      toRun.push(example)
    }
    for (const [example, {command, argvs}] of calls) {
      if (toRun.includes(example)) continue
      for (const argv of argvs) {
        const {error} = parsed.get(JSON.stringify(argv))!
        if (error && !usageAllowed(example.command, alertmanagerVersion)) fail(example, `parsed: ${command}`, `cimops ${argv.join(' ')} was a usage error: ${error}`)
      }
    }

    // Bounded examples first (they mostly wait), then the long ones, so that none is left running alone at the end.
    const order = (example: Example) => (adaptation(example.command).bounded ? 0 : LONG.test(example.command) ? 1 : 2)
    await pool([...toRun].sort((a, b) => order(a) - order(b)), POOL, async (example) => {
      const outcome = await runExample(example)
      const problem = judge(example, outcome, usageAllowed(example.command, alertmanagerVersion))
      if (problem) fail(example, `ran: ${outcome.command}`, problem)
    })
    expect(failures, `${failures.length} of ${runnable.length} examples failed (${toRun.length} run, ${runnable.length - toRun.length} parsed):\n${failures.join('\n')}`).toEqual([])
  }, 300_000)

  /**
   * Each example's calls of cimops, every argv as bash gives it: one bash runs the examples one after another,
   * each in a bash of its own, with a `cimops` that only records its arguments.
   */
  async function stubCalls(stubbed: Example[]): Promise<Map<Example, {command: string; argvs: string[][]}>> {
    const dir = await mkdtemp(join(work, 'parsed-'))
    const commands = stubbed.map((example) => commandText(example))
    await Promise.all(commands.map(async (command, i) => {
      await mkdir(join(dir, String(i)))
      await writeFile(join(dir, `${i}.sh`), command)
    }))
    const script = `for i in $(seq 0 ${stubbed.length - 1}); do CIMOPS_EXAMPLE_LOG="$PWD/$i" bash "$i.sh" </dev/null >/dev/null 2>&1; done`
    const env = {...(process.env as Record<string, string>), ...home.env, HOME: dir, PATH: `${join(work, 'stub')}:${process.env.PATH}`}
    const child = spawn('bash', ['-c', script], {cwd: dir, env, stdio: 'ignore', timeout: TIMEOUT_MS})
    await new Promise((resolve) => child.on('close', resolve))
    const argvsOf = async (i: number) => {
      const records = (await readdir(join(dir, String(i)))).sort()
      return Promise.all(records.map(async (file) => (await readFile(join(dir, String(i), file), 'utf8')).split('\0').slice(0, -1)))
    }
    return new Map(await Promise.all(stubbed.map(async (example, i) => [example, {command: commands[i], argvs: await argvsOf(i)}] as const)))
  }

  /** The example's text as it runs here: ADAPTED's rewrites, and the docs' names for what the sandbox holds. */
  function commandText(example: Example): string {
    let command = adaptation(example.command).rewrite.reduce((text, change) => change(text), example.command)
    for (const [pattern, value] of substitutions) command = command.replace(pattern, value)
    return command
  }

  async function runExample(example: Example): Promise<Outcome> {
    const {bounded} = adaptation(example.command)
    const command = commandText(example)
    const dir = await mkdtemp(join(work, 'example-'))
    const log = join(dir, '.log')
    await mkdir(log)
    // A working directory with what relative paths in the examples expect: ops/ copies of the shipped assets.
    await mkdir(join(dir, 'ops'))
    await symlink(join(ROOT, 'deploy'), join(dir, 'ops', 'deploy'))
    await symlink(join(ROOT, 'runbooks'), join(dir, 'ops', 'runbooks'))
    await symlink(join(ROOT, 'runbooks'), join(dir, 'runbooks'))
    await writeFile(join(dir, 'ops.json'), await readFile(join(home.env.XDG_CONFIG_HOME, 'nats', 'context', 'prod.json')))
    const ownConfig = join(dir, 'config.yaml')
    await copyFile(adaptation(example.command).bareConfig ? bareConfig : config, ownConfig)

    const env: Record<string, string> = {...(process.env as Record<string, string>), ...home.env, NODE_ENV: '', NO_COLOR: '1', HOME: dir, CIMOPS_CONFIG: ownConfig, CIMOPS_EXAMPLE_LOG: log, PATH: `${join(work, 'bin')}:${process.env.PATH}`}
    for (const [key, value] of Object.entries(env)) if (value === '') delete env[key]
    const child = spawn('bash', ['-c', command], {cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe']})
    const output = collect(child)
    let timedOut = false
    let stop = setTimeout(() => signalGroup(child, 'SIGINT'), bounded ? BOUNDED_MS : TIMEOUT_MS)
    if (bounded) {
      let printed = false
      const onOutput = () => {
        if (printed) return
        printed = true
        clearTimeout(stop)
        stop = setTimeout(() => signalGroup(child, 'SIGINT'), BOUNDED_AFTER_OUTPUT_MS)
      }
      for (const stream of [child.stdout, child.stderr]) stream?.once('data', onOutput)
    }
    const kill = setTimeout(() => ((timedOut = !bounded), signalGroup(child, 'SIGKILL')), (bounded ? BOUNDED_MS : TIMEOUT_MS) + 5000)
    if (!bounded) stop.unref()
    const {stdout, stderr} = await output
    clearTimeout(stop)
    clearTimeout(kill)
    if (!bounded && child.signalCode === null && child.exitCode === null) timedOut = true
    return {command, invocations: await invocations(log), stdout, stderr, timedOut}
  }
})

/** `alerts list --json`: the command and the SHAPE_FLAGS of a call (a --format with its value). */
function shapeOf(argv: string[], id: string | undefined): string {
  const marks = argv.flatMap((arg, i) => {
    const [name, value] = arg.split('=', 2)
    if (!SHAPE_FLAGS.includes(name)) return []
    return name === '--format' ? [`--format=${value ?? argv[i + 1]}`] : [name]
  })
  return [id ?? argv.join(' '), ...new Set(marks)].join(' ')
}

/** Each argv (by its JSON) parsed by the built CLI in one process: the command it names, the usage error if any. */
async function parseArgv(argvs: string[][], env: Record<string, string>): Promise<Map<string, {id?: string; error?: string}>> {
  const child = execFile(process.execPath, [join(ROOT, 'test', 'helpers', 'parse-argv.mjs')], {env: {...process.env, ...env}, maxBuffer: 16 * 1024 * 1024, timeout: TIMEOUT_MS})
  child.stdin!.end(JSON.stringify(argvs))
  const {stdout} = await collect(child)
  const results = JSON.parse(stdout) as Array<{id?: string; error?: string}>
  return new Map(argvs.map((argv, i) => [JSON.stringify(argv), results[i]]))
}

function judge(example: Example, outcome: Outcome, usageAllowed: boolean): string | undefined {
  if (outcome.timedOut) return `did not finish within ${TIMEOUT_MS / 1000}s`
  if (outcome.invocations.length === 0) return `never ran cimops: ${outcome.stderr.trim().split('\n').pop()}`
  for (const call of outcome.invocations) {
    const said = call.stderr.split('\n').find((line) => line.startsWith('cimops:')) ?? (/"error":\s*(\{[^}]*\})/.exec(outcome.stdout)?.[1] ?? call.stderr.trim().split('\n').slice(0, 3).join(' / '))
    if (STACK_FRAME.test(call.stderr)) return `cimops ${call.args}crashed (exit ${call.code}): ${said}`
    if (/please report/i.test(call.stderr + outcome.stdout)) return `cimops ${call.args}asked to be reported (exit ${call.code}): ${said}`
    if (call.code === 64 && example.expectedExit !== 64 && !usageAllowed) return `cimops ${call.args}was a usage error (64): ${said}`
  }
  const last = outcome.invocations.at(-1)!
  if (example.expectedExit !== undefined && last.code !== example.expectedExit) return `exit ${last.code}, documented as ${example.expectedExit}`
  return undefined
}

function adaptation(command: string): {skip?: string; bounded: boolean; bareConfig: boolean; rewrite: Array<(command: string) => string>} {
  const matching = ADAPTED.filter((entry) => entry.match.test(command))
  return {
    skip: matching.find((entry) => entry.skip)?.skip,
    bareConfig: matching.some((entry) => entry.bareConfig),
    bounded: matching.some((entry) => entry.bounded),
    rewrite: matching.flatMap((entry) => (entry.rewrite ? [entry.rewrite] : [])),
  }
}

function usageAllowed(command: string, alertmanagerVersion: string): boolean {
  const below = (version: string, than: string) => version.localeCompare(than, undefined, {numeric: true}) < 0
  return ADAPTED.some((entry) => entry.usageOn && entry.match.test(command) && below(alertmanagerVersion, entry.usageOn.alertmanagerBelow))
}

async function invocations(log: string): Promise<Invocation[]> {
  const records = (await readdir(log)).filter((file) => file.endsWith('.args')).sort()
  return Promise.all(
    records.map(async (file) => {
      const base = join(log, file.slice(0, -'.args'.length))
      const code = await readFile(`${base}.code`, 'utf8').catch(() => '')
      return {args: await readFile(`${base}.args`, 'utf8'), code: code === '' ? -1 : Number(code), stderr: await readFile(`${base}.stderr`, 'utf8').catch(() => '')}
    }),
  )
}

function collect(child: ChildProcess): Promise<{stdout: string; stderr: string}> {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk))
  return new Promise((resolve) => child.on('close', () => resolve({stdout, stderr})))
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal)
  } catch {
    // already gone
  }
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items]
  await Promise.all(Array.from({length: size}, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item)
  }))
}
