import {describe, expect, it} from 'vitest'

import {typoHints} from '../../../src/lib/alerts/list.js'
import {parseMatcher} from '../../../src/lib/alerts/matchers.js'

const LABELS: Array<Record<string, string>> = [
  {alertname: 'HighEventLag', domain: 'graph', severity: 'critical'},
  {alertname: 'QueueFull', domain: 'workflow', severity: 'warning'},
  {alertname: 'GpuHot', node: 'gpu-01', severity: 'info'},
]
const hints = (matchers: string[], severities: string[] = []) => typoHints(matchers.map((m) => parseMatcher(m)), severities, LABELS)

describe('why an alert listing came back empty', () => {
  it('a label no alert has is named, with the labels there are', () => {
    expect(hints(['domian=graph'])).toEqual(['no alert has a label domian (labels present: alertname, domain, node, severity)'])
  })

  it('a value no alert has is named, with the values there are', () => {
    expect(hints(['domain=grpah'])).toEqual(['no alert has domain="grpah" (values of domain present: graph, workflow)'])
  })

  it('--severity values no alert has list the severities there are', () => {
    expect(hints([], ['crit'])).toEqual(['no alert has severity crit (severities present: critical, info, warning)'])
  })

  it('says nothing where the filter is no typo: a combination, a regex, a negation', () => {
    expect(hints(['domain=graph', 'severity=warning'])).toEqual([])
    expect(hints(['domain=~"gr.*"'])).toEqual([])
    expect(hints(['team!=data'])).toEqual([])
  })

  it('long lists are cut after eight with an ellipsis', () => {
    const many = Array.from({length: 12}, (_, i) => ({alertname: `A${i}`, domain: `d${String(i).padStart(2, '0')}`}))
    expect(typoHints([parseMatcher('domain=x')], [], many)[0]).toMatch(/present: d00, d01, d02, d03, d04, d05, d06, d07, …\)$/)
  })
})
