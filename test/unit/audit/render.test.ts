import {describe, expect, it} from 'vitest'

import type {AuditListResult} from '../../../src/lib/audit/list.js'
import {renderAuditList} from '../../../src/lib/audit/render.js'
import {createStyle} from '../../../src/lib/core/output/style.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})
const squeezed = (text: string) => text.replaceAll(/\s+/g, '')
const LONG = 'workflow-analytics-projection-eu-west-1'

describe.each(WIDTHS)('tables at %d columns: the house rules (core/output/table.ts) with long real names', (width) => {
  it('audit list: time and command whole, arguments wrapped', () => {
    const at = (s: number) => `2026-12-05T02:${String(s).padStart(2, '0')}:00.000Z`
    const events = [
      {id: '1', type: 'OperatorActionRecorded', command: 'alerts silence add', actor: {user: 'alice.johnson', host: 'ops-eu-west-1.internal'}, at: at(10), args: ['alerts', 'silence', 'add', `consumer=${LONG}`, 'domain=workflow', '--duration', '2h', '--comment', 'deploy of the analytics service, see INC-20261205-0207-a1'], outcome: 'success', exitCode: 0, durationSeconds: 0.4, spooled: false},
      {id: '2', type: 'OperatorActionRecorded', command: 'restore', actor: {user: 'bob', host: 'ops-2'}, at: at(11), args: ['restore', '/var/backups/cim/2026-12-05T0200Z', '--stream', 'EVENTS', '--force'], outcome: 'failure', exitCode: 2, durationSeconds: 12.3, spooled: true},
    ] as AuditListResult['events']
    const result = {since: at(0), events, skipped: 0}
    const text = expectFits((w) => renderAuditList(result, new Date(at(0)), {style, width: w}), width, [['2026-12-05 02:10:00Z', 'alerts silence add'], ['2026-12-05 02:11:00Z', 'restore']])
    expect(squeezed(text)).toContain(squeezed('deploy of the analytics service, see INC-20261205-0207-a1'))
    expect(text).not.toContain('…')
  })
})
