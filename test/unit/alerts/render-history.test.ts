import {describe, expect, it} from 'vitest'

import {renderAlertHistory} from '../../../src/lib/alerts/render-history.js'
import {createStyle} from '../../../src/lib/core/output/style.js'
import {expectFits, WIDTHS} from '../core/output/fits.js'

const style = createStyle({noColor: true})
const squeezed = (text: string) => text.replaceAll(/\s+/g, '')
const LONG = 'workflow-analytics-projection-eu-west-1'

describe.each(WIDTHS)('tables at %d columns: the house rules (core/output/table.ts) with long real names', (width) => {
  it('alerts history: two alerts of one name told apart by their labels, wrapped', () => {
    const labels = (region: string) => ({severity: 'critical', domain: 'workflow', consumer: LONG, stream: 'EVENTS', region, cluster: `nats-${region}`, team: 'cim-platform', instance: 'monitor-1.internal:9091'})
    const episodes = [
      {alertname: 'HighEventProcessingLag', labels: labels('eu-west-1'), from: '2026-12-05T02:00:00.000Z', to: null, stillFiring: true, durationSeconds: 3600},
      {alertname: 'HighEventProcessingLag', labels: labels('eu-west-2'), from: '2026-12-05T02:00:00.000Z', to: '2026-12-05T02:30:00.000Z', stillFiring: false, durationSeconds: 1800},
    ]
    const result = {from: '2026-12-04T15:00:00.000Z', to: '2026-12-05T03:00:00.000Z', stepSeconds: 15, query: 'ALERTS', episodes, warnings: [], infos: []}
    const text = expectFits((w) => renderAlertHistory(result, 'the last 12h', {style, width: w}), width, episodes.map((e) => [e.alertname]))
    expect(text).not.toContain('…')
    expect(squeezed(text)).toContain('region=eu-west-1')
    expect(squeezed(text)).toContain('region=eu-west-2')
  })
})
