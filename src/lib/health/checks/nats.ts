import {joinAddresses} from '../../adapters/redact.js'
import type {NatsSettings} from '../../core/context-types.js'
import type {CheckOutcome} from '../../core/check/result.js'
import type {Status} from '../../core/check/status.js'
import type {CheckContext, HealthCheck} from '../runner.js'
import {formatSeconds, round} from '../../core/output/units.js'

export interface PeerProbe {
  url: string
  serverName?: string
  /** The client URLs (host:port) of the peers this server has a route to, from the INFO it sent. */
  routedTo?: string[]
  error?: string
}

export interface Membership {
  /** Names of the servers that answered and that every other answering server has a route to. */
  up: Set<string | undefined>
  /** Unreachable, or reachable but cut off from the rest of the cluster. */
  down: Array<{url: string; why: string}>
}

/**
 * NATS reachability and cluster membership. Every known server (the configured ones plus those the
 * cluster advertises) is probed with its own connection, so a dead node is named even when the client
 * would silently fail over; a node counts as up only when the others have a route to it, by name (the
 * number of route connections says nothing: since 2.10 they are pooled). One node of three down is
 * WARNING; quorum lost is CRITICAL.
 */
export const natsCheck: HealthCheck = {
  name: 'nats',
  component: 'nats',
  target: (ctx) => ({system: 'nats', address: joinAddresses(ctx.nats.servers)}),
  async run({ctx, nats}: CheckContext): Promise<CheckOutcome> {
    const {nc, connectSeconds} = await nats.connection()
    const [{serverInfo}, rttMs] = await Promise.all([import('../../adapters/nats/connection.js'), nc.rtt()])
    const info = serverInfo(nc)
    const known = knownServers(ctx.nats.servers, nc.info?.connect_urls ?? [])
    // Half the budget per probe: a hung node must not push the whole check past its deadline.
    const probeTimeoutMs = Math.max(200, Math.floor(ctx.timeoutMs / 2))
    const probes = known.length > 1 ? await Promise.all(known.map((url) => probePeer(ctx.nats, url, probeTimeoutMs))) : [{url: known[0], serverName: info.serverName}]

    const {up: upNames, down} = clusterMembership(probes)
    const size = upNames.size + down.length
    const quorum = Math.floor(size / 2) + 1
    const status: Status = down.length === 0 ? 'OK' : upNames.size >= quorum ? 'WARNING' : 'CRITICAL'
    const cluster = size > 1 ? `, cluster ${info.cluster ?? ''} ${upNames.size}/${size} nodes up`.replace('  ', ' ') : ''
    const missing = down.length > 0 ? `; down: ${down.map((p) => `${p.url} (${p.why})`).join(', ')}${status === 'CRITICAL' ? ' — quorum lost' : ''}` : ''
    return {
      name: 'nats',
      component: 'nats',
      status,
      summary: `nats-server ${info.version} at ${info.serverName}, connect ${formatSeconds(connectSeconds)}, rtt ${formatSeconds(rttMs / 1000)}${cluster}${missing}`,
      metrics: [
        {name: 'connect_time', value: round(connectSeconds), unit: 's', warn: 0.5, crit: 1},
        {name: 'rtt', value: round(rttMs / 1000), unit: 's', warn: 0.5, crit: 1},
        {name: 'cluster_size', value: size},
        {name: 'nodes_down', value: down.length, warn: 1, crit: size - quorum + 1},
      ],
      details: {version: info.version, server: info.serverName, cluster: info.cluster, jetstream: info.jetstream, nodesDown: down.map((p) => p.url)},
    }
  },
}

/**
 * Who is up: a server that answered, unless most other answering servers have no route to it. Routes are
 * matched by name: each server's advertised client URLs are mapped to the names their probes returned.
 */
export function clusterMembership(probes: PeerProbe[]): Membership {
  const answered = probes.filter((probe) => !probe.error)
  const nameAt = new Map(answered.map((probe) => [hostPort(probe.url), probe.serverName]))
  const servers = new Map<string | undefined, {url: string; routedTo?: Set<string | undefined>}>()
  for (const probe of answered) {
    if (servers.has(probe.serverName)) continue
    const urls = probe.routedTo ?? []
    // Only a server whose every advertised URL answered us can say by name whom it is routed to
    // (none: no_advertise; unanswered: addresses this machine cannot reach).
    const named = urls.length > 0 && urls.every((url) => nameAt.has(hostPort(url)))
    servers.set(probe.serverName, {url: probe.url, routedTo: named ? new Set(urls.map((url) => nameAt.get(hostPort(url)))) : undefined})
  }
  const up = new Set<string | undefined>()
  const down = probes.filter((probe) => probe.error).map((probe) => ({url: probe.url, why: probe.error!}))
  for (const [name, server] of servers) {
    const judges = [...servers].filter(([other, them]) => other !== name && them.routedTo !== undefined)
    const missing = judges.filter(([, them]) => !them.routedTo!.has(name)).map(([other]) => other ?? 'unnamed')
    // Judged by most of the others: a node cut off from the rest has no route to them either, and is outvoted.
    if (missing.length * 2 <= judges.length) up.add(name)
    else down.push({url: server.url, why: `${name ?? 'it'} answers but ${missing.join(', ')} ${missing.length > 1 ? 'have' : 'has'} no route to it`})
  }
  return {up, down}
}

/** Configured servers plus the cluster's advertised client URLs, deduplicated by host:port. */
function knownServers(configured: string[], advertised: string[]): string[] {
  const byHostPort = new Map<string, string>()
  for (const url of [...configured, ...advertised]) {
    const key = hostPort(url)
    if (!byHostPort.has(key)) byHostPort.set(key, url.includes('://') ? url : `nats://${url}`)
  }
  return [...byHostPort.values()]
}

function hostPort(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, '').replace(/^[^@/]*@/, '').replace(/\/.*$/, '').toLowerCase()
}

async function probePeer(settings: NatsSettings, url: string, timeoutMs: number): Promise<PeerProbe> {
  const {connectNats, serverInfo} = await import('../../adapters/nats/connection.js')
  const {stripUserinfo} = await import('../../adapters/redact.js')
  try {
    const nc = await connectNats({...settings, servers: [url]}, {timeoutMs, name: 'cimops-health-probe'})
    const name = serverInfo(nc).serverName
    const routedTo = nc.info?.connect_urls ?? []
    await nc.close()
    return {url: stripUserinfo(url), serverName: name, routedTo}
  } catch (error) {
    const why = error instanceof Error && 'why' in error ? String((error as {why: string}).why) : String(error)
    return {url: stripUserinfo(url), error: why}
  }
}
