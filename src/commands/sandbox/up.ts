import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {UsageError} from '../../lib/core/errors.js'
import {cimopsDataDir} from '../../lib/core/paths.js'
import {describeServers, processVersions, renderProcesses} from '../../lib/sandbox/render.js'
import {SERVER_SETS, type ServerSet} from '../../lib/sandbox/types.js'

/** How long an interrupted start may take to stop what it started before the command exits anyway. */
const INTERRUPT_GRACE_MS = 15_000

export interface SandboxUpResult {
  alreadyRunning: boolean
  stateDir: string
  cluster: 1 | 3
  sites: 1 | 2
  /** The server set and the version each server reports. */
  servers?: ServerSet
  versions: Record<string, string>
  context: string
  /** Two sites only: the DR site's context (`sandbox-dr`). */
  drContext?: string
  natsServers: string[]
  drNatsServers?: string[]
  prometheusUrl?: string
  alertmanagerUrl?: string
  eventMonitorUrl?: string
  processes: Array<{name: string; component: string; pid: number; url: string; version?: string; site?: string}>
}

export default class SandboxUp extends BaseCommand<typeof SandboxUp> {
  static summary = 'Start a local sandbox: NATS JetStream, Prometheus, Alertmanager and the event monitor on free loopback ports'
  static description = `Starts the real servers from Debian's packages (nats-server, prometheus, prometheus-alertmanager) as background processes with generated configs in the state directory ($CIMOPS_DATA_DIR/sandbox, default ~/.local/share/cimops/sandbox), waits until each is ready, then writes and selects the "sandbox" context so every other command talks to it.
It also starts the event monitor (\`cimops monitor\`, refreshing every second) on a port of its own; Prometheus scrapes it every second as job cim-monitor and evaluates the project's alert rules (deploy/prometheus/rules/cim.yml) every second, sending alerts to the sandbox's Alertmanager. --no-monitor leaves it out.
--servers (or CIMOPS_SERVERS) chooses the servers: debian12 (the installed packages, the default), or trixie or unstable, the newest packages of those Debian suites that \`bash scripts/install-servers.sh trixie unstable\` fetches into ~/.cache/cimops/servers. CIMOPS_NATS_SERVER_BIN, CIMOPS_PROMETHEUS_BIN and CIMOPS_ALERTMANAGER_BIN still name one binary each.
--sites 2 adds a DR site of as many NATS nodes (dr-nats-1...), a leaf node (cluster) of the primary with a JetStream domain of its own (domains "primary" and "dr"), so each site keeps its own JetStream meta group and survives the other's loss; it writes the context sandbox-dr for it, and \`cimops sandbox seed\` then keeps a mirror of the events stream there (EVENTS_DR). Prometheus, Alertmanager and the event monitor stay single, beside the primary.
Running it again while the sandbox is up starts nothing new.`
  static examples = [
    '<%= config.bin %> sandbox up',
    '<%= config.bin %> sandbox up --cluster 3',
    '<%= config.bin %> sandbox up --sites 2 && <%= config.bin %> sandbox seed && <%= config.bin %> sandbox status',
    '<%= config.bin %> sandbox up --servers unstable',
    '<%= config.bin %> sandbox up && <%= config.bin %> sandbox seed && <%= config.bin %> health-check',
    'curl -s "$(<%= config.bin %> sandbox status --json | jq -r \'.processes[] | select(.name == "monitor") | .url\')/metrics" | grep ^cim_',
  ]
  static flags = {
    cluster: Flags.option({options: ['1', '3'] as const, default: '1', summary: 'NATS nodes: 1, or 3 for a JetStream cluster.'})(),
    sites: Flags.option({options: ['1', '2'] as const, default: '1', summary: 'NATS sites: 1, or 2 for a DR site joined as a leaf node with its own JetStream domain.'})(),
    servers: Flags.option({options: SERVER_SETS, env: 'CIMOPS_SERVERS', default: 'debian12', summary: 'Which servers run: Debian 12\'s installed ones, or those of trixie or unstable fetched by scripts/install-servers.sh.'})(),
    monitor: Flags.boolean({default: true, allowNo: true, summary: 'Also run the event monitor, scraped by Prometheus with the CIM alert rules loaded.'}),
    'state-dir': Flags.string({summary: 'Where configs, data, logs and state live.', hidden: true}),
  }

