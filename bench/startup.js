#!/usr/bin/env node
// Startup benchmark (issue: `cimops --version` and `--help` within 2.5x of `node -e 0`, on a terminal too).
// Runs each command N times alternately, prints one summary line, writes bench/results/startup.json.
// The terminal cases run under script(1), a pty, against `node -e 0` under the same script(1).
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.env.BENCH_RUNS ?? 21)
const cases = {
  'node -e 0': ['-e', '0'],
  'cimops --version': [join(root, 'bin/run.js'), '--version'],
  'cimops --help': [join(root, 'bin/run.js'), '--help'],
  // What a terminal user gets: oclif renders help for the real width (the build-time cache serves pipes).
  'cimops --help (oclif render)': [join(root, 'bin/run.js'), '--help'],
}
const caseEnv = {'cimops --help (oclif render)': {CIMOPS_NO_HELP_CACHE: '1'}}
const hasScript = spawnSync('script', ['--version'], {stdio: 'ignore'}).status === 0
const inTerminal = (args) => ['script', ['-qfec', [process.execPath, ...args].map((a) => `'${a}'`).join(' '), '/dev/null']]
const terminalCases = hasScript
  ? {'node -e 0 (terminal)': inTerminal(['-e', '0']), 'cimops --help (terminal)': inTerminal([join(root, 'bin/run.js'), '--help'])}
  : {}

const samples = Object.fromEntries([...Object.keys(cases), ...Object.keys(terminalCases)].map((name) => [name, []]))
// A cache of its own: the first terminal --help renders (a warm-up round), the rest replay it.
const cacheHome = mkdtempSync(join(tmpdir(), 'cimops-bench-startup-'))
const env = {...process.env, NO_COLOR: '1', XDG_CACHE_HOME: cacheHome}
for (let i = 0; i < runs + 2; i++) {
  for (const [name, [file, args]] of [...Object.entries(cases).map(([n, a]) => [n, [process.execPath, a]]), ...Object.entries(terminalCases)]) {
    const started = process.hrtime.bigint()
    const result = spawnSync(file, args, {env: {...env, ...caseEnv[name]}, stdio: ['ignore', 'pipe', 'pipe']})
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    if (result.status !== 0) throw new Error(`${name} exited ${result.status}: ${result.stderr}`)
    if (i >= 2) samples[name].push(ms) // first two rounds warm the file cache
  }
}

rmSync(cacheHome, {recursive: true, force: true})

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
const baselineOf = (name) => median(samples[name.endsWith('(terminal)') ? 'node -e 0 (terminal)' : 'node -e 0'])
const figures = Object.fromEntries(
  Object.entries(samples).map(([name, values]) => [name, {medianMs: +median(values).toFixed(1), ratio: +(median(values) / baselineOf(name)).toFixed(2)}]),
)
const target = 2.5
const worst = Math.max(figures['cimops --version'].ratio, figures['cimops --help'].ratio, figures['cimops --help (terminal)']?.ratio ?? 0)
const result = {benchmark: 'startup', runs, node: process.version, target: `<= ${target}x node -e 0`, pass: worst <= target, figures, at: new Date().toISOString()}
mkdirSync(join(root, 'bench/results'), {recursive: true})
writeFileSync(join(root, 'bench/results/startup.json'), `${JSON.stringify(result, null, 2)}\n`)
console.log(
  `startup: node -e 0 ${figures['node -e 0'].medianMs}ms | --version ${figures['cimops --version'].medianMs}ms (${figures['cimops --version'].ratio}x) | --help ${figures['cimops --help'].medianMs}ms (${figures['cimops --help'].ratio}x) | --help rendered by oclif ${figures['cimops --help (oclif render)'].medianMs}ms (${figures['cimops --help (oclif render)'].ratio}x) | ${hasScript ? `--help on a terminal ${figures['cimops --help (terminal)'].medianMs}ms (${figures['cimops --help (terminal)'].ratio}x the terminal's node -e 0)` : 'no script(1): terminal not measured'} | target <= ${target}x: ${result.pass ? 'PASS' : 'FAIL'}`,
)
