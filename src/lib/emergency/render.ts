import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import {CONSUMER_PAUSE_MIN_VERSION} from './model.js'
import type {EmergencyResult} from './service.js'

export function renderEmergency(result: EmergencyResult, {style, width}: {style: Style; width?: number}): string {
  const scope = result.domain === null ? 'all domains' : `domain ${result.domain}`
  const stored = result.published ? ` (${result.published.stream} #${result.published.seq})` : ''
  const lines = [`${result.dryRun ? '[dry run] Would broadcast' : 'Broadcast'} ${result.subject} for ${scope}${stored}.`]
  if (result.notStored) lines.push(style.status('WARNING', `The broadcast went out but is not in the ops log: ${result.notStored}`))
  const stop = result.action === 'stop'
  if (result.broadcastOnly) {
    lines.push(style.status('WARNING', `Only the broadcast was possible: nats-server ${result.serverVersion} cannot ${stop ? 'pause' : 'resume'} consumers (needs ${CONSUMER_PAUSE_MIN_VERSION}+).`))
    if (stop && result.consumers.length > 0) {
      lines.push(`${result.consumers.length === 1 ? 'This durable consumer keeps' : `These ${result.consumers.length} durable consumers keep`} receiving; their services must honour ${result.subject}:`)
    }
  } else if (result.consumers.length === 0) {
    lines.push(stop ? `No durable consumers of ${scope} to pause.` : `No consumers of ${scope} paused by an emergency stop to resume.`)
  }
  if (result.consumers.length > 0) {
    lines.push(
      renderTable(
        result.consumers,
        [
          {header: 'STREAM', get: (c) => c.stream, key: true},
          {header: 'CONSUMER', get: (c) => c.name, key: true},
          {
            header: 'OUTCOME',
            get: (c) => c.outcome,
            paint: (text, c) => (c.outcome === 'failed' ? style.status('CRITICAL', text) : c.outcome === 'not-paused' || c.outcome === 'left-paused' ? style.status('WARNING', text) : style.status('OK', text)),
          },
          {header: 'UNTIL / ERROR', get: (c) => c.error ?? c.pauseUntil ?? '', wrap: true, giveWay: 1},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  return lines.join('\n')
}
