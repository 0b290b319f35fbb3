import {describe, expect, it} from 'vitest'

import type {BackupResult} from '../../../src/lib/backup/create.js'
import type {BackupSetSummary} from '../../../src/lib/backup/list.js'
import {renderBackup, renderSets} from '../../../src/lib/backup/render.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'
import {createStyle} from '../../../src/lib/core/output/style.js'

const result: BackupResult = {
  set: '/backups/20261205T120000Z',
  mode: 'snapshot',
  serverVersion: '2.12.1',
  createdAt: '2026-12-05T12:00:00.000Z',
  completedAt: '2026-12-05T12:00:02.000Z',
  durationSeconds: 2,
  messages: 437,
  size: 222_000,
  streams: [{name: 'EVENTS', messages: 437, firstSeq: 1, lastSeq: 437, firstTime: '2026-12-05T11:00:00Z', lastTime: '2026-12-05T11:59:00Z', consumers: [], size: 222_000, durationSeconds: 2, writesDuringBackup: false}],
  unlisted: [],
}

describe('renderBackup', () => {
  it('names each stream --all could not take, with the server\'s reason, after the table', () => {
    const text = renderBackup({...result, unlisted: [{name: 'ORDERS', state: 'offline', reason: 'stream is offline: peers unavailable'}]}, createStyle({noColor: true}))
    expect(text.split('\n').at(-1)).toBe('Not in this set: ORDERS, offline on the server (stream is offline: peers unavailable)')
  })

  it('says nothing of unlisted streams when there are none', () => {
    expect(renderBackup(result, createStyle({noColor: true}))).not.toContain('Not in this set')
  })
})

describe('backup tables fit by the house rules', () => {
  it.each(WIDTHS)('at %d columns: stream and set names whole', (width) => {
    const style = createStyle({noColor: true})
    const streams = ['workflow-analytics-projection-eu-west-1', 'workflow-analytics-projection-eu-west-2'].map((name) => ({...result.streams[0], name}))
    expectFits((w) => renderBackup({...result, streams}, style, w), width, streams.map((s) => [s.name]))
    const sets = ['20261205T120000Z-eu-west-1', '20261205T120000Z-eu-west-2'].map((name) => ({name, path: `/backups/${name}`, time: '2026-12-05T12:00:00.000Z', ageSeconds: 3600, mode: 'snapshot', source: 'cimops', streams: streams.map((s) => s.name), messages: 437, size: 222_000, complete: true, status: 'verified'}))
    const text = expectFits((w) => renderSets(sets as unknown as BackupSetSummary[], '/backups', style, w), width, sets.map((s) => [s.name]))
    expect(text.replaceAll(/\s+/g, '')).toContain('workflow-analytics-projection-eu-west-2')
  })
})
