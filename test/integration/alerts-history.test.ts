/**
 * `cimops alerts history` against the real Prometheus of the sandbox (2.42, 2.53 or 3.x): a rule group evaluated every
 * second with an always-firing rule and one that fires 4s out of every 8s, then episodes from ALERTS.
 * Run `npm run build` first.
 */
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createPrometheusClient} from '../../src/lib/adapters/prometheus/client.js'
import {alertHistory} from '../../src/lib/alerts/history.js'
import {parseMatcher} from '../../src/lib/alerts/matchers.js'
import type {AlertHistoryResult, Episode} from '../../src/lib/alerts/model.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {eventually} from '../helpers/health.js'
import {useSandbox} from '../helpers/sandbox.js'

const sandbox = useSandbox({components: ['prometheus']})
let home: Awaited<ReturnType<typeof isolatedHome>>

// `interval: 1s` overrides the sandbox's 5s evaluation interval for this group, so episodes come quickly.
// A comparison of two scalars needs `bool`; `vector(time())` keeps it a filter that yields nothing when false.
const RULES = `groups:
  - name: cimops-history-test
    interval: 1s
    rules:
      - alert: CimopsHistoryAlways
        expr: vector(1)
        labels: {severity: warning, test: history}
        annotations: {summary: always firing}
      - alert: CimopsHistoryBrief
        expr: vector(time()) % 8 < 4
        for: 0s
        labels: {severity: critical, test: history}
        annotations: {summary: fires 4s of every 8s}
`

beforeAll(async () => {
  home = await isolatedHome()
  await writeFile(join(sandbox().stateDir, 'prometheus', 'rules', 'cimops-history-test.yml'), RULES)
  const reload = await fetch(`${sandbox().state.prometheusUrl}/-/reload`, {method: 'POST'})
  expect(reload.status, await reload.text()).toBe(200)
})

afterAll(async () => {
  await home?.cleanup()
})

const brief = (episodes: Episode[]) => episodes.filter((e) => e.alertname === 'CimopsHistoryBrief')

/** Evaluation times (s, ascending) split as foldEpisodes splits a 1s step: a gap of more than two evaluations ends a run. */
function runsOf(times: number[]): number[][] {
  const runs: number[][] = []
  for (const time of times) {
    const last = runs.at(-1)
    if (last && time - last.at(-1)! < 2.5) last.push(time)
    else runs.push([time])
  }
  return runs
}

