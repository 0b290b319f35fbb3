/** `alerts history` for people: one row per firing episode; --json returns the result itself. */
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import {plural} from '../core/output/units.js'
import {humanSeconds, keyLabels, type AlertHistoryResult} from './model.js'
import {localTime, paintSeverity} from './render.js'

/**
 * An episode is known by its alert and when it began; the labels tell two alerts of one name apart, so
 * they wrap rather than lose their end. `window` names the span asked for (`the last 12h`).
 */
export function renderAlertHistory(result: AlertHistoryResult, window: string, {style, width}: {style: Style; width?: number}): string {
  if (result.episodes.length === 0) return `Nothing fired in ${window}.`
  const now = Date.parse(result.to)
  const table = renderTable(
    result.episodes,
    [
      {header: 'FROM', get: (e) => localTime(e.from, now), key: true},
      {header: 'TO', get: (e) => (e.to ? localTime(e.to, now) : 'still firing'), paint: (text, e) => (e.stillFiring ? style.status('CRITICAL', text) : text)},
      {header: 'DURATION', get: (e) => humanSeconds(e.durationSeconds), align: 'right'},
      {header: 'SEVERITY', get: (e) => e.labels.severity ?? '-', paint: (text, e) => paintSeverity(style, e.labels.severity ?? null, text)},
      {header: 'ALERTNAME', get: (e) => e.alertname, key: true, paint: (text) => style.bold(text)},
      {header: 'LABELS', get: (e) => keyLabels(e.labels) || '-', wrap: true, giveWay: 1},
    ],
    {width, paintHeader: style.dim},
  )
  const alerts = new Set(result.episodes.map((e) => `${e.alertname}${JSON.stringify(e.labels)}`)).size
  const firing = result.episodes.filter((e) => e.stillFiring).length
  return `${table}\n${style.dim(`\n${plural(result.episodes.length, 'episode')} of ${plural(alerts, 'alert')} in ${window} (step ${humanSeconds(result.stepSeconds)}); ${firing} still firing`)}`
}
