/** `context list` for people; --json returns the result itself. */
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import type {ContextListResult} from './service.js'

/** The context's name is the key; its addresses wrap rather than lose their port. */
export function renderContextList(result: ContextListResult, {style, width}: {style: Style; width?: number}): string {
  if (result.contexts.length === 0) return `No contexts in ${result.file}. Add one with \`cimops context add NAME --nats-url nats://host:4222\`, or start a local sandbox with \`cimops sandbox up\`.`
  return renderTable(
    result.contexts,
    [
      {header: '', get: (c) => (c.current ? '*' : '')},
      {header: 'NAME', get: (c) => c.name, key: true, paint: (t, c) => (c.current ? style.bold(t) : t)},
      {header: 'NATS', get: (c) => c.nats, wrap: true, giveWay: 1},
      {header: 'PROMETHEUS', get: (c) => c.prometheus ?? '(default)', wrap: true, giveWay: 1},
      {header: 'ALERTMANAGER', get: (c) => c.alertmanager ?? '(default)', wrap: true, giveWay: 1},
    ],
    {width, paintHeader: style.dim},
  )
}
