import {renderTable} from '../core/output/table.js'
import type {Style} from '../core/output/style.js'
import {SANDBOX_SITES, type ProcessStatus, type SandboxProcess, type SeedConsumer, type ServerComponent, type ServerSet} from './types.js'

export function renderProcesses(processes: Array<SandboxProcess | ProcessStatus>, style: Style, width?: number): string {
  const state = (p: SandboxProcess | ProcessStatus) => ('healthy' in p ? (p.healthy ? 'OK' : p.alive ? 'WARNING' : 'CRITICAL') : 'OK')
  // Only a two-site sandbox has sites: a one-site table stays as it was.
  const twoSites = processes.some((p) => p.site !== undefined)
  return renderTable(
    processes,
    [
      {header: 'NAME', get: (p) => p.name, key: true},
      ...(twoSites ? [{header: 'SITE', get: (p: SandboxProcess | ProcessStatus) => p.site ?? SANDBOX_SITES.primary}] : []),
      {header: 'STATUS', get: (p) => ('healthy' in p ? (p.healthy ? 'up' : p.alive ? 'unhealthy' : 'down') : 'up'), paint: (t, p) => style.status(state(p), t)},
      {header: 'VERSION', get: (p) => p.version ?? ''},
      {header: 'PID', get: (p) => String(p.pid), align: 'right'},
      {header: 'ADDRESS', get: (p) => p.url, wrap: true, giveWay: 2},
      {header: 'DETAIL', get: (p) => ('detail' in p ? p.detail : p.monitorUrl ? `monitor ${p.monitorUrl}` : ''), wrap: true, giveWay: 1},
    ],
    {width, paintHeader: style.dim},
  )
}

/** `sandbox seed`: the projection consumers it made, each known by its name and stream. */
export function renderSeededConsumers(consumers: SeedConsumer[], style: Style, width?: number): string {
  return renderTable(
    consumers,
    [
      {header: 'CONSUMER', get: (c) => c.name, key: true},
      {header: 'STREAM', get: (c) => c.stream, key: true},
      {header: 'UNPROCESSED', get: (c) => String(c.pending), align: 'right'},
      {header: 'ACK PENDING', get: (c) => String(c.ackPending), align: 'right'},
    ],
    {width, paintHeader: style.dim},
  )
}

const SERVER_NAMES: Record<ServerComponent, string> = {nats: 'nats-server', prometheus: 'prometheus', alertmanager: 'alertmanager'}

/** `unstable (nats-server 2.15.1, prometheus 3.5.3, alertmanager 0.33.1)`: which servers ran. */
export function describeServers(set: ServerSet | undefined, versions: Partial<Record<ServerComponent, string>>): string {
  const named = (Object.keys(SERVER_NAMES) as ServerComponent[]).filter((component) => versions[component]).map((component) => `${SERVER_NAMES[component]} ${versions[component]}`)
  return `${set ?? 'unrecorded set'} (${named.join(', ') || 'no versions reported'})`
}

/** The version each server component of a sandbox runs (the first node's, for a cluster: all run one binary). */
export function processVersions(processes: SandboxProcess[]): Partial<Record<ServerComponent, string>> {
  const versions: Partial<Record<ServerComponent, string>> = {}
  for (const proc of processes) if (proc.component !== 'monitor' && proc.version) versions[proc.component] ??= proc.version
  return versions
}
