import {describe, expect, it} from 'vitest'

import {DEFAULTS, type ResolvedContext} from '../../../src/lib/core/context-types.js'
import {ago, renderFields, renderReplicas, unhealthyReplicas} from '../../../src/lib/streams/format.js'
import {consumerThresholds} from '../../../src/lib/streams/thresholds.js'

const replica = (name: string, over: {leader?: boolean; current?: boolean; offline?: boolean} = {}) => ({name, leader: false, current: true, offline: false, lag: 0, activeSeconds: 0, ...over})

describe('renderReplicas', () => {
  it('marks the leader * and an offline or lagging replica !', () => {
    const cluster = {name: 'c', leader: 'nats-2', replicas: [replica('nats-2', {leader: true}), replica('nats-1'), replica('nats-3', {offline: true})]}
    expect(renderReplicas(cluster)).toBe('nats-2*, nats-1, nats-3!')
    expect(unhealthyReplicas(cluster)).toEqual(['nats-3'])
    expect(renderReplicas({replicas: [replica('nats-1', {current: false})]})).toBe('no leader: nats-1!')
    expect(renderReplicas(undefined)).toBe('')
  })
})

describe('renderFields and ago', () => {
  it('aligns values and leaves out empty ones', () => {
    expect(renderFields([['A', '1'], ['Longer', '2'], ['Gone', undefined]])).toBe('A:       1\nLonger:  2')
    expect(ago(undefined)).toBe('never')
    expect(ago(125)).toBe('2m5s ago')
  })
})

describe('consumerThresholds', () => {
  const sources = Object.fromEntries(Object.keys(DEFAULTS.thresholds).map((key) => [key, 'default'])) as ResolvedContext['thresholdSources']
  const t = {thresholds: {...DEFAULTS.thresholds, lagCrit: 90}, thresholdSources: {...sources, lagCrit: 'context' as const}}
  it('takes the context unless flags say otherwise, naming the source of each; pending off unless given', () => {
    expect(consumerThresholds(t, {})).toEqual({
      values: {lagWarn: 10, lagCrit: 90, stallAfter: 300},
      sources: {lagWarn: 'default', lagCrit: 'context', stallAfter: 'default'},
      metadataKeys: {},
    })
    expect(consumerThresholds(t, {lagWarn: '30s', lagCrit: '2m', pendingWarn: '100', pendingCrit: '1000', stallAfter: '1m'})).toMatchObject({
      values: {lagWarn: 30, lagCrit: 120, stallAfter: 60, pendingWarn: 100, pendingCrit: 1000},
      sources: {lagWarn: 'flag', lagCrit: 'flag', stallAfter: 'flag', pendingWarn: 'flag', pendingCrit: 'flag'},
    })
  })
  it('refuses bad or inverted values', () => {
    expect(() => consumerThresholds(t, {lagWarn: '2m', lagCrit: '1m'})).toThrow('inconsistent --lag-warn/--lag-crit: warning 2m must be at most critical 1m')
    expect(() => consumerThresholds(t, {pendingWarn: 'many'})).toThrow('invalid --pending-warn "many"')
    expect(() => consumerThresholds(t, {pendingWarn: '10', pendingCrit: '5'})).toThrow('inconsistent --pending-warn/--pending-crit: warning 10 events must be at most critical 5 events')
  })
})
