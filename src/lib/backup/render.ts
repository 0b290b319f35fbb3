/** Text and Markdown for the backup, restore and drill commands (JSON is the typed result itself). */
import {formatDuration} from '../core/duration.js'
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import {formatBytes, formatSeconds, plural} from '../core/output/units.js'
import type {BackupResult} from './create.js'
import type {DrillResult} from './drill.js'
import type {BackupSetSummary} from './list.js'
import type {RestorePlanItem, RestoreResult} from './restore.js'
import type {VerifyResult} from './verify.js'

const count = (n: number) => n.toLocaleString('en-US')
const seqRange = (first: number, last: number, messages: number) => (messages === 0 ? '-' : `${first}-${last}`)

export function renderBackup(result: BackupResult, style: Style, width?: number): string {
  const table = renderTable(
    result.streams,
    [
      {header: 'STREAM', get: (s) => s.name, key: true},
      {header: 'MESSAGES', get: (s) => count(s.messages), align: 'right'},
      {header: 'SEQUENCES', get: (s) => seqRange(s.firstSeq, s.lastSeq, s.messages) + (s.writesDuringBackup ? '+' : '')},
      {header: 'NEWEST', get: (s) => s.lastTime?.replace(/\.\d+Z$/, 'Z') ?? '-'},
      {header: 'SIZE', get: (s) => formatBytes(s.size), align: 'right'},
      {header: 'CONSUMERS', get: (s) => String(s.consumers.length), align: 'right'},
      {header: 'TIME', get: (s) => formatSeconds(s.durationSeconds), align: 'right'},
    ],
    {width, paintHeader: style.bold},
  )
  const summary = `${style.status('OK', 'Backup complete')}: ${plural(result.streams.length, 'stream')}, ${plural(result.messages, 'message')}, ${formatBytes(result.size)} in ${formatSeconds(result.durationSeconds)} (${result.mode}, nats-server ${result.serverVersion})`
  const notes = result.streams.some((s) => s.writesDuringBackup) ? `\n${style.dim('+ messages kept arriving during the backup; the archive may hold a few after the last sequence shown')}` : ''
  const unlisted = result.unlisted.map((entry) => `\n${style.status('WARNING', `Not in this set: ${entry.name}`)}, ${entry.state} on the server (${entry.reason})`).join('')
  return `${summary}\n${result.set}\n\n${table}${notes}${unlisted}`
}

export function renderSets(sets: BackupSetSummary[], root: string, style: Style, width?: number): string {
  if (sets.length === 0) return `No backup sets in ${root}.`
  const table = renderTable(
    sets,
    [
      {header: 'SET', get: (s) => s.name, key: true},
      {header: 'TIME', get: (s) => s.time.replace(/\.\d+Z$/, 'Z')},
      {header: 'AGE', get: (s) => (s.ageSeconds < 1 ? '0s' : formatDuration(s.ageSeconds * 1000)), align: 'right'},
      {header: 'MODE', get: (s) => (s.source === 'natscli' ? 'natscli' : (s.mode ?? '?'))},
      {header: 'STREAMS', get: (s) => (s.streams.length > 0 ? s.streams.join(', ') : '-'), wrap: true, giveWay: 1},
      {header: 'MESSAGES', get: (s) => (s.messages === undefined ? '-' : count(s.messages)), align: 'right'},
      {header: 'SIZE', get: (s) => formatBytes(s.size), align: 'right'},
      {header: 'STATUS', get: (s) => (s.complete ? s.status : s.status.toUpperCase()), paint: (text, s) => style.status(s.status === 'verified' ? 'OK' : s.complete ? 'WARNING' : 'CRITICAL', text)},
    ],
    {width, paintHeader: style.bold},
  )
  const notes: string[] = []
  const broken = sets.filter((s) => !s.complete)
  for (const set of broken.filter((s) => s.status === 'corrupt')) notes.push(`${set.name}: ${set.problem}`)
  if (broken.length > 0) notes.push(`${plural(broken.length, 'corrupt or incomplete set')}: never restore from ${broken.length > 1 ? 'them' : 'it'}; remove when no longer needed.`)
  const unverified = sets.filter((s) => s.status === 'unverified')
  if (unverified.length > 0) notes.push(`${plural(unverified.length, 'set')} not verified since written or changed: \`cimops backup verify SET\` checks every checksum.`)
  const note = notes.length > 0 ? `\n\n${style.dim(notes.join('\n'))}` : ''
  return `${style.dim(root)}\n${table}${note}`
}

