import {describe, expect, it} from 'vitest'

import {incidentEvent, parseIncidentEvent} from '../../../src/lib/incident/events.js'
import {foldIncident, foldIncidents, incidentDurationSeconds} from '../../../src/lib/incident/fold.js'
import {formatIncidentId, incidentDay, incidentSubject, normalizeIncidentId} from '../../../src/lib/incident/model.js'

const alice = {user: 'alice', host: 'ops1'}
const bob = {user: 'bob', host: 'ops2'}
const at = (minute: number) => new Date(Date.UTC(2026, 10, 22, 3, minute))
const ID = 'INC-20261122-1'

function story() {
  return [
    incidentEvent('IncidentDeclared', ID, alice, {title: 'Orders lag', severity: 'major', summary: 'lag 4m', commander: 'alice'}, at(0)),
    incidentEvent('IncidentNotificationFailed', ID, alice, {channel: 'pagerduty', action: 'trigger', attempts: 4, error: 'HTTP 500'}, at(0)),
    incidentEvent('IncidentNotificationSent', ID, alice, {channel: 'alertmanager', action: 'trigger', attempts: 1}, at(0)),
    incidentEvent('IncidentNoteAdded', ID, bob, {text: 'rolled back'}, at(5)),
    incidentEvent('IncidentSeverityChanged', ID, bob, {from: 'major', to: 'critical'}, at(6)),
    incidentEvent('IncidentCommanderAssigned', ID, bob, {commander: 'bob', previous: 'alice'}, at(7)),
    incidentEvent('IncidentNotificationSent', ID, bob, {channel: 'pagerduty', action: 'trigger', attempts: 2}, at(8)),
    incidentEvent('IncidentResolved', ID, bob, {note: 'caught up'}, at(30)),
  ]
}

describe('incident fold', () => {
  it('folds declared, notes, severity, commander, notifications and resolution into the incident', () => {
    const incident = foldIncident(story())!
    expect(incident).toMatchObject({
      id: ID,
      title: 'Orders lag',
      summary: 'lag 4m',
      severity: 'critical',
      severities: ['major', 'critical'],
      commander: 'bob',
      status: 'resolved',
      declaredAt: at(0).toISOString(),
      declaredBy: alice,
      resolvedAt: at(30).toISOString(),
      resolvedBy: bob,
      resolution: 'caught up',
      updatedAt: at(30).toISOString(),
      notes: [{at: at(5).toISOString(), by: bob, text: 'rolled back'}],
      notifications: {
        alertmanager: {action: 'trigger', outcome: 'sent', attempts: 1},
        pagerduty: {action: 'trigger', outcome: 'sent', attempts: 2},
      },
    })
    expect(incident.timeline.map((e) => [e.type, e.by])).toEqual([
      ['IncidentDeclared', 'alice@ops1'],
      ['IncidentNotificationFailed', 'alice@ops1'],
      ['IncidentNotificationSent', 'alice@ops1'],
      ['IncidentNoteAdded', 'bob@ops2'],
      ['IncidentSeverityChanged', 'bob@ops2'],
      ['IncidentCommanderAssigned', 'bob@ops2'],
      ['IncidentNotificationSent', 'bob@ops2'],
      ['IncidentResolved', 'bob@ops2'],
    ])
    expect(incident.timeline[1].text).toBe('pagerduty trigger FAILED after 4 attempts: HTTP 500')
    expect(incidentDurationSeconds(incident, at(59))).toBe(30 * 60)
  })

  it('is pure: the same events give the same incident, and folding a prefix gives the state at that point', () => {
    const events = story()
    expect(foldIncident(events)).toEqual(foldIncident(events))
    const open = foldIncident(events.slice(0, 4))!
    expect(open.status).toBe('open')
    expect(open.severity).toBe('major')
    expect(open.notifications.pagerduty).toMatchObject({outcome: 'failed', error: 'HTTP 500'})
    expect(incidentDurationSeconds(open, at(10))).toBe(600)
  })

  it('ignores events before the declaration, a second declaration and a second resolution', () => {
    const [declared, ...rest] = story()
    expect(foldIncident(rest)).toBeUndefined()
    const again = incidentEvent('IncidentDeclared', ID, bob, {title: 'other', severity: 'minor'}, at(1))
    const twiceResolved = incidentEvent('IncidentResolved', ID, alice, {note: 'late'}, at(40))
    const incident = foldIncident([declared, again, ...rest, twiceResolved])!
    expect(incident.title).toBe('Orders lag')
    expect(incident.resolution).toBe('caught up')
    expect(incident.resolvedBy).toEqual(bob)
  })

  it('groups events of several incidents, in order of declaration', () => {
    const other = 'INC-20261122-2'
    const events = [
      incidentEvent('IncidentDeclared', ID, alice, {title: 'one', severity: 'minor'}, at(0)),
      incidentEvent('IncidentDeclared', other, bob, {title: 'two', severity: 'critical'}, at(1)),
      incidentEvent('IncidentResolved', ID, alice, {}, at(2)),
      incidentEvent('IncidentNoteAdded', 'INC-20261122-9', alice, {text: 'orphan'}, at(3)),
    ]
    expect(foldIncidents(events).map((i) => [i.id, i.status])).toEqual([
      [ID, 'resolved'],
      [other, 'open'],
    ])
  })
})

describe('incident events', () => {
  it('use the CIM envelope and read back only from their own subject', () => {
    const event = incidentEvent('IncidentNoteAdded', ID, alice, {text: 'hello'}, at(0))
    expect(event).toMatchObject({type: 'IncidentNoteAdded', domain: 'ops', aggregateType: 'incident', aggregateId: ID, occurredAt: at(0).toISOString(), actor: alice})
    expect(event.id).toMatch(/^[\da-f-]{36}$/)
    const body = JSON.parse(JSON.stringify(event)) as unknown
    expect(parseIncidentEvent(incidentSubject(ID, 'IncidentNoteAdded'), body)).toEqual(event)
    expect(parseIncidentEvent(incidentSubject('INC-20261122-2', 'IncidentNoteAdded'), body)).toBeUndefined()
    expect(parseIncidentEvent(incidentSubject(ID, 'IncidentNoteAdded'), {...event, data: {text: 42}})).toBeUndefined()
    expect(parseIncidentEvent(incidentSubject(ID, 'IncidentNoteAdded'), 'not json')).toBeUndefined()
  })

  it('never carry secrets', () => {
    const event = incidentEvent('IncidentNotificationFailed', ID, alice, {channel: 'slack', action: 'trigger', attempts: 1, error: 'POST https://hooks.slack.com/services/T0/B0/XXXXSECRET failed'}, at(0))
    expect(JSON.stringify(event)).not.toContain('XXXXSECRET')
  })
})

describe('incident ids', () => {
  it('are INC-YYYYMMDD-N in UTC, and typed ids are normalised', () => {
    expect(incidentDay(new Date('2026-11-22T23:59:59Z'))).toBe('20261122')
    expect(formatIncidentId('20261122', 7)).toBe('INC-20261122-7')
    expect(normalizeIncidentId(' inc-20261122-12 ')).toBe('INC-20261122-12')
    for (const bad of ['INC-2026112-1', 'INC-20261122-0', 'INC-20261122', '20261122-1', 'INC-20261122-1.>']) expect(normalizeIncidentId(bad), bad).toBeUndefined()
  })
})
