import {describe, expect, it} from 'vitest'

import type {ClusterState} from '../../../src/lib/adapters/nats/jetstream.js'
import {createStyle} from '../../../src/lib/core/output/style.js'
import {consumerReport} from '../../../src/lib/streams/consumer-report.js'
import {withTrends} from '../../../src/lib/streams/rates.js'
import {renderConsumerReport, renderStreamList, renderStreamReport, renderSubjects} from '../../../src/lib/streams/render.js'
import {streamReport} from '../../../src/lib/streams/stream-report.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'
import {consumer, fakeReader, NOW, secondsAgo, stream, thresholdSet} from './fixtures.js'

const style = createStyle({noColor: true})
const thresholds = thresholdSet({lagWarn: 10, lagCrit: 60, stallAfter: 300})
const now = () => NOW
const cluster: ClusterState = {
  leader: 'nats-eu-west-1-b',
  replicas: [
    {name: 'nats-eu-west-1-b', leader: true, current: true, offline: false, lag: 0, activeSeconds: 0},
    {name: 'nats-eu-west-1-a', leader: false, current: true, offline: false, lag: 0, activeSeconds: 0},
    {name: 'nats-eu-west-1-c', leader: false, current: false, offline: true, lag: 120, activeSeconds: 60},
  ],
}

/** Two streams with projections whose names differ only at the end, and the monitor's ephemeral consumer. */
function fleet() {
  return fakeReader({
    streams: [stream({cluster, subjects: ['cim.graph.>', 'cim.workflow.>', 'cim.agent.>', 'cim.identity.>', 'cim.document.>']}), stream({name: 'CIM_EVENTS_ARCHIVE_EU_WEST_1', cluster, messages: 50})],
    consumers: [
      consumer({name: 'workflow-analytics-projection-eu-west-1', unprocessed: 12_345, ackPending: 120, cluster}),
      consumer({name: 'workflow-analytics-projection-eu-west-2', unprocessed: 3, cluster}),
      consumer({stream: 'CIM_EVENTS_ARCHIVE_EU_WEST_1', name: 'workflow-analytics-projection-eu-west-1', cluster}),
      consumer({name: 'cimops_monitor_Xk2f9QpL4s', durable: false, cluster}),
    ],
    oldest: {'workflow-analytics-projection-eu-west-1': secondsAgo(94), 'workflow-analytics-projection-eu-west-2': secondsAgo(3)},
  }).reader
}

describe('consumer report table', () => {
  it.each(WIDTHS)('at %d columns: stream and consumer stand whole on each row; nothing wider than the narrowest layout allows', async (width) => {
    const report = await consumerReport(fleet(), {thresholds, sort: 'name', now})
    const keys = report.consumers.map((r) => [r.stream, r.name])
    expectFits((w) => renderConsumerReport(report, {style, width: w}), width, keys)
    const watched = withTrends(report, await consumerReport(fleet(), {thresholds, sort: 'name', now}))
    expectFits((w) => renderConsumerReport(watched, {style, width: w, trend: true}), width, keys)
  })

  it('at 200 columns one stream fits, the replica list wrapping inside its column, nothing cut', async () => {
    const report = await consumerReport(fleet(), {stream: 'EVENTS', thresholds, sort: 'name', now})
    const text = expectFits((w) => renderConsumerReport(report, {style, width: w}), 200, report.consumers.map((r) => [r.name]))
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(200)
    expect(text).toMatch(/nats-eu-west-1-b\*, nats-eu-west-1-a,\n +nats-eu-west-1-c!/)
    expect(text).not.toContain('…')
  })

  it('leaves ephemeral consumers out and says how many; --all shows them marked', async () => {
    const durable = await consumerReport(fleet(), {stream: 'EVENTS', thresholds, sort: 'name', now})
    expect(renderConsumerReport(durable, {style})).not.toContain('cimops_monitor_')
    expect(renderConsumerReport(durable, {style})).toContain('1 ephemeral consumer not shown (--all shows them)')
    const all = await consumerReport(fleet(), {stream: 'EVENTS', thresholds, sort: 'name', now, ephemeral: true})
    expect(renderConsumerReport(all, {style})).toMatch(/^cimops_monitor_Xk2f9QpL4s \(ephemeral\) +pull/m)
    expect(renderConsumerReport(all, {style})).not.toContain('not shown')
  })
})

describe('stream tables', () => {
  const streams = () =>
    fakeReader({
      streams: [
        stream({name: 'EVENTS', cluster, subjects: ['cim.graph.>', 'cim.workflow.>', 'cim.agent.>', 'cim.identity.>', 'cim.document.>']}),
        stream({name: 'workflow-analytics-projection-eu-west-1', cluster, sources: [{name: 'EVENTS', kind: 'source', lag: 12, activeSeconds: 2, filterSubject: 'cim.workflow.>', error: 'stream source consumer for EVENTS could not be created: insufficient resources on nats-eu-west-1-c'}]}),
        stream({name: 'workflow-analytics-projection-eu-west-2', cluster: undefined, replicas: 3}),
      ],
      consumers: [],
    }).reader

  it.each(WIDTHS)('at %d columns: stream list and report keep every stream name whole', async (width) => {
    const report = await streamReport(streams(), {sort: 'name', now: NOW})
    const keys = report.streams.map((s) => [s.name])
    expectFits((w) => renderStreamList(report, {style, width: w}), width, keys)
    const text = expectFits((w) => renderStreamReport(report, {style, width: w}), width, keys)
    expect(text).toMatch(/workflow-analytics-projection-eu-west-1 +source +EVENTS/)
  })

  it('at 80 columns the subject list moves to a detail line under its stream rather than losing its end', async () => {
    const report = await streamReport(streams(), {sort: 'name', now: NOW})
    const text = renderStreamList(report, {style, width: 80})
    expect(text.split('\n')[0]).not.toContain('SUBJECTS')
    expect(text).toContain('  subjects: cim.graph.>, cim.workflow.>, cim.agent.>, cim.identity.>,\n            cim.document.>')
    expect(text).not.toContain('…')
  })

  it.each(WIDTHS)('at %d columns: events subjects keeps each long subject whole', (width) => {
    const subjects = [
      {subject: 'cim.workflow.workflow.875b31c4-0480-5dda-a71f-54a4d8274c4f.WorkflowCompleted', messages: 12},
      {subject: 'cim.workflow.workflow.875b31c4-0480-5dda-a71f-54a4d8274c4f.WorkflowStarted', messages: 9},
    ]
    const result = {stream: 'EVENTS', filter: 'cim.workflow.>', subjects, total: 21}
    expectFits((w) => renderSubjects(result, subjects, {style, width: w}), width, subjects.map((s) => [s.subject]))
  })
})
