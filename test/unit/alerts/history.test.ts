import {describe, expect, it} from 'vitest'

import {UsageError} from '../../../src/lib/core/errors.js'
import {alertHistory, checkStep, chooseStepMs, foldEpisodes, historyQuery} from '../../../src/lib/alerts/history.js'
import {parseMatcher} from '../../../src/lib/alerts/matchers.js'
import type {PrometheusClient} from '../../../src/lib/adapters/prometheus/client.js'
import type {RangeSeries} from '../../../src/lib/adapters/prometheus/schema.js'

const T0 = 1_700_000_000
const iso = (seconds: number) => new Date(seconds * 1000).toISOString()
/** Unix seconds from T0 + first to T0 + last, every `step`. */
const run = (first: number, last: number, step = 15) => Array.from({length: Math.floor((last - first) / step) + 1}, (_, i) => T0 + first + i * step)

describe('chooseStepMs / checkStep', () => {
  it('15s unless the window needs more than 11,000 points', () => {
    expect(chooseStepMs(12 * 3_600_000)).toBe(15_000)
    expect(chooseStepMs(7 * 86_400_000)).toBe(55_000) // 604800 / 11000 = 54.98 -> 55s
    expect((30 * 86_400_000) / chooseStepMs(30 * 86_400_000)).toBeLessThanOrEqual(11_000)
  })

  it('a step giving more than 11,000 points is a usage error with the smallest good step', () => {
    expect(() => checkStep(86_400_000, 5000)).toThrowError(UsageError)
    expect(() => checkStep(86_400_000, 5000)).toThrowError(/17280 points/)
    try {
      checkStep(86_400_000, 5000)
    } catch (error) {
      expect((error as UsageError).hint).toMatch(/--step 8s/)
    }
    expect(() => checkStep(86_400_000, 8000)).not.toThrow()
  })
})

describe('historyQuery', () => {
  it('ALERTS firing with the matchers, max over one step', () => {
    expect(historyQuery([], 15_000)).toBe('max_over_time(ALERTS{alertstate="firing"}[15000ms])')
    expect(historyQuery([parseMatcher('alertname=HighEventLag'), parseMatcher('domain=~"gr.*"')], 5000)).toBe(
      'max_over_time(ALERTS{alertstate="firing", alertname="HighEventLag", domain=~"gr.*"}[5000ms])',
    )
  })
})

describe('foldEpisodes', () => {
  const labels = {__name__: 'ALERTS', alertname: 'HighEventLag', alertstate: 'firing', severity: 'critical', domain: 'graph'}

  it('contiguous points are one episode; the labels lose alertname, alertstate and __name__', () => {
    const end = T0 + 3600
    const [episode, ...rest] = foldEpisodes([{labels, times: run(0, 300)}], {stepSeconds: 15, end})
    expect(rest).toEqual([])
    expect(episode).toEqual({alertname: 'HighEventLag', labels: {severity: 'critical', domain: 'graph'}, from: iso(T0), to: iso(T0 + 300), stillFiring: false, durationSeconds: 300})
  })

  it('one missing point (a late evaluation) does not split; a gap of more than two steps does', () => {
    const oneMissing = [...run(0, 60), ...run(90, 150)] // gap 30 = 2 steps
    expect(foldEpisodes([{labels, times: oneMissing}], {stepSeconds: 15, end: T0 + 3600})).toHaveLength(1)
    const split = [...run(0, 60), ...run(105, 150)] // gap 45 = 3 steps
    const episodes = foldEpisodes([{labels, times: split}], {stepSeconds: 15, end: T0 + 3600})
    expect(episodes.map((e) => [e.from, e.to, e.durationSeconds])).toEqual([
      [iso(T0), iso(T0 + 60), 60],
      [iso(T0 + 105), iso(T0 + 150), 45],
    ])
  })

  it('still firing when the last point is the last step of the window; duration runs to the end', () => {
    const end = T0 + 300 + 7 // the window's last step is T0+300
    const [episode] = foldEpisodes([{labels, times: run(240, 300)}], {stepSeconds: 15, end})
    expect(episode).toMatchObject({from: iso(T0 + 240), to: null, stillFiring: true, durationSeconds: 67})
    const [ended] = foldEpisodes([{labels, times: run(240, 285)}], {stepSeconds: 15, end})
    expect(ended).toMatchObject({to: iso(T0 + 285), stillFiring: false, durationSeconds: 45})
  })

  it('a single point is an episode of duration 0', () => {
    expect(foldEpisodes([{labels, times: [T0 + 30]}], {stepSeconds: 15, end: T0 + 600})).toMatchObject([{from: iso(T0 + 30), to: iso(T0 + 30), durationSeconds: 0}])
  })

  it('episodes of all series are sorted by start, then alertname', () => {
    const other = {alertname: 'AQueueFull', alertstate: 'firing', domain: 'workflow'}
    const episodes = foldEpisodes(
      [
        {labels, times: [...run(0, 30), ...run(300, 330)]},
        {labels: other, times: run(100, 130)},
        {labels: {...other, alertname: 'ZLast'}, times: run(0, 15)},
        {labels: {...other, alertname: 'Empty'}, times: []},
      ],
      {stepSeconds: 15, end: T0 + 3600},
    )
    expect(episodes.map((e) => `${e.alertname}@${Date.parse(e.from) / 1000 - T0}`)).toEqual(['HighEventLag@0', 'ZLast@0', 'AQueueFull@100', 'HighEventLag@300'])
  })
})

