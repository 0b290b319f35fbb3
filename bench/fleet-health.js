#!/usr/bin/env node
// Fleet health-check benchmark (issue 20: `cimops health-check` on a fleet of 3 sites takes <= 1.3x one site,
// whole process, median). Starts 3 independent seeded sandboxes on 127.0.0.1 in a temp dir, one cimops context
// per sandbox (a, b, c) in an isolated config, and runs the built CLI as child processes: one site and the fleet
// of three alternately, so both see the same machine load. Prints one summary line, writes
// bench/results/fleet-health.json. Exits 0 when the target is missed (pass: false).
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describeServers, sandboxDown, sandboxUp, seedSandbox, serverSetVersions} from '../dist/lib/sandbox/index.js'
import {interruptible, Interrupted, isolatedEnv, median, r1, runNode} from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.env.BENCH_RUNS ?? 11)
const warmups = 2
const target = 1.3
const sites = ['a', 'b', 'c']
const cli = join(root, 'bin/run.js')

const tmp = mkdtempSync(join(tmpdir(), 'cimops-bench-fleet-'))
const env = isolatedEnv(tmp)
const checkpoint = interruptible()
const stateDirs = sites.map((site) => join(tmp, `sandbox-${site}`))
let started = 0

const p90 = (values) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * 0.9) - 1)]
const stats = (values) => ({medianMs: r1(median(values)), p90Ms: r1(p90(values)), samplesMs: values.map(r1)})

/** One whole `cimops health-check --json` process on the given contexts. */
async function healthCheck(contexts) {
  const argv = [cli, 'health-check', '--json', ...contexts.flatMap((context) => ['--context', context])]
  const run = await runNode(argv, {env, what: `health-check on ${contexts.join(', ')}`, allowFail: true})
  checkpoint()
  return {...run, wallMs: run.wallSeconds * 1000}
}

try {
  const states = []
  for (const stateDir of stateDirs) {
    started++
    const {state} = await sandboxUp({stateDir})
    checkpoint()
    await seedSandbox(state.natsServers)
    checkpoint()
    states.push(state)
  }
  const context = (state) =>
    `    nats: {servers: [${state.natsServers.join(', ')}]}\n    prometheus: {url: '${state.prometheusUrl}'}\n    alertmanager: {url: '${state.alertmanagerUrl}'}\n`
  mkdirSync(join(tmp, 'config', 'cimops'), {recursive: true})
  writeFileSync(join(tmp, 'config', 'cimops', 'config.yaml'), `current-context: a\ncontexts:\n${sites.map((site, i) => `  ${site}:\n${context(states[i])}`).join('')}`)

  const one = []
  const fleet = []
  const statuses = {one: {}, fleet: {}}
  const reportMs = {one: [], fleet: []}
  const cpu = {one: [], fleet: []}
  const rss = {one: [], fleet: []}
  const perSiteMs = Object.fromEntries(sites.map((site) => [site, []]))
  for (let i = 0; i < runs + warmups; i++) {
    const single = await healthCheck(['a'])
    const three = await healthCheck(sites)
    if (i < warmups) continue // the first rounds warm the file cache
    one.push(single.wallMs)
    fleet.push(three.wallMs)
    statuses.one[single.json.status] = (statuses.one[single.json.status] ?? 0) + 1
    statuses.fleet[three.json.status] = (statuses.fleet[three.json.status] ?? 0) + 1
    reportMs.one.push(single.json.durationSeconds * 1000)
    reportMs.fleet.push(three.json.durationSeconds * 1000)
    if (single.cpuSeconds !== undefined) cpu.one.push(single.cpuSeconds * 1000)
    if (three.cpuSeconds !== undefined) cpu.fleet.push(three.cpuSeconds * 1000)
    if (single.peakRssMB !== undefined) rss.one.push(single.peakRssMB)
    if (three.peakRssMB !== undefined) rss.fleet.push(three.peakRssMB)
    for (const site of three.json.contexts) perSiteMs[site.context].push(site.durationSeconds * 1000)
  }

  const ratio = +(median(fleet) / median(one)).toFixed(2)
  const pass = ratio <= target
  const {set, versions} = await serverSetVersions()
  const result = {
    benchmark: 'fleet-health',
    runs,
    warmups,
    node: process.version,
    servers: {set, versions},
    target: `median of health-check on 3 contexts <= ${target}x on one`,
    pass,
    ratio,
    oneSite: {...stats(one), statuses: statuses.one, reportDurationMedianMs: r1(median(reportMs.one)), cpuMedianMs: cpu.one.length ? r1(median(cpu.one)) : null, peakRssMedianMB: rss.one.length ? r1(median(rss.one)) : null},
    threeSites: {
      ...stats(fleet),
      statuses: statuses.fleet,
      reportDurationMedianMs: r1(median(reportMs.fleet)),
      perSiteDurationMedianMs: Object.fromEntries(Object.entries(perSiteMs).map(([site, values]) => [site, r1(median(values))])),
      cpuMedianMs: cpu.fleet.length ? r1(median(cpu.fleet)) : null,
      peakRssMedianMB: rss.fleet.length ? r1(median(rss.fleet)) : null,
    },
    at: new Date().toISOString(),
  }
  mkdirSync(join(root, 'bench/results'), {recursive: true})
  writeFileSync(join(root, 'bench/results/fleet-health.json'), `${JSON.stringify(result, null, 2)}\n`)
  console.log(
    `fleet-health: 3 sites median ${Math.round(median(fleet))}ms vs 1 site ${Math.round(median(one))}ms = ${ratio}x (target <= ${target}x ${pass ? 'PASS' : 'FAIL'}) | in-process report ${Math.round(median(reportMs.fleet))}ms vs ${Math.round(median(reportMs.one))}ms | CPU ${result.threeSites.cpuMedianMs}ms vs ${result.oneSite.cpuMedianMs}ms | ${describeServers(set, versions)}`,
  )
} catch (error) {
  if (!(error instanceof Interrupted)) throw error
  console.error(`fleet-health bench: interrupted by ${error.message}; stopping the sandboxes`)
  process.exitCode = 130
} finally {
  await Promise.all(stateDirs.slice(0, started).map((stateDir) => sandboxDown(stateDir).catch((error) => console.error(`fleet-health bench: sandbox down failed: ${error.message}`))))
  rmSync(tmp, {recursive: true, force: true})
}
