import {describe, expect, it} from 'vitest'

import {toAlertView, type AlertView} from '../../../src/lib/alerts/model.js'
import {mergeAlerts} from '../../../src/lib/fleet/alerts.js'

const alert = (labels: Record<string, string>, fingerprint: string, startsAt = '2026-01-01T00:00:00Z'): AlertView =>
  toAlertView({fingerprint, labels, annotations: {}, startsAt, endsAt: startsAt, updatedAt: startsAt, receivers: [], status: {state: 'active', silencedBy: [], inhibitedBy: []}})

describe('mergeAlerts', () => {
  it('the same labels in several Alertmanagers are one alert naming every site, whatever the label order', () => {
    const merged = mergeAlerts([
      {context: 'east', alerts: [alert({alertname: 'Lag', severity: 'warning', domain: 'graph'}, 'e1'), alert({alertname: 'Down', severity: 'critical'}, 'e2')]},
      {context: 'west', alerts: [alert({domain: 'graph', severity: 'warning', alertname: 'Lag'}, 'w1')]},
    ])
    expect(merged.map((a) => [a.alertname, a.contexts])).toEqual([
      ['Down', ['east']],
      ['Lag', ['east', 'west']],
    ])
  })

  it('alerts that differ in one label stay apart', () => {
    const merged = mergeAlerts([
      {context: 'east', alerts: [alert({alertname: 'Lag', domain: 'graph'}, 'e1')]},
      {context: 'west', alerts: [alert({alertname: 'Lag', domain: 'workflow'}, 'w1')]},
    ])
    expect(merged.map((a) => a.contexts)).toEqual([['east'], ['west']])
  })
})