/** A Prometheus answering the three queries of alertHistory from canned results, recording the calls. */
function cannedPrometheus(answers: {range: RangeSeries[]; recent: RangeSeries[]; now: Array<Record<string, string>>; version?: string}) {
  const calls: unknown[][] = []
  const prometheus = {
    async buildInfo() {
      return {version: answers.version ?? '3.5.3', revision: 'x', branch: 'x', goVersion: 'go1.24'}
    },
    async queryRange(...args: unknown[]) {
      calls.push(['range', ...args])
      return {warnings: [], infos: [], result: answers.range}
    },
    async query(expr: string, time: Date) {
      calls.push(['instant', expr, time])
      return expr.endsWith(']')
        ? {warnings: [], infos: [], resultType: 'matrix', result: answers.recent}
        : {warnings: [], infos: [], resultType: 'vector', result: answers.now.map((metric) => ({metric, time: time.getTime() / 1000, value: 1}))}
    },
  } as unknown as PrometheusClient
  return {prometheus, calls}
}
const samples = (times: number[]) => times.map((time) => ({time, value: 1}))

describe('alertHistory', () => {
  it('queries the window ending now with the step, the raw samples of the last two steps and what fires now, and folds the answers', async () => {
    const now = new Date((T0 + 3600) * 1000)
    const firing = {__name__: 'ALERTS', alertname: 'A', alertstate: 'firing'}
    const {prometheus, calls} = cannedPrometheus({
      range: [{metric: {alertname: 'A', alertstate: 'firing'}, values: samples(run(3000, 3600))}],
      recent: [{metric: firing, values: samples(run(3571, 3599, 1))}],
      now: [firing],
    })
    const result = await alertHistory(prometheus, {matchers: [parseMatcher('alertname=A')], sinceMs: 3_600_000, now})
    expect(calls).toEqual([
      ['range', 'max_over_time(ALERTS{alertstate="firing", alertname="A"}[15000ms])', new Date(T0 * 1000), now, 15],
      ['instant', 'ALERTS{alertstate="firing", alertname="A"}[30000ms]', now],
      ['instant', 'ALERTS{alertstate="firing", alertname="A"}', now],
    ])
    expect(result).toEqual({
      from: iso(T0),
      to: iso(T0 + 3600),
      stepSeconds: 15,
      query: 'max_over_time(ALERTS{alertstate="firing", alertname="A"}[15000ms])',
      episodes: [{alertname: 'A', labels: {}, from: iso(T0 + 3000), to: null, stillFiring: true, durationSeconds: 600}],
      warnings: [],
      infos: [],
    })
  })

  // A 30-day window has a 236s step, and the range query's last point falls 12s before the end; each
  // point holds "fired within the 236s before". Answers shaped as Prometheus 2.42 gives them.
  const day = 86_400
  const end = T0 + 30 * day
  const start = end - 30 * day
  const rangePoints = (from: number, to: number) => run(from - start, to - start, 236).map((t) => t + start - T0)

  it('over 30 days, an alert resolved 3 minutes ago is resolved at its last evaluation, not still firing', async () => {
    const labels = {alertname: 'HighEventLag', alertstate: 'firing', domain: 'graph'}
    const resolvedAt = end - 180
    // Fired from 2h ago until 3 minutes ago, evaluated every 15s: every step point of those 2h (the last, 12s before the end, too).
    const range = [{metric: labels, values: samples(rangePoints(end - 7200, end - 12).filter((t) => t >= end - 7200))}]
    const recent = [{metric: {__name__: 'ALERTS', ...labels}, values: samples(run(resolvedAt - 285 - T0, resolvedAt - T0, 15))}]
    const {prometheus} = cannedPrometheus({range, recent, now: []})
    const result = await alertHistory(prometheus, {matchers: [], sinceMs: 30 * day * 1000, now: new Date(end * 1000)})
    expect(result.stepSeconds).toBe(236)
    expect(result.episodes).toHaveLength(1)
    expect(result.episodes[0]).toMatchObject({alertname: 'HighEventLag', stillFiring: false, to: iso(resolvedAt)})
  })

  it('over 30 days, a 40s alert in the last step is not missed, and one firing now runs to the end', async () => {
    const brief = {alertname: 'Brief', alertstate: 'firing'}
    const long = {alertname: 'Long', alertstate: 'firing'}
    // Brief fired after the range query's last point; Long fires now, its last evaluation 10s ago.
    const recent = [
      {metric: {__name__: 'ALERTS', ...brief}, values: samples(run(end - 60 - T0, end - 20 - T0, 10))},
      {metric: {__name__: 'ALERTS', ...long}, values: samples(run(end - 400 - T0, end - 10 - T0, 15))},
    ]
    const range = [{metric: long, values: samples(rangePoints(end - 3 * 3600, end - 12))}]
    const {prometheus} = cannedPrometheus({range, recent, now: [{__name__: 'ALERTS', ...long}]})
    const result = await alertHistory(prometheus, {matchers: [], sinceMs: 30 * day * 1000, now: new Date(end * 1000)})
    expect(result.episodes.map((e) => [e.alertname, e.from, e.to, e.stillFiring])).toEqual([
      ['Long', iso(rangePoints(end - 3 * 3600, end)[0]), null, true],
      ['Brief', iso(end - 60), iso(end - 20), false],
    ])
  })

  it('on Prometheus 2 the step window is a millisecond short, so it excludes its left edge as [step] does on 3', async () => {
    const now = new Date((T0 + 3600) * 1000)
    const query = async (version: string) => {
      const {prometheus, calls} = cannedPrometheus({range: [], recent: [], now: [], version})
      await alertHistory(prometheus, {matchers: [], sinceMs: 3_600_000, now})
      return calls[0][1]
    }
    await expect(query('2.42.0')).resolves.toBe('max_over_time(ALERTS{alertstate="firing"}[14999ms])')
    await expect(query('2.53.3+ds1')).resolves.toBe('max_over_time(ALERTS{alertstate="firing"}[14999ms])')
    await expect(query('3.5.3')).resolves.toBe('max_over_time(ALERTS{alertstate="firing"}[15000ms])')
    await expect(query('unknown')).resolves.toBe('max_over_time(ALERTS{alertstate="firing"}[15000ms])')
  })

  it('a window that is no multiple of the step: the raw samples start at a step point, leaving no gap between the answers', async () => {
    // 1h + 7s at a 15s step: points at start + 15k, the last 7s before the end; the one at or before end - 30s is end - 37s.
    const end = T0 + 3600
    // Fired at end - 36 and end - 35 only: seen by the point at end - 22 (past end - 30: not kept), and by the raw samples.
    const {prometheus, calls} = cannedPrometheus({
      range: [{metric: {alertname: 'Gap', alertstate: 'firing'}, values: samples([end - 22])}],
      recent: [{metric: {__name__: 'ALERTS', alertname: 'Gap', alertstate: 'firing'}, values: samples([end - 36, end - 35])}],
      now: [],
    })
    const result = await alertHistory(prometheus, {matchers: [], sinceMs: 3_607_000, now: new Date(end * 1000)})
    expect(calls[1][1]).toBe('ALERTS{alertstate="firing"}[37000ms]')
    expect(result.episodes.map((e) => [e.alertname, e.from, e.to])).toEqual([['Gap', iso(end - 36), iso(end - 35)]])
  })

  it('collects what Prometheus said beside the answers, warnings and infos apart, each once', async () => {
    const info = 'PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "x" (1:6)'
    const prometheus = {
      buildInfo: async () => ({version: '3.5.3'}),
      queryRange: async () => ({result: [], warnings: ['partial: a store was unreachable'], infos: [info]}),
      query: async () => ({resultType: 'vector', result: [], warnings: [], infos: [info]}),
    } as unknown as PrometheusClient
    const result = await alertHistory(prometheus, {matchers: [], sinceMs: 3_600_000})
    expect(result).toMatchObject({warnings: ['partial: a store was unreachable'], infos: [info]})
  })

  it('refuses a step that Prometheus would refuse, before asking it', async () => {
    const prometheus = {queryRange: () => Promise.reject(new Error('must not be called'))} as unknown as PrometheusClient
    await expect(alertHistory(prometheus, {matchers: [], sinceMs: 86_400_000, stepMs: 1000})).rejects.toBeInstanceOf(UsageError)
  })
})

describe('foldEpisodes output survives --json', () => {
  it('episodes of one series do not share objects (redact() would print a shared one as "[circular]")', async () => {
    const {redact} = await import('../../../src/lib/core/redact.js')
    const episodes = foldEpisodes([{labels: {alertname: 'A', x: '1'}, times: [...run(0, 15), ...run(300, 315)]}], {stepSeconds: 15, end: T0 + 3600})
    expect(redact(episodes).map((e) => e.labels)).toEqual([{x: '1'}, {x: '1'}])
  })
})
