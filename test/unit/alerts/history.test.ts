import {describe, expect, it} from 'vitest'

import {UsageError} from '../../../src/lib/core/errors.js'
import {alertHistory, checkStep, chooseStepMs, foldEpisodes, historyQuery} from '../../../src/lib/alerts/history.js'
import {parseMatcher} from '../../../src/lib/alerts/matchers.js'
import type {PrometheusClient} from '../../../src/lib/adapters/prometheus/client.js'

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

describe('alertHistory', () => {
  it('queries the window ending now with the step, and folds the answer', async () => {
    const calls: unknown[][] = []
    const now = new Date((T0 + 3600) * 1000)
    const prometheus = {
      async queryRange(...args: unknown[]) {
        calls.push(args)
        return {warnings: [], result: [{metric: {alertname: 'A', alertstate: 'firing'}, values: run(3000, 3600).map((time) => ({time, value: 1}))}]}
      },
    } as unknown as PrometheusClient
    const result = await alertHistory(prometheus, {matchers: [parseMatcher('alertname=A')], sinceMs: 3_600_000, now})
    expect(calls).toEqual([['max_over_time(ALERTS{alertstate="firing", alertname="A"}[15000ms])', new Date(T0 * 1000), now, 15]])
    expect(result).toEqual({
      from: iso(T0),
      to: iso(T0 + 3600),
      stepSeconds: 15,
      query: 'max_over_time(ALERTS{alertstate="firing", alertname="A"}[15000ms])',
      episodes: [{alertname: 'A', labels: {}, from: iso(T0 + 3000), to: null, stillFiring: true, durationSeconds: 600}],
    })
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