describe('alerts history', () => {
  it('folds ALERTS into episodes: the brief rule comes and goes, the always-firing one is still firing', async () => {
    const prometheus = createPrometheusClient({url: sandbox().state.prometheusUrl ?? ''}, 5000)
    const matchers = [parseMatcher('test=history')]
    // Bounded wait for two finished episodes of the brief rule (about 8-20s after the reload).
    const probe = await eventually(
      () => alertHistory(prometheus, {matchers, sinceMs: 120_000, stepMs: 1000}),
      (result) => brief(result.episodes).filter((e) => !e.stillFiring).length >= 2,
      40_000,
      1000,
    )
    expect(brief(probe.episodes).filter((e) => !e.stillFiring).length, JSON.stringify(probe.episodes)).toBeGreaterThanOrEqual(2)

    const result = await runCli(['alerts', 'history', 'test=history', '--since', '2m', '--step', '1s', '--json'], {
      ...home.env,
      CIMOPS_PROMETHEUS_URL: sandbox().state.prometheusUrl ?? '',
    })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const history = JSON.parse(result.stdout) as AlertHistoryResult
    expect(history.stepSeconds).toBe(1)
    // A millisecond short where the server's range selectors include their left edge (before Prometheus 3).
    const major = Number((await createPrometheusClient({url: sandbox().state.prometheusUrl ?? ''}, 5000).buildInfo()).version.split('.')[0])
    expect(history.query).toBe(`max_over_time(ALERTS{alertstate="firing", test="history"}[${major < 3 ? 999 : 1000}ms])`)
    expect(Date.parse(history.to) - Date.parse(history.from)).toBe(120_000)

    const always = history.episodes.filter((e) => e.alertname === 'CimopsHistoryAlways')
    expect(always).toHaveLength(1)
    expect(always[0]).toMatchObject({labels: {severity: 'warning', test: 'history'}, to: null, stillFiring: true})
    expect(always[0].durationSeconds).toBeGreaterThan(5)

    const episodes = brief(history.episodes)
    expect(episodes.length).toBeGreaterThanOrEqual(2)
    const ended = episodes.filter((e) => !e.stillFiring)
    expect(ended.length).toBeGreaterThanOrEqual(2)
    for (const [i, episode] of ended.entries()) {
      expect(episode.to).not.toBeNull()
      expect(episode.labels).toEqual({severity: 'critical', test: 'history'})
      // Fires at 4 one-second evaluations, and the step window adds at most one step; the first episode
      // may have begun before the rule was loaded, so it can be shorter.
      expect(episode.durationSeconds, JSON.stringify(episodes)).toBeGreaterThanOrEqual(i === 0 ? 0 : 2)
      expect(episode.durationSeconds, JSON.stringify(episodes)).toBeLessThanOrEqual(5)
    }
    // Only the last episode can still be firing; starts are sorted and (after the first) 8s apart.
    expect(episodes.slice(0, -1).every((e) => !e.stillFiring)).toBe(true)
    const starts = episodes.map((e) => Date.parse(e.from) / 1000)
    expect(starts[1] - starts[0]).toBeLessThanOrEqual(8)
    for (let i = 2; i < starts.length; i++) expect(Math.round(starts[i] - starts[i - 1]), JSON.stringify(episodes)).toBe(8)
    expect(history.episodes.map((e) => Date.parse(e.from))).toEqual([...history.episodes.map((e) => Date.parse(e.from))].sort((a, b) => a - b))

    const text = await runCli(['alerts', 'history', 'CimopsHistoryBrief', '--since', '2m', '--step', '1s'], {...home.env, CIMOPS_PROMETHEUS_URL: sandbox().state.prometheusUrl ?? ''})
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^FROM +TO +DURATION +SEVERITY +ALERTNAME +LABELS$/m)
    expect(text.stdout).toMatch(/^\d\d:\d\d:\d\d +\d\d:\d\d:\d\d +\ds +critical +CimopsHistoryBrief +test=history$/m)
    expect(text.stdout).toMatch(/\d+ episodes of 1 alert in the last 2m \(step 1s\)/)
  })

  it('with every step on an evaluation (the left edge of each window too), episodes run from the first to the last evaluation that fired', async () => {
    // Prometheus 2 reads [t-step, t], 3 reads (t-step, t]: with the window ending on an evaluation and a 1s
    // step over a 1s rule, every window edge lies on an evaluation, where the two read differently.
    const prometheus = createPrometheusClient({url: sandbox().state.prometheusUrl ?? ''}, 5000)
    const raw = await eventually(
      () => prometheus.query('ALERTS{alertname="CimopsHistoryBrief", alertstate="firing"}[60s]'),
      (answer) => answer.resultType === 'matrix' && runsOf(answer.result[0]?.values.map((v) => v.time) ?? []).length >= 4,
      40_000,
      1000,
    )
    const times = raw.resultType === 'matrix' ? raw.result[0].values.map((v) => v.time) : []
    const end = times.at(-1)!
    const sinceMs = 60_000
    const result = await alertHistory(prometheus, {matchers: [parseMatcher('alertname=CimopsHistoryBrief')], sinceMs, stepMs: 1000, now: new Date(Math.round(end * 1000))})
    // Runs of evaluations that began inside the window (one cut by its start reads from the start) and have ended.
    const expected = runsOf(times)
      .filter((run) => run[0] > end - sinceMs / 1000 + 1 && run.at(-1)! < end)
      .map((run) => [new Date(Math.round(run[0] * 1000)).toISOString(), new Date(Math.round(run.at(-1)! * 1000)).toISOString()])
    expect(expected.length).toBeGreaterThanOrEqual(2)
    const closed = result.episodes.filter((e) => !e.stillFiring && Date.parse(e.from) / 1000 > end - sinceMs / 1000 + 1)
    expect(closed.map((e) => [e.from, e.to]), result.query).toEqual(expected)
  })

  it('over 30 days (a 236s step) an alert resolved seconds ago is resolved, at its last evaluation, and a recent short one is not missed', async () => {
    // Fires for about 5s from now, evaluated every second; then its series ends with a stale marker.
    const stopAt = Math.ceil(Date.now() / 1000) + 6
    await writeFile(
      join(sandbox().stateDir, 'prometheus', 'rules', 'cimops-history-edge.yml'),
      `groups:\n  - name: cimops-history-edge\n    interval: 1s\n    rules:\n      - alert: CimopsHistoryEdge\n        expr: vector(time()) < ${stopAt}\n        labels: {test: edge}\n`,
    )
    const reload = await fetch(`${sandbox().state.prometheusUrl}/-/reload`, {method: 'POST'})
    expect(reload.status).toBe(200)
    const prometheus = createPrometheusClient({url: sandbox().state.prometheusUrl ?? ''}, 5000)
    const matchers = [parseMatcher('test=edge')]
    // Bounded: it fires within a couple of evaluations of the reload, and is gone once stopAt has passed.
    await eventually(() => prometheus.query('ALERTS{test="edge", alertstate="firing"}'), (r) => r.resultType === 'vector' && r.result.length === 1, 15_000, 250)
    await eventually(() => prometheus.query('ALERTS{test="edge", alertstate="firing"}'), (r) => r.resultType === 'vector' && r.result.length === 0, 20_000, 250)
    // Long enough after the resolution for the coarse step's last point (12s before the end of a 30d window) to hold its samples.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (stopAt + 15) * 1000 - Date.now())))

    const day = 86_400_000
    for (const sinceMs of [30 * day, 30 * day + 200_000]) {
      // 30d + 200s: the step is still 236s, but its last point falls 212s before the end, after which the episode lies.
      const result = await alertHistory(prometheus, {matchers, sinceMs})
      expect(result.stepSeconds).toBe(236)
      expect(result.episodes, `${sinceMs}: ${JSON.stringify(result.episodes)}`).toHaveLength(1)
      const [episode] = result.episodes
      expect(episode).toMatchObject({alertname: 'CimopsHistoryEdge', stillFiring: false})
      // The last evaluation that fired is within 1s (one evaluation) of stopAt, not a step (236s) later.
      const to = Date.parse(episode.to!) / 1000
      expect(to).toBeLessThan(stopAt + 0.5)
      expect(to).toBeGreaterThan(stopAt - 2.5)
      expect(episode.durationSeconds).toBeGreaterThan(0)
      expect(episode.durationSeconds).toBeLessThan(10)
    }

    const cli = await runCli(['alerts', 'history', 'CimopsHistoryEdge', '--since', '30d', '--json'], {...home.env, CIMOPS_PROMETHEUS_URL: sandbox().state.prometheusUrl ?? ''})
    expect(cli.code, cli.stderr).toBe(0)
    expect((JSON.parse(cli.stdout) as AlertHistoryResult).episodes.map((e) => e.stillFiring)).toEqual([false])
  }, 60_000)

  it('a step that would exceed 11,000 points is a usage error; nothing in the window is not an error', async () => {
    const env = {...home.env, CIMOPS_PROMETHEUS_URL: sandbox().state.prometheusUrl ?? ''}
    const tooFine = await runCli(['alerts', 'history', '--since', '1d', '--step', '1s'], env)
    expect(tooFine.code).toBe(64)
    expect(tooFine.stderr).toMatch(/--step too small for the window: 86400 points per series, Prometheus allows at most 11000 \(use --step 8s or more/)
    const nothing = await runCli(['alerts', 'history', 'NeverFired', '--since', '10m'], env)
    expect(nothing).toMatchObject({code: 0, stdout: 'Nothing fired in the last 10m.\n'})
  })
})