  async run(): Promise<SandboxUpResult> {
    const {sandboxUp, defaultSandboxDir, SANDBOX_COMPONENTS} = await import('../../lib/sandbox/index.js')
    const {selectSandboxContext} = await import('../../lib/sandbox/context.js')
    const stateDir = this.flags['state-dir'] ?? defaultSandboxDir(cimopsDataDir())
    const cluster = Number(this.flags.cluster) as 1 | 3
    const sites = Number(this.flags.sites) as 1 | 2
    const components = [...SANDBOX_COMPONENTS, ...(this.flags.monitor ? (['monitor'] as const) : [])]
    const servers = this.flags.servers
    // Ctrl-C stops the servers already started; that takes longer than the default grace (SIGTERM, then SIGKILL after 5s).
    this.interruptGraceMs = INTERRUPT_GRACE_MS
    const {state, alreadyRunning} = await sandboxUp({stateDir, cluster, sites, components, servers, signal: this.signal, log: (line) => this.note(this.style.dim(line))})
    if (alreadyRunning && state.cluster !== cluster) {
      throw new UsageError(`a ${state.cluster === 3 ? '3-node' : 'single-node'} sandbox is already running`, `it was started in ${state.stateDir}`, {
        hint: 'stop it first with `cimops sandbox down`',
      })
    }
    if (alreadyRunning && (state.sites ?? 1) !== sites) {
      throw new UsageError(`a ${state.sites === 2 ? 'two-site' : 'one-site'} sandbox is already running`, `it was started in ${state.stateDir}`, {
        hint: 'stop it first with `cimops sandbox down`',
      })
    }
    if (alreadyRunning && state.servers !== undefined && state.servers !== servers) {
      throw new UsageError(`a sandbox of the ${state.servers} servers is already running`, `it was started in ${state.stateDir}`, {hint: 'stop it first with `cimops sandbox down`'})
    }
    const versions = processVersions(state.processes)
    const context = await selectSandboxContext(state)
    if (alreadyRunning) this.note(`Sandbox already running in ${state.stateDir}; nothing started.`)
    this.print(renderProcesses(state.processes, this.style, this.width))
    this.print(`\nServers: ${describeServers(state.servers, versions)}.`)
    if (state.eventMonitorUrl) this.print(`\nEvent monitor metrics: ${state.eventMonitorUrl}/metrics (scraped by Prometheus at ${state.prometheusUrl ?? '-'} as job cim-monitor).`)
    if (context.drName) this.print(`\nContext ${this.style.bold(context.drName)} written for the DR site (JetStream domain dr).`)
    this.print(`\nContext ${this.style.bold(context.name)} selected. Next: \`cimops sandbox seed\`, \`cimops health-check\`; stop with \`cimops sandbox down\`.`)
    return {
      alreadyRunning,
      stateDir: state.stateDir,
      cluster: state.cluster,
      sites: state.sites ?? 1,
      servers: state.servers,
      versions,
      context: context.name,
      ...(context.drName ? {drContext: context.drName} : {}),
      natsServers: state.natsServers,
      ...(state.drNatsServers ? {drNatsServers: state.drNatsServers} : {}),
      prometheusUrl: state.prometheusUrl,
      alertmanagerUrl: state.alertmanagerUrl,
      eventMonitorUrl: state.eventMonitorUrl,
      processes: state.processes.map(({name, component, pid, url, version, site}) => ({name, component, pid, url, version, ...(site ? {site} : {})})),
    }
  }
}
