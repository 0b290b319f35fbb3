/** Text views of a replay for people; --json returns the result itself. */
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'

/** A dry run's selection counted by one key (`DOMAIN`, `EVENT TYPE`): most first, then by name. */
export function renderCounts(title: string, counts: Record<string, number>, {style, width}: {style: Style; width?: number}): string {
  return renderTable(
    Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    [
      {header: title, get: (r) => r[0], key: true},
      {header: 'EVENTS', get: (r) => String(r[1]), align: 'right'},
    ],
    {width, paintHeader: style.dim},
  )
}
