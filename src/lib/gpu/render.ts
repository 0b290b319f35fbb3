/** Text views of the gpu commands: tables for people; the same data is the --json result. */
import {formatDuration} from '../core/duration.js'
import {formatBytes, plural} from '../core/output/units.js'
import type {Status} from '../core/check/status.js'
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import type {EmergencyGpuResult} from './emergency.js'
import type {EvacuationProgress, EvacuationResult, UncordonResult} from './evacuate.js'
import type {ForgetResult} from './forget.js'
import type {GpuSnapshot, GpuStatusReport} from './model.js'
import type {FleetView} from './nodes.js'

interface RenderOptions {
  style: Style
  width?: number
  verbose?: boolean
}

/** `gpu status`: one row per GPU, then processes (--verbose), Xids, host findings, notes and the verdict. */
export function renderGpuStatus(report: GpuStatusReport, {style, width, verbose = false}: RenderOptions): string {
  const blocks: string[] = []
  const snapshot = (index: number) => report.snapshots.find((s) => s.index === index)
  if (report.gpus.length > 0) {
    blocks.push(
      renderTable(
        report.gpus,
        [
          {header: 'GPU', get: (g) => String(g.index), align: 'right', key: true},
          {header: 'NAME', get: (g) => g.name ?? '-', wrap: true, giveWay: 2},
          {header: 'BUS ID', get: (g) => g.busId ?? '-'},
          {header: 'TEMP', get: (g) => temperature(snapshot(g.index)), align: 'right'},
          {header: 'UTIL', get: (g) => percent(snapshot(g.index)?.utilizationPercent), align: 'right'},
          {header: 'MEMORY', get: (g) => memory(snapshot(g.index)), align: 'right'},
          {header: 'POWER', get: (g) => power(snapshot(g.index)), align: 'right'},
          {header: 'STATUS', get: (g) => g.status, paint: (t, g) => style.status(g.status, t)},
          {header: 'FINDINGS', get: (g) => g.findings.map((f) => f.text).join('; ') || '-', wrap: true, giveWay: 1},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  } else {
    // No GPU rows: the tool's own answer (no GPU, a failure) is the report.
    blocks.push(
      renderTable(
        report.checks,
        [
          {header: 'STATUS', get: (c) => c.status, paint: (t, c) => style.status(c.status, t)},
          {header: 'CHECK', get: (c) => c.name, key: true},
          {header: 'SUMMARY', get: (c) => c.summary, wrap: true, giveWay: 1},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  if (verbose) {
    const processes = report.snapshots.flatMap((s) => (s.processes ?? []).map((p) => ({gpu: s.index, ...p})))
    if (processes.length > 0) {
      blocks.push(
        renderTable(
          processes,
          [
            {header: 'GPU', get: (p) => String(p.gpu), align: 'right', key: true},
            {header: 'PID', get: (p) => (p.pid === undefined ? '-' : String(p.pid)), align: 'right', key: true},
            {header: 'TYPE', get: (p) => p.type ?? 'C'},
            {header: 'MEMORY', get: (p) => (p.usedMemoryBytes === undefined ? '-' : formatBytes(p.usedMemoryBytes)), align: 'right'},
            {header: 'PROCESS', get: (p) => p.name ?? '-', wrap: true, giveWay: 1},
          ],
          {width, paintHeader: style.dim},
        ),
      )
    } else if (report.snapshots.length > 0) {
      blocks.push(style.dim('No processes on the GPUs.'))
    }
    const details = report.snapshots.flatMap((s) => memoryDetails(s))
    if (details.length > 0) blocks.push(details.join('\n'))
  }
  const xids = report.gpus.flatMap((g) => g.xids.map((x) => ({gpu: String(g.index), ...x})))
  if (xids.length > 0) {
    blocks.push(
      renderTable(
        xids,
        [
          {header: 'GPU', get: (x) => x.gpu, align: 'right', key: true},
          {header: 'XID', get: (x) => String(x.xid), align: 'right', key: true},
          {header: 'SEVERITY', get: (x) => x.severity, paint: (t, x) => style.status(x.severity === 'drain' ? 'CRITICAL' : x.severity === 'warn' ? 'WARNING' : 'OK', t)},
          {header: 'COUNT', get: (x) => String(x.count), align: 'right'},
          {header: 'LAST SEEN', get: (x) => x.lastSeen ?? '-'},
          {header: 'MESSAGE', get: (x) => `${x.description}: ${x.message}`, wrap: true, giveWay: 1},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  if (report.hostFindings.length > 0 && report.gpus.length > 0) {
    blocks.push(report.hostFindings.map((f) => `${style.status(f.status, f.status)}  ${f.text}`).join('\n'))
  }
  if (report.notes.length > 0) blocks.push(report.notes.map((n) => style.dim(`note: ${n}`)).join('\n'))
  const facts = [
    `node ${report.node}`,
    report.driverVersion ? `driver ${report.driverVersion}` : undefined,
    report.expectedGpus === undefined ? undefined : `expected ${report.expectedGpus}`,
    report.kernelLog?.readable ? `${plural(report.kernelLog.xidEvents, 'Xid event')} (${report.kernelLog.source})` : undefined,
    `${report.durationSeconds.toFixed(2)}s`,
  ].filter(Boolean)
  const published = report.published ? `  published to ${report.published.bucket}/${report.published.key} (revision ${report.published.revision})` : ''
  blocks.push(`${style.status(report.status, style.bold(report.status))}  ${report.summary}  ${style.dim(`(${facts.join(', ')})`)}${published}`)
  return blocks.join('\n\n')
}

function temperature(gpu: GpuSnapshot | undefined): string {
  if (gpu?.temperatureC === undefined) return '-'
  return gpu.tlimitMarginC === undefined ? `${gpu.temperatureC}°C` : `${gpu.temperatureC}°C (${gpu.tlimitMarginC} to T.Limit)`
}

function percent(value: number | undefined): string {
  return value === undefined ? '-' : `${value}%`
}

function memory(gpu: GpuSnapshot | undefined): string {
  if (gpu?.memoryUsedBytes === undefined || gpu.memoryTotalBytes === undefined) return '-'
  return `${(gpu.memoryUsedBytes / 2 ** 30).toFixed(1)}/${(gpu.memoryTotalBytes / 2 ** 30).toFixed(1)} GiB`
}

function power(gpu: GpuSnapshot | undefined): string {
  if (gpu?.powerDrawW === undefined) return '-'
  const w = (v: number) => (v < 10 ? v.toFixed(2) : String(Math.round(v)))
  return gpu.powerLimitW === undefined ? `${w(gpu.powerDrawW)} W` : `${w(gpu.powerDrawW)}/${w(gpu.powerLimitW)} W`
}

/** --verbose: retired pages with addresses, remapped rows, recovery action. */
function memoryDetails(gpu: GpuSnapshot): string[] {
  const lines: string[] = []
  const label = `GPU ${gpu.index}`
  for (const [kind, list] of [['single-bit', gpu.retiredPages?.singleBit], ['double-bit', gpu.retiredPages?.doubleBit]] as const) {
    if (list && (list.count ?? 0) > 0) {
      lines.push(`${label}: ${plural(list.count ?? list.pages.length, `${kind} retired page`)}${list.pages.length > 0 ? `: ${list.pages.map((p) => (p.time ? `${p.address} (${p.time})` : p.address)).join(', ')}` : ''}`)
    }
  }
  if ((gpu.remappedRowsCorrectable ?? 0) + (gpu.remappedRowsUncorrectable ?? 0) > 0) {
    lines.push(`${label}: remapped rows: ${gpu.remappedRowsCorrectable ?? 0} correctable, ${gpu.remappedRowsUncorrectable ?? 0} uncorrectable`)
  }
  if ((gpu.eccUncorrectedAggregate ?? 0) > 0) lines.push(`${label}: ${plural(gpu.eccUncorrectedAggregate!, 'uncorrected ECC error')} over its life`)
  if (gpu.recoveryAction !== undefined && !/^none$/i.test(gpu.recoveryAction)) lines.push(`${label}: recovery action ${gpu.recoveryAction}`)
  return lines
}

/** `gpu nodes`. */
export function renderFleet(view: FleetView, {style, width, verbose = false}: RenderOptions): string {
  if (view.nodes.length === 0) return 'No GPU nodes known: nothing in cim_gpu_nodes, cim_gpu_health or cim_gpu_allocations (nodes publish with `cimops gpu status --publish`).'
  const stateStatus = (state: string): Status => (state === 'active' ? 'OK' : state === 'draining' ? 'WARNING' : state === 'drained' ? 'CRITICAL' : 'UNKNOWN')
  const table = renderTable(
    view.nodes,
    [
      {header: 'NODE', get: (n) => n.node, key: true},
      {header: 'STATE', get: (n) => n.state, paint: (t, n) => (n.state === 'active' ? t : style.status(stateStatus(n.state), t))},
      {header: 'SINCE', get: (n) => n.since ?? '-'},
      {header: 'BY', get: (n) => n.by ?? '-', giveWay: 2},
      {header: 'HEALTH', get: (n) => (n.health ? `${n.health.status}${n.health.stale ? ' (stale)' : ''}` : n.healthProblem ? 'unreadable' : '-'), paint: (t, n) => (n.health ? style.status(n.health.status, t) : t)},
      {header: 'GPUS', get: (n) => (n.health?.gpuCount === undefined ? '-' : n.health.expectedGpus === undefined ? String(n.health.gpuCount) : `${n.health.gpuCount}/${n.health.expectedGpus}`), align: 'right'},
      {header: 'WORKLOADS', get: (n) => String(n.allocations.length), align: 'right'},
      {header: 'CHECKED', get: (n) => (n.health ? `${formatDuration(n.health.ageSeconds * 1000)} ago` : '-'), align: 'right'},
      {header: 'REASON / HEALTH', get: (n) => [n.reason, n.health && n.health.status !== 'OK' ? n.health.summary : undefined, n.stateProblem, n.healthProblem].filter(Boolean).join(' — ') || '-', wrap: true, giveWay: 1},
    ],
    {width, paintHeader: style.dim},
  )
  const blocks = [table]
  if (verbose) {
    const rows = view.nodes.flatMap((n) => n.allocations.map((a) => ({node: n.node, ...a})))
    if (rows.length > 0) {
      blocks.push(
        renderTable(
          rows,
          [
            {header: 'NODE', get: (a) => a.node, key: true},
            {header: 'WORKLOAD', get: (a) => a.workload, key: true},
            {header: 'GPU', get: (a) => (a.gpu === undefined ? '-' : String(a.gpu))},
            {header: 'SINCE', get: (a) => a.since ?? '-'},
          ],
          {width, paintHeader: style.dim},
        ),
      )
    }
  }
  const c = view.counts
  blocks.push(`${plural(c.nodes, 'node')}: ${c.active} active, ${c.draining} draining, ${c.drained} drained; ${c.critical} with CRITICAL GPU health; ${plural(c.allocations, 'workload')} allocated`)
  return blocks.join('\n\n')
}

const OUTCOME_STATUS: Record<string, Status> = {
  drained: 'OK',
  'already-drained': 'OK',
  'dry-run': 'OK',
  uncordoned: 'OK',
  'already-active': 'OK',
  'timed-out': 'CRITICAL',
  interrupted: 'WARNING',
  superseded: 'WARNING',
  refused: 'CRITICAL',
  failed: 'CRITICAL',
}

/** `gpu evacuate`. */
export function renderEvacuation(result: EvacuationResult, {style, width}: RenderOptions): string {
  const lines = [style.status(OUTCOME_STATUS[result.outcome] ?? 'UNKNOWN', result.dryRun ? `[dry run] ${result.message}` : result.message)]
  const remaining = result.workloads.remaining
  if (result.outcome === 'dry-run') {
    lines.push(
      '',
      'Plan:',
      `  1. compare-and-set cim_gpu_nodes/${result.node}: ${result.previous?.state ?? 'active (no record)'} -> draining {reason: "${result.reason}", by: ${result.by}}`,
      `  2. publish cim.ops.gpu.${result.node}.evacuate {reason, deadline: ${result.deadline}}`,
      `  3. watch cim_gpu_allocations ${result.node}.> until none remain, then mark ${result.node} drained`,
      `  4. at the deadline: report stuck workloads, exit 2, leave ${result.node} draining`,
    )
  }
  if (remaining.length > 0 && result.outcome !== 'drained' && result.outcome !== 'already-drained') {
    lines.push(
      '',
      renderTable(
        remaining,
        [
          {header: result.dryRun ? 'WORKLOAD' : 'STUCK WORKLOAD', get: (a) => a.workload, key: true},
          {header: 'GPU', get: (a) => (a.gpu === undefined ? '-' : String(a.gpu))},
          {header: 'SINCE', get: (a) => a.since ?? '-'},
          {header: 'KEY', get: (a) => a.key, wrap: true, giveWay: 1},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  if (result.events.length > 0) {
    const stored = result.events.filter((e) => e.seq !== undefined)
    lines.push('', style.dim(`${plural(result.events.length, 'event')} on the ops log${stored.length > 0 ? ` (seq ${stored[0].seq}–${stored.at(-1)!.seq})` : ''}: ${[...new Set(result.events.map((e) => e.subject.split('.').pop()))].join(', ')}`))
  }
  for (const note of result.notes) lines.push(style.dim(`note: ${note}`))
  return lines.join('\n')
}

/** `gpu uncordon`. */
export function renderUncordon(result: UncordonResult, {style}: RenderOptions): string {
  const lines = [style.status(result.outcome === 'uncordoned' || result.outcome === 'already-active' ? 'OK' : 'OK', result.dryRun ? `[dry run] ${result.message}` : result.message)]
  for (const note of result.notes) lines.push(style.dim(`note: ${note}`))
  return lines.join('\n')
}

export function renderForget(result: ForgetResult, {style}: RenderOptions): string {
  const lines = [style.status('OK', result.dryRun ? `[dry run] ${result.message}` : result.message)]
  for (const note of result.notes) lines.push(style.dim(`note: ${note}`))
  return lines.join('\n')
}

/** `emergency gpu-evacuate`: one summary. */
export function renderEmergencyGpu(result: EmergencyGpuResult, {style, width}: RenderOptions): string {
  const lines: string[] = []
  if (result.nodes.length > 0) {
    lines.push(
      renderTable(
        result.nodes,
        [
          {header: 'NODE', get: (n) => n.node, key: true},
          {header: 'OUTCOME', get: (n) => n.outcome, paint: (t, n) => style.status(OUTCOME_STATUS[n.outcome] ?? 'UNKNOWN', t)},
          {header: 'WORKLOADS', get: (n) => String(n.workloads), align: 'right'},
          {header: 'STUCK', get: (n) => n.stuck.join(', ') || '-', wrap: true, giveWay: 2},
          {header: 'TIME', get: (n) => (n.evacuation && !n.evacuation.dryRun ? formatDuration(n.evacuation.durationSeconds * 1000) : '-'), align: 'right'},
          {header: 'HEALTH / ERROR', get: (n) => `${n.error ?? n.healthSummary}${n.stale ? ` (health report stale, ${n.checkedAt})` : ''}`, wrap: true, giveWay: 1},
        ],
        {width, paintHeader: style.dim},
      ),
      '',
    )
  }
  const status: Status = result.nodes.length === 0 || result.dryRun ? 'OK' : result.failed > 0 ? 'CRITICAL' : 'OK'
  lines.push(style.status(status, result.dryRun ? `[dry run] ${result.message}` : result.message))
  if (result.unreadable.length > 0) lines.push(style.status('WARNING', `unreadable health records (not judged): ${result.unreadable.join(', ')}`))
  for (const note of result.notes) lines.push(style.dim(`note: ${note}`))
  return lines.join('\n')
}

/** One progress line: `gpu-07: waiting for 2 of 3 workloads (train-a, train-b), 9m41s left`. */
export function progressLine(p: EvacuationProgress, now = Date.now()): string {
  const left = Math.max(0, Date.parse(p.deadline) - now)
  if (p.phase === 'waiting') {
    const shown = p.remaining.slice(0, 5).join(', ') + (p.remaining.length > 5 ? `, +${p.remaining.length - 5}` : '')
    return `${p.node}: waiting for ${p.remaining.length} of ${plural(p.total, 'workload')} (${shown}), ${formatDuration(left)} left`
  }
  if (p.phase === 'drained') return `${p.node}: drained after ${formatDuration(p.elapsedMs)}`
  return `${p.node}: ${p.phase}${p.remaining.length > 0 ? `, still allocated: ${p.remaining.join(', ')}` : ''}`
}
