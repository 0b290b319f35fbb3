import {renderTable} from '../core/output/table.js'
import type {Style} from '../core/output/style.js'
import type {ProcessStatus, SandboxProcess} from './types.js'

export function renderProcesses(processes: Array<SandboxProcess | ProcessStatus>, style: Style, width?: number): string {
  const state = (p: SandboxProcess | ProcessStatus) => ('healthy' in p ? (p.healthy ? 'OK' : p.alive ? 'WARNING' : 'CRITICAL') : 'OK')
  return renderTable(
    processes,
    [
      {header: 'NAME', get: (p) => p.name},
      {header: 'STATUS', get: (p) => ('healthy' in p ? (p.healthy ? 'up' : p.alive ? 'unhealthy' : 'down') : 'up'), paint: (t, p) => style.status(state(p), t)},
      {header: 'PID', get: (p) => String(p.pid), align: 'right'},
      {header: 'ADDRESS', get: (p) => p.url},
      {header: 'DETAIL', get: (p) => ('detail' in p ? p.detail : p.monitorUrl ? `monitor ${p.monitorUrl}` : ''), flexible: true},
    ],
    {width, paintHeader: style.dim},
  )
}