export function renderVerify(result: VerifyResult, style: Style, width?: number): string {
  const rows = result.streams.flatMap((stream) => [
    ...stream.files.map((file) => ({
      stream: stream.name,
      what: file.path,
      ok: file.ok,
      detail: file.ok ? `${formatBytes(file.size ?? 0)}, ${result.source === 'natscli' ? 'structure ok (no checksum: natscli backup)' : 'sha256 ok'}` : (file.problem ?? ''),
    })),
    ...(stream.content ? [{stream: stream.name, what: 'content', ok: stream.content.digestOk && stream.content.messages === stream.messages, detail: `${count(stream.content.messages)} messages, digest ${stream.content.digestOk ? 'ok' : 'differs'}`}] : []),
    ...(stream.restore
      ? [
          {
            stream: stream.name,
            what: result.restoreServerVersion ? `restore into nats-server ${result.restoreServerVersion} (--deep)` : 'restore (--deep)',
            ok: stream.restore.ok,
            detail: stream.restore.checks.map((c) => `${c.name} ${c.ok ? c.actual : `${c.actual} (expected ${c.expected})`}`).join('; ') + ` in ${formatSeconds(stream.restore.durationSeconds)}`,
          },
        ]
      : []),
  ])
  const table = renderTable(
    rows,
    [
      {header: 'STREAM', get: (r) => r.stream, key: true},
      {header: 'CHECK', get: (r) => r.what, key: true},
      {header: 'RESULT', get: (r) => (r.ok ? 'ok' : 'FAIL'), paint: (text, r) => style.status(r.ok ? 'OK' : 'CRITICAL', text)},
      {header: 'DETAIL', get: (r) => r.detail, wrap: true, giveWay: 1},
    ],
    {width, paintHeader: style.bold},
  )
  const verdict = result.ok
    ? style.status('OK', `Backup set intact${result.deep ? ' and restorable' : ''}`)
    : style.status('CRITICAL', `Backup set corrupt: ${plural(result.problems.length, 'problem')}`)
  const origin = result.source === 'natscli' ? 'natscli backup without a manifest' : `${result.mode}, ${result.createdAt}`
  const warnings = result.warnings.map((warning) => `\n${style.status('WARNING', 'warning')}: ${warning}`).join('')
  return `${verdict}: ${result.set} (${origin})\n\n${table}${warnings ? `\n${warnings}` : ''}`
}

export function renderRestorePlan(result: RestoreResult, style: Style, width?: number): string {
  const table = renderTable(
    result.plan,
    [
      {header: 'STREAM', get: (p) => p.stream, key: true},
      {header: 'TARGET', get: (p) => p.target, key: true},
      {
        header: 'ACTION',
        wrap: true,
        giveWay: 1,
        get: (p) =>
          p.action === 'create'
            ? 'create'
            : p.action === 'resume'
              ? `resume (unfinished restore, ${count(p.existingMessages ?? 0)} messages in)`
              : result.force
                ? `replace (delete ${count(p.existingMessages ?? 0)} messages first)`
                : `REFUSED: exists with ${count(p.existingMessages ?? 0)} messages (--force replaces it)`,
      },
      {header: 'MESSAGES', get: (p) => count(p.messages), align: 'right'},
      {header: 'SIZE', get: (p) => formatBytes(p.size), align: 'right'},
      {header: 'REPLICAS', get: (p) => String(p.replicas), align: 'right'},
    ],
    {width, paintHeader: style.bold},
  )
  const verdict = result.ok ? '' : `\n\n${style.status('CRITICAL', 'The restore would be refused')}: existing streams are only replaced with --force.`
  return `${style.bold('Dry run')}: nothing changed. Restoring ${result.set} (${result.mode}) into nats-server ${result.serverVersion} would do:\n\n${table}${restoreNotes(result.plan)}${verdict}`
}

export function renderRestore(result: RestoreResult, style: Style, width?: number): string {
  const rows = result.streams.flatMap((stream) => stream.checks.map((check) => ({stream, check})))
  const table = renderTable(
    rows,
    [
      {header: 'STREAM', get: (r) => (r.stream.target === r.stream.stream ? r.stream.target : `${r.stream.stream} -> ${r.stream.target}`), key: true},
      {header: 'CHECK', get: (r) => r.check.name, key: true},
      {header: 'MANIFEST', get: (r) => short(r.check.expected), wrap: true, giveWay: 1},
      {header: 'RESTORED', get: (r) => short(r.check.actual), wrap: true, giveWay: 1},
      {header: 'RESULT', get: (r) => (r.check.ok ? 'ok' : 'MISMATCH'), paint: (text, r) => style.status(r.check.ok ? 'OK' : 'CRITICAL', text)},
    ],
    {width, paintHeader: style.bold},
  )
  const messages = result.streams.reduce((sum, s) => sum + s.messages, 0)
  const verdict = result.ok
    ? style.status('OK', 'Restored')
    : style.status('CRITICAL', 'Restored, but the streams differ from the backup')
  const origin = result.source === 'natscli' ? ', a natscli backup (no checksums to verify)' : ''
  return `${verdict}: ${plural(result.streams.length, 'stream')}, ${plural(messages, 'message')} from ${result.set}${origin} in ${formatSeconds(result.durationSeconds)} (nats-server ${result.serverVersion})\n\n${table}${restoreNotes(result.streams)}`
}

