import {describe, expect, it} from 'vitest'

import {KNOWN_METRICS, knownSeriesNames, unknownMetrics} from '../../../src/lib/deploy/known-metrics.js'
import {analyzePromql, substituteGrafanaVariables} from '../../../src/lib/deploy/promql.js'

describe('analyzePromql: the metric names an expression selects', () => {
  const names = (expr: string) => {
    const analysis = analyzePromql(expr)
    expect(analysis.error, expr).toBeUndefined()
    return analysis.metrics
  }

  it('skips functions, aggregations, keywords and label names', () => {
    expect(names('sum by (domain) (rate(cim_events_total{domain=~"graph|workflow"}[5m]))')).toEqual(['cim_events_total'])
    expect(names('sum(rate(x[5m])) without (instance, job)')).toEqual(['x'])
    expect(names('max by (domain) (cim_event_queue_depth / cim_event_queue_capacity) > 0.8')).toEqual(['cim_event_queue_capacity', 'cim_event_queue_depth'])
    expect(names('a * on (x) group_left (y, z) b offset 5m')).toEqual(['a', 'b'])
    expect(names('a / ignoring(code) group_right b')).toEqual(['a', 'b'])
    expect(names('x > bool 1e-3 and y unless z or Inf > NaN')).toEqual(['x', 'y', 'z'])
    expect(names('topk(5, foo) @ end()')).toEqual(['foo'])
    expect(names('count_values("version", nodejs_version_info)')).toEqual(['nodejs_version_info'])
    expect(names('quantile(0.9, x)')).toEqual(['x'])
  })

  it('reads subqueries, durations, numbers and recording-rule names', () => {
    expect(names('max_over_time(rate(x[5m])[1h:1m])')).toEqual(['x'])
    expect(names('deriv(job:cim_events:rate5m[1h30m]) * 0x1f + .5')).toEqual(['job:cim_events:rate5m'])
    expect(names('histogram_quantile(0.99, sum by (le) (rate(nodejs_gc_duration_seconds_bucket[5m])))')).toEqual(['nodejs_gc_duration_seconds_bucket'])
  })

  it('ignores identifiers inside strings and comments, and reads __name__ matchers', () => {
    expect(names('label_replace(up{job="cim-monitor"}, "dst", "$1 not_a_metric", "src", "(.*)")')).toEqual(['up'])
    expect(names('{__name__="cim_events_total", domain="graph"}')).toEqual(['cim_events_total'])
    expect(names('x # y is a comment\n + z')).toEqual(['x', 'z'])
  })

  it('reports expressions it cannot read', () => {
    expect(analyzePromql('sum(rate(x[1m])').error).toMatch(/unclosed "\("/)
    expect(analyzePromql('x{a="b}').error).toMatch(/unterminated string/)
    expect(analyzePromql('sum(x]').error).toMatch(/unexpected "]"/)
    expect(analyzePromql('rate(x[$__rate_interval])').error).toMatch(/unexpected character "\$"/)
    expect(analyzePromql('  ').error).toBe('empty expression')
  })
})

describe('substituteGrafanaVariables', () => {
  it('turns interval variables into durations, variables in strings into regexes, others into numbers', () => {
    expect(substituteGrafanaVariables('sum(rate(cim_events_total{domain=~"$domain"}[$__rate_interval]))')).toBe('sum(rate(cim_events_total{domain=~".*"}[1m]))')
    expect(substituteGrafanaVariables('increase(x{a=~"${a:regex}", b="[[b]]"}[${__range}])')).toBe('increase(x{a=~".*", b=".*"}[1h])')
    expect(substituteGrafanaVariables('topk($n, rate(x[$window])) / $__range_s')).toBe('topk(1, rate(x[1m])) / 3600')
    expect(substituteGrafanaVariables('x[[interval]]')).toBe('x1')
    expect(substituteGrafanaVariables('label_replace(up, "d", "$1", "s", "(.*)")')).toBe('label_replace(up, "d", ".*", "s", "(.*)")')
  })
})

describe('known metrics', () => {
  it('lists each name once and expands histograms into their series', () => {
    const names = KNOWN_METRICS.map((m) => m.name)
    expect(new Set(names).size).toBe(names.length)
    const series = knownSeriesNames()
    expect(series.has('nodejs_gc_duration_seconds_bucket')).toBe(true)
    expect(series.has('nodejs_gc_duration_seconds')).toBe(false)
    expect(unknownMetrics(['cim_events_total', 'cim_event_total', 'job:x:rate5m', 'cim_event_total'], ['job:x:rate5m'])).toEqual(['cim_event_total'])
  })

  it('covers every metric the event monitor registers', async () => {
    const {createMetrics} = await import('../../../src/lib/monitor/metrics.js')
    // Only the registered names are read, so the scrape-time inputs are never used.
    const {registry} = await createMetrics(...([{}] as unknown as Parameters<typeof createMetrics>))
    const exported = registry.getMetricsAsArray().flatMap((metric) => {
      const {name, type} = metric as unknown as {name: string; type: string}
      return type === 'histogram' ? ['_bucket', '_sum', '_count'].map((suffix) => name + suffix) : [name]
    })
    expect(exported).toContain('cim_events_total')
    expect(unknownMetrics(exported)).toEqual([])
    // And the other way round: what the dashboards may read from the monitor, it exports.
    const promised = KNOWN_METRICS.filter((m) => m.source === 'cim-monitor' || m.source === 'prom-client').map((m) => (m.type === 'histogram' ? `${m.name}_bucket` : m.name))
    expect(promised.filter((name) => !exported.includes(name))).toEqual([])
  })
})
