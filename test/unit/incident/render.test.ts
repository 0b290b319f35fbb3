import {describe, expect, it} from 'vitest'

import {createStyle} from '../../../src/lib/core/output/style.js'
import {renderIncident, renderList as renderIncidentList} from '../../../src/lib/incident/render.js'
import type {IncidentSummary, IncidentView} from '../../../src/lib/incident/service.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})
const squeezed = (text: string) => text.replaceAll(/\s+/g, '')
const lastColumn = (text: string, header: string) => {
  const start = text.split('\n')[0].indexOf(header)
  return squeezed(text.split('\n').map((line) => line.slice(start)).join(''))
}
const LONG = 'workflow-analytics-projection-eu-west-1'
const TITLE = 'Graph projection stalled after the 02:00 deploy, workflow lag over 900s'
const incidents: IncidentSummary[] = [
  {id: 'INC-20261205-0207-a1', title: TITLE, severity: 'critical', status: 'open', commander: 'alice.johnson@ops-eu-west-1', declaredAt: '2026-12-05T02:07:00.000Z', declaredBy: {user: 'alice', host: 'ops-1'}, durationSeconds: 5400, notifications: {alertmanager: {action: 'trigger', outcome: 'sent', at: '2026-12-05T02:07:01.000Z', attempts: 1}, slack: {action: 'trigger', outcome: 'failed', at: '2026-12-05T02:07:02.000Z', attempts: 3, error: 'slack webhook answered 500 Internal Server Error three times'}}},
  {id: 'INC-20261205-0207-b2', title: `${TITLE} (eu-west-2)`, severity: 'major', status: 'resolved', declaredAt: '2026-12-05T02:07:30.000Z', declaredBy: {user: 'bob', host: 'ops-2'}, resolvedAt: '2026-12-05T03:00:00.000Z', durationSeconds: 3150, notifications: {}},
]

describe.each(WIDTHS)('tables at %d columns: the house rules (core/output/table.ts) with long real names', (width) => {
  it('incident list: ids whole, the 70-character title wrapped, never cut', () => {
    const text = expectFits((w) => renderIncidentList(incidents, 'all', {style, width: w}), width, incidents.map((i) => [i.id]))
    expect(text).not.toContain('…')
    // In its column where it can be read there, else on a detail line under its incident.
    expect(text.split('\n')[0].includes('TITLE') ? lastColumn(text, 'TITLE') : squeezed(text)).toContain(squeezed(TITLE))
  })
  it('incident show: notifications and timeline keep their keys', () => {
    const view = {
      ...incidents[0],
      summary: 'workflow-analytics stopped acking',
      timeline: [
        {at: '2026-12-05T02:07:00.000Z', by: 'alice@ops-1', type: 'IncidentDeclared', text: TITLE},
        {at: '2026-12-05T02:15:00.000Z', by: 'alice@ops-1', type: 'IncidentNoteAdded', text: `restarted ${LONG}; lag falling at 40 events/s, expected caught up by 02:40 if the rate holds`},
      ],
    } as unknown as IncidentView
    const text = expectFits((w) => renderIncident(view, {style, width: w}), width, [['alertmanager'], ['slack'], ['2026-12-05 02:07:00Z'], ['2026-12-05 02:15:00Z']])
    expect(squeezed(text)).toContain('threetimes')
  })
})
