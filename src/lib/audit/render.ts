/** `audit list` for people: one row per operator action; --json returns the result itself. */
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import {formatSeconds, plural} from '../core/output/units.js'
import type {AuditListResult} from './list.js'

const OUTCOME_STATUS = {success: 'OK', failure: 'CRITICAL', interrupted: 'WARNING'} as const

/** An action is known by when it ran and which command it was; its arguments wrap, never cut. */
export function renderAuditList(result: AuditListResult, since: Date, {style, width}: {style: Style; width?: number}): string {
  if (result.events.length === 0) return `No operator actions recorded since ${since.toISOString()}.`
  const table = renderTable(
    result.events,
    [
      {header: 'TIME', get: (e) => e.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), key: true},
      {header: 'ACTOR', get: (e) => `${e.actor.user}@${e.actor.host}`, wrap: true, giveWay: 1},
      {header: 'COMMAND', get: (e) => e.command, key: true},
      {header: 'OUTCOME', get: (e) => `${e.outcome}${e.exitCode ? ` (${e.exitCode})` : ''}${e.spooled ? ', spooled' : ''}`, paint: (t, e) => style.status(OUTCOME_STATUS[e.outcome], t)},
      {header: 'TOOK', get: (e) => formatSeconds(e.durationSeconds), align: 'right'},
      {header: 'ARGS', get: (e) => e.args.join(' '), wrap: true, giveWay: 1},
    ],
    {width, paintHeader: style.dim},
  )
  return `${table}\n\n${plural(result.events.length, 'operator action')} since ${since.toISOString()}`
}
