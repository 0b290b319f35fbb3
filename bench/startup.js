#!/usr/bin/env node
// Startup benchmark (issue: `cimops --version` and `--help` within 2.5x of `node -e 0`).
// Runs each command N times alternately, prints one summary line, writes bench/results/startup.json.
import {spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
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

const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
const env = {...process.env, NO_COLOR: '1'}
for (let i = 0; i < runs + 2; i++) {
  for (const [name, args] of Object.entries(cases)) {
    const started = process.hrtime.bigint()
    const result = spawnSync(process.execPath, args, {env: {...env, ...caseEnv[name]}, stdio: ['ignore', 'pipe', 'pipe']})
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    if (result.status !== 0) throw new Error(`${name} exited ${result.status}: ${result.stderr}`)
    if (i >= 2) samples[name].push(ms) // first two rounds warm the file cache
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
const baseline = median(samples['node -e 0'])
const figures = Object.fromEntries(
  Object.entries(samples).map(([name, values]) => [name, {medianMs: +median(values).toFixed(1), ratio: +(median(values) / baseline).toFixed(2)}]),
)
const target = 2.5
const worst = Math.max(figures['cimops --version'].ratio, figures['cimops --help'].ratio)
const result = {benchmark: 'startup', runs, node: process.version, target: `<= ${target}x node -e 0`, pass: worst <= target, figures, at: new Date().toISOString()}
mkdirSync(join(root, 'bench/results'), {recursive: true})
writeFileSync(join(root, 'bench/results/startup.json'), `${JSON.stringify(result, null, 2)}\n`)
console.log(
  `startup: node -e 0 ${figures['node -e 0'].medianMs}ms | --version ${figures['cimops --version'].medianMs}ms (${figures['cimops --version'].ratio}x) | --help ${figures['cimops --help'].medianMs}ms (${figures['cimops --help'].ratio}x) | --help rendered by oclif ${figures['cimops --help (oclif render)'].medianMs}ms (${figures['cimops --help (oclif render)'].ratio}x) | target <= ${target}x: ${result.pass ? 'PASS' : 'FAIL'}`,
)
