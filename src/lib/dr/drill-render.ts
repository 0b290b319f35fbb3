import type {Style} from '../core/output/style.js'
import {formatSeconds} from '../core/output/units.js'
import type {FailoverDrillResult} from './drill.js'

/** One line per figure, then the checks; a lag-only drill says so first. */
export function renderFailoverDrill(result: FailoverDrillResult, style: Style): string {
  const verdict = result.passed ? 'PASS' : 'FAIL'
  const lines = [
    style.status(result.passed ? 'OK' : 'CRITICAL', `Failover drill ${result.id}: ${verdict}`),
    result.scope === 'lag-only' ? style.status('WARNING', `  scope:       ${result.scopeReason}`) : `  scope:       failover (${result.scopeReason})`,
    ...figureLines(result).map(([label, text]) => `  ${`${label}:`.padEnd(12)} ${text}`),
    'Checks:',
    ...result.checks.map((check) => `  ${check.ok ? style.status('OK', 'ok  ') : style.status('CRITICAL', 'FAIL')} ${check.name}: ${check.detail}`),
  ]
  if (result.error) lines.push(style.status('CRITICAL', `Failed: ${result.error}`))
  return lines.join('\n')
}

/** For the drill log: the same figures as a table. */
export function renderFailoverDrillMarkdown(result: FailoverDrillResult): string {
  const esc = (text: string) => text.replaceAll('|', '\\|')
  const verdict = result.passed ? 'PASS' : 'FAIL'
  const lines = [
    `# Failover drill ${result.id}: ${verdict}`,
    '',
    '| | |',
    '|---|---|',
    `| Result | **${verdict}** |`,
    `| Started | ${result.startedAt} |`,
    `| Scope | ${result.scope === 'lag-only' ? '**lag only**: ' : 'failover: '}${esc(result.scopeReason)} |`,
    ...figureLines(result).map(([label, text]) => `| ${label} | ${esc(text)} |`),
    '',
    '| Check | Result | Detail |',
    '|---|---|---|',
    ...result.checks.map((check) => `| ${check.name} | ${check.ok ? 'ok' : '**FAIL**'} | ${esc(check.detail)} |`),
  ]
  if (result.error) lines.push('', `**Failed:** ${esc(result.error)}`)
  return lines.join('\n')
}

function figureLines(result: FailoverDrillResult): Array<[string, string]> {
  const site = (s: FailoverDrillResult['primary']) => `${s.stream}${s.context ? ` at context ${s.context}` : ''} (nats-server ${s.serverVersion})`
  const {markers, rpo, rto, promotion, digest, restore} = result
  const rows: Array<[string, string]> = [
    ['Primary', site(result.primary)],
    ['DR copy', site(result.dr)],
    ['Markers', `${markers.published} published on ${markers.subject} at ${markers.ratePerSecond}/s; ${markers.copied} held by the copy`],
    ['RPO', rpo ? `max ${formatSeconds(rpo.maxSeconds)}, p50 ${formatSeconds(rpo.p50Seconds)} (ack at the primary to held by the copy; read every ${formatSeconds(rpo.pollSeconds)})` : 'not measured'],
  ]
  if (result.scope === 'lag-only') return [...rows, ['2.12+', result.needs212.join('; ')]]
  rows.push(['RTO', rto ? `${formatSeconds(rto.seconds)} (primary killed to the first write the DR site acknowledged)` : 'not measured'])
  if (promotion) rows.push(['Promotion', `${promotion.mode === 'update' ? `in place: ${promotion.promotedStream}` : `new stream ${promotion.promotedStream} (safest path)`}, ${formatSeconds(promotion.durationSeconds)}`])
  if (digest) {
    const compared = digest.promoted === undefined ? 'not compared' : digest.promoted === digest.origin && digest.promotedMessages === digest.messages ? 'identical after the promotion' : 'DIFFERENT after the promotion'
    rows.push(['Digest', `${digest.messages} events, sequences ${digest.fromSeq}-${digest.toSeq}: ${compared} (by ${digest.comparedBy}; sha256 ${digest.origin.slice(0, 12)})`])
  }
  if (result.writable) rows.push(['Writable', `${result.writable.subject} stored by ${result.writable.stream} at sequence ${result.writable.seq}`])
  if (restore) rows.push(['Restored', restore.done ? 'yes' : `NO: ${restore.error}`])
  rows.push(['2.12+', result.needs212.join('; ')])
  return rows
}
