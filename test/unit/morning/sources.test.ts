import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {drillsFromOps, fleetNodes, readBackupSets} from '../../../src/lib/morning/sources.js'

const NOW = new Date('2026-11-22T08:00:00Z')
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString()
let root: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cimops-morning-backups-'))
  const set = async (name: string, manifest: unknown, extra: string[] = []) => {
    await mkdir(join(root, name))
    if (manifest !== undefined) await writeFile(join(root, name, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest))
    for (const file of extra) await writeFile(join(root, name, file), '{}')
  }
  await set('20261117T030000Z', {format: 'cimops-backup/1', createdAt: daysAgo(5.01), completedAt: daysAgo(5), streams: [{name: 'EVENTS'}, {name: 'CIM_OPS'}]})
  await set('20261120T030000Z', {time: daysAgo(2)})
  await set('20261121T030000Z.partial', {completedAt: daysAgo(0.1)})
  await set('20261121T040000Z', {completedAt: daysAgo(0.05)}, ['.cimops-backup'])
  await set('corrupt', '{not json')
  // Sealed by cimops, then a statistic edited: its checksum no longer matches.
  await set('20261121T050000Z', {format: 'cimops-backup/1', createdAt: daysAgo(0.02), completedAt: daysAgo(0.01), streams: [{name: 'EVENTS'}], checksum: {algorithm: 'sha256', value: '0'.repeat(64)}})
  await set('no-time', {streams: []})
  await set('empty', undefined)
  await writeFile(join(root, 'stray-file'), 'x')
})

afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

describe('readBackupSets', () => {
  it('counts complete sets only (not one whose sealed manifest was edited), with the time the manifest gives', async () => {
    const sets = (await readBackupSets(root, NOW)).sort((a, b) => a.name.localeCompare(b.name))
    expect(sets).toEqual([
      {name: '20261117T030000Z', path: join(root, '20261117T030000Z'), time: daysAgo(5), ageSeconds: 5 * 86400, streams: ['EVENTS', 'CIM_OPS']},
      {name: '20261120T030000Z', path: join(root, '20261120T030000Z'), time: daysAgo(2), ageSeconds: 2 * 86400, streams: []},
    ])
  })

  it('a directory that is itself a set, and one that does not exist', async () => {
    expect((await readBackupSets(join(root, '20261120T030000Z'), NOW)).map((s) => s.name)).toEqual(['20261120T030000Z'])
    expect(await readBackupSets(join(root, 'missing'), NOW)).toEqual([])
  })
})

describe('drillsFromOps', () => {
  it('one finished drill per id, passed or not, from the result or its envelope', () => {
    const drills = drillsFromOps(
      [
        {subject: 'cim.ops.drill.d1.started', seq: 1, time: daysAgo(40), data: {}},
        {subject: 'cim.ops.drill.d1.completed', seq: 2, time: daysAgo(40), data: {id: 'd1', passed: true, finishedAt: daysAgo(40)}},
        {subject: 'cim.ops.drill.d2.completed', seq: 3, time: daysAgo(3), data: {type: 'DrillCompleted', occurredAt: daysAgo(3), data: {passed: false}}},
        {subject: 'cim.ops.drill.d3.passed', seq: 4, time: daysAgo(1), data: undefined},
        {subject: 'cim.ops.audit.drill', seq: 5, time: daysAgo(1), data: {}},
      ],
      NOW,
    )
    expect(drills).toEqual([
      {id: 'd1', time: daysAgo(40), ageSeconds: 40 * 86400, passed: true},
      {id: 'd2', time: daysAgo(3), ageSeconds: 3 * 86400, passed: false},
      {id: 'd3', time: daysAgo(1), ageSeconds: 86400, passed: true},
    ])
  })
})

describe('fleetNodes', () => {
  it('state, reason and the published health; stale health is UNKNOWN', () => {
    const health = (status: 'OK' | 'CRITICAL', stale: boolean) => ({status, summary: '', checkedAt: '', ageSeconds: 0, stale})
    expect(
      fleetNodes({
        nodes: [
          {node: 'gpu-01', state: 'active', recorded: true, allocations: [], health: health('OK', false)},
          {node: 'gpu-02', state: 'draining', recorded: true, reason: 'Xid 79', since: daysAgo(0.1), allocations: [], health: health('CRITICAL', true)},
        ],
      }),
    ).toEqual([
      {node: 'gpu-01', state: 'active', health: 'OK'},
      {node: 'gpu-02', state: 'draining', reason: 'Xid 79', since: daysAgo(0.1), health: 'UNKNOWN'},
    ])
  })
})