/** What a restore does not bring back as it was, one line per stream and caveat. */
function restoreNotes(items: RestorePlanItem[]): string {
  const lines = items.flatMap((item) => item.notes.map((note) => `Note: ${item.target}: ${note}.`))
  return lines.length > 0 ? `\n\n${lines.join('\n')}` : ''
}

export function renderDrill(result: DrillResult, style: Style, width?: number): string {
  const rows = result.streams.flatMap((stream) => stream.checks.map((check) => ({stream: stream.name, check})))
  const table = renderTable(
    rows,
    [
      {header: 'STREAM', get: (r) => r.stream, key: true},
      {header: 'CHECK', get: (r) => r.check.name, key: true},
      {header: 'SOURCE', get: (r) => short(r.check.source), wrap: true, giveWay: 1},
      {header: 'RESTORED', get: (r) => short(r.check.restored), wrap: true, giveWay: 1},
      {header: 'RESULT', get: (r) => (r.check.ok ? 'ok' : 'FAIL'), paint: (text, r) => style.status(r.check.ok ? 'OK' : 'CRITICAL', text)},
    ],
    {width, paintHeader: style.bold},
  )
  const verdict = result.passed ? style.status('OK', 'PASS') : style.status('CRITICAL', 'FAIL')
  const lines = [
    `DR drill ${result.id}: ${verdict}`,
    `  backup   ${formatSeconds(result.backup.durationSeconds)} (${result.mode}, ${plural(result.backup.messages, 'message')}, ${formatBytes(result.backup.size)})`,
    `  restore  ${formatSeconds(result.restore.durationSeconds)} = RTO, into ${targetText(result)}`,
    `  RPO      ${result.rpoSeconds === undefined ? '- (no messages)' : `${formatSeconds(result.rpoSeconds)} (newest message ${result.newestMessageTime})`}`,
    '',
    table,
    ...differenceLines(result),
  ]
  return lines.join('\n')
}

export function renderDrillMarkdown(result: DrillResult): string {
  const esc = (text: string) => text.replaceAll('|', '\\|')
  const lines = [
    `# DR drill ${result.id}: ${result.passed ? 'PASS' : 'FAIL'}`,
    '',
    '| | |',
    '|---|---|',
    `| Result | **${result.passed ? 'PASS' : 'FAIL'}** |`,
    `| Started | ${result.startedAt} |`,
    `| Streams | ${result.streams.map((s) => s.name).join(', ')} |`,
    `| Backup | ${formatSeconds(result.backup.durationSeconds)}, ${result.mode}, ${count(result.backup.messages)} messages, ${formatBytes(result.backup.size)} |`,
    `| Restore (RTO) | ${formatSeconds(result.restore.durationSeconds)} into ${targetText(result)} |`,
    `| RPO | ${result.rpoSeconds === undefined ? '- (no messages)' : `${formatSeconds(result.rpoSeconds)} (newest message ${result.newestMessageTime})`} |`,
    `| Source | nats-server ${result.source.serverVersion} |`,
    `| Drill time | ${formatSeconds(result.durationSeconds)} |`,
    '',
    '| Stream | Check | Source | Restored | Result |',
    '|---|---|---|---|---|',
    ...result.streams.flatMap((stream) => stream.checks.map((c) => `| ${esc(stream.name)} | ${esc(c.name)} | ${esc(short(c.source))} | ${esc(short(c.restored))} | ${c.ok ? 'ok' : '**FAIL**'} |`)),
  ]
  const differences = result.streams.filter((s) => s.subjectDifferences.length > 0)
  if (differences.length > 0) {
    lines.push('', '## Subjects that differ', '', '| Stream | Subject | Source | Restored |', '|---|---|---|---|')
    for (const stream of differences) for (const d of stream.subjectDifferences) lines.push(`| ${esc(stream.name)} | ${esc(d.subject)} | ${d.source} | ${d.restored} |`)
  }
  return lines.join('\n')
}

function targetText(result: DrillResult): string {
  return result.target.kind === 'ephemeral' ? `an ephemeral nats-server ${result.target.serverVersion}` : `context ${result.target.context} (nats-server ${result.target.serverVersion})`
}

function differenceLines(result: DrillResult): string[] {
  const lines: string[] = []
  for (const stream of result.streams) {
    for (const d of stream.subjectDifferences) lines.push(`  ${stream.name} ${d.subject}: source ${d.source}, restored ${d.restored}`)
  }
  return lines.length > 0 ? ['', 'Subjects that differ:', ...lines] : []
}

/** Digests are long: 12 hex digits tell them apart in a table. */
function short(text: string): string {
  return /^[0-9a-f]{64}$/.test(text) ? `${text.slice(0, 12)}…` : text
}
