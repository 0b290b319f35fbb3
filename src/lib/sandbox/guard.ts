import {UsageError} from '../core/errors.js'
import {SANDBOX_SITES, type SandboxSite, type SandboxState} from './types.js'

/** The sandbox `sandbox seed` may write to, as recorded by `sandbox up`. */
export interface SandboxGuard {
  stateDir: string
  /** undefined: no sandbox recorded there. */
  state: SandboxState | undefined
}

/** The server a connection actually reached, as it reported itself. */
export interface ConnectedServer {
  /** host:port */
  address: string
  serverId: string
  serverName?: string
}

const WHY_ONLY_SANDBOX = 'seed publishes test events and acknowledges projection consumers, so it runs only against the sandbox cimops started'

/**
 * Seeding writes fake events and acknowledges the pending events of `*-projection` consumers: on a
 * real server that is data loss. So it needs the sandbox's own server, proven by what the server
 * reports (its id, new at each start) and not by a name or a port, which another server can reuse.
 */
export function assertSandboxServer(guard: SandboxGuard, requested: string[], connected: ConnectedServer, site: SandboxSite = SANDBOX_SITES.primary): void {
  const refused = (why: string, hint: string) => new UsageError(`refusing to seed nats at ${connected.address}`, why, {hint, system: 'nats', address: connected.address})
  const {state, stateDir} = guard
  if (!state) throw refused(`no sandbox started by cimops is recorded in ${stateDir}`, `start one with \`cimops sandbox up\`; ${WHY_ONLY_SANDBOX}`)

  const recorded = state.processes.filter((proc) => proc.component === 'nats')
  const recordedAddresses = recorded.map((proc) => hostPort(proc.url))
  const foreign = requested.find((url) => !recordedAddresses.includes(hostPort(url)))
  if (foreign !== undefined) {
    throw refused(`${foreign} is not a server of the sandbox in ${stateDir} (${state.natsServers.join(', ')})`, `use \`--context sandbox\`; ${WHY_ONLY_SANDBOX}`)
  }
  const proc = recorded.find((candidate) => hostPort(candidate.url) === connected.address)
  const reported = `it reports server id ${connected.serverId}${connected.serverName ? ` (${connected.serverName})` : ''}`
  if (!proc?.serverId) {
    throw refused(`${reported}, and the sandbox in ${stateDir} recorded none for this address`, 'restart the sandbox: `cimops sandbox down && cimops sandbox up`')
  }
  if (proc.serverId !== connected.serverId) {
    throw refused(`${reported}, not ${proc.serverId}, the ${proc.name} the sandbox started there`, `another server took the sandbox's port; restart the sandbox: \`cimops sandbox down && cimops sandbox up\``)
  }
  const procSite = proc.site ?? SANDBOX_SITES.primary
  if (procSite !== site) {
    // Seeding the DR site would make a second writable events stream on the same subjects: every event stored twice.
    throw refused(`${proc.name} belongs to the sandbox's ${procSite} site, not its ${site} site`, `use \`--context sandbox\`: the seed writes to the primary site and keeps the DR site's copy as a mirror`)
  }
}

function hostPort(url: string): string {
  const withScheme = url.includes('://') ? url : `nats://${url}`
  try {
    const parsed = new URL(withScheme)
    return `${parsed.hostname}:${parsed.port || '4222'}`
  } catch {
    return url
  }
}
