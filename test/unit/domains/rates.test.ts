import {describe, expect, it} from 'vitest'

import type {PrometheusClient} from '../../../src/lib/adapters/prometheus/client.js'
import {failuresFromPrometheus, ratesFromPrometheus} from '../../../src/lib/domains/rates.js'

const NOW = new Date('2026-11-22T08:00:00Z')

describe('ratesFromPrometheus', () => {
  const client = (vectors: Record<string, Array<{metric: Record<string, string>; value: number}>>): PrometheusClient =>
    ({
      query: async (expr: string) => ({resultType: 'vector', result: (Object.entries(vectors).find(([k]) => expr.includes(k))?.[1] ?? []).map((s) => ({...s, time: 0})), warnings: [], infos: []}),
    }) as unknown as PrometheusClient

  it('per domain: the rate now and the count over the window', async () => {
    const rates = await ratesFromPrometheus(client({'rate(': [{metric: {domain: 'graph'}, value: 2}], 'increase(': [{metric: {domain: 'graph'}, value: 86399.6}, {metric: {domain: 'agent'}, value: 10}]}), 43200, NOW)
    expect(rates).toEqual({
      domains: [
        {domain: 'graph', ratePerSecond: 2, windowCount: 86400},
        {domain: 'agent', ratePerSecond: null, windowCount: 10},
      ],
      windowCount: 86410,
      ratePerSecond: 2,
    })
  })

  it('undefined when the monitor\'s metric does not exist, so the stream is asked instead', async () => {
    expect(await ratesFromPrometheus(client({}), 43200, NOW)).toBeUndefined()
  })
})

describe('failuresFromPrometheus', () => {
  const queries: string[] = []
  const client = (result: Array<{metric: Record<string, string>; value: number}>): PrometheusClient =>
    ({
      query: async (expr: string) => {
        queries.push(expr)
        return {resultType: 'vector', result: result.map((s) => ({...s, time: 0})), warnings: [], infos: []}
      },
    }) as unknown as PrometheusClient

  it('failed events per domain over the window, rounded', async () => {
    const failed = await failuresFromPrometheus(client([{metric: {domain: 'workflow'}, value: 2.9}, {metric: {domain: 'agent'}, value: 0}]), 3600, NOW)
    expect(failed).toEqual(new Map([['workflow', 3], ['agent', 0]]))
    expect(queries.at(-1)).toBe('sum by (domain) (increase(cim_events_failed_total[3600s]))')
  })

  it('undefined when Prometheus has no cim_events_failed_total', async () => {
    expect(await failuresFromPrometheus(client([]), 3600, NOW)).toBeUndefined()
  })
})
