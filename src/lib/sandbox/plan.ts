import {join} from 'node:path'
import {stringify} from 'yaml'
import {DEFAULTS} from '../core/context-types.js'
import {scrapeTargetText} from './targets.js'
import {type PrometheusHistory, SANDBOX_SITES, type SandboxComponent, type SandboxProcess, type SandboxSite, type ServerComponent} from './types.js'

/** A process to start: everything but its pid, plus what to create on disk first. */
export interface PlannedProcess {
  process: Omit<SandboxProcess, 'pid'>
  configText: string
  dirs: string[]
  /** Other files to write before it starts (rules, scrape targets). */
  files?: Array<{path: string; text: string}>
  /** Directories to copy into place before it starts (Prometheus' history). */
  copies?: Array<{from: string; to: string}>
}

export interface SandboxPlanInput {
  /** Absolute. */
  stateDir: string
  cluster: 1 | 3
  /** 2: a DR site of `cluster` nodes more, a leaf node (cluster) of the primary with its own JetStream domain. Default 1. */
  sites?: 1 | 2
  /** Two sites: the loopback port the DR site dials and the primary advertises for leaf connections (a test's proxy). */
  leafLinkPort?: number
  jetstream: boolean
  /** JetStream `max_file` in bytes; default 2GB. */
  jetstreamMaxFileBytes?: number
  components: SandboxComponent[]
  binaries: Partial<Record<ServerComponent, string>>
  /** At least portsNeeded() free loopback ports. */
  ports: number[]
  /** How to run this package's CLI ([node, bin/run.js]); needed with the monitor. */
  cliCommand?: string[]
  /** Alert rules Prometheus loads with the monitor (the text of deploy/prometheus/rules/cim.yml). */
  alertRules?: string
  prometheusHistory?: PrometheusHistory
}

const LOOPBACK = '127.0.0.1'
const NATS_CLUSTER_NAME = 'cimops-sandbox'
/** The event monitor's scrape job, as in deploy/prometheus/prometheus.yml: the EventMonitorDown rule names it. */
export const MONITOR_JOB = 'cim-monitor'
/** The sandbox's own alerts come within seconds: the monitor refreshes, Prometheus scrapes it and evaluates rules every second. */
const MONITOR_REFRESH = '1s'
const MONITOR_SCRAPE_INTERVAL = '1s'
const RULE_EVALUATION_INTERVAL = '1s'

export function portsNeeded(components: SandboxComponent[], cluster: 1 | 3, sites: 1 | 2 = 1): number {
  // Per nats node: client + monitor (+ route port when clustered); with two sites, a leafnode port per primary node.
  const perSite = cluster * (cluster === 3 ? 3 : 2)
  const nats = components.includes('nats') ? sites * perSite + (sites === 2 ? cluster : 0) : 0
  const single: SandboxComponent[] = ['prometheus', 'alertmanager', 'monitor']
  return nats + single.filter((component) => components.includes(component)).length
}

/** Names, ports, paths, argv and configs of every process; pure, so a failed start can be re-planned with new ports. */
export function planSandbox(input: SandboxPlanInput): PlannedProcess[] {
  const ports = [...input.ports]
  const takePort = (): number => {
    const port = ports.shift()
    if (port === undefined) throw new Error('planSandbox: not enough ports')
    return port
  }

  const nats = input.components.includes('nats') ? planNatsSites(input, takePort) : []
  const alertmanager = input.components.includes('alertmanager') ? planAlertmanager(input, takePort()) : undefined
  // The monitor, Prometheus and Alertmanager are single: they watch the primary site.
  const primaryUrls = nats.filter((node) => node.process.site !== SANDBOX_SITES.dr).map((node) => node.process.url)
  const monitor = input.components.includes('monitor') ? planMonitor(input, takePort(), primaryUrls) : undefined
  const prometheus = input.components.includes('prometheus')
    ? planPrometheus(input, takePort(), alertmanager?.process.port, monitor?.process.port)
    : undefined
  return [...nats, ...(prometheus ? [prometheus] : []), ...(alertmanager ? [alertmanager] : []), ...(monitor ? [monitor] : [])]
}

function planNatsSites(input: SandboxPlanInput, takePort: () => number): PlannedProcess[] {
  if (input.sites !== 2) return planNatsSite(input, takePort, {})
  const primary = planNatsSite(input, takePort, {site: SANDBOX_SITES.primary, leafnodeListener: true, leafnodeAdvertise: input.leafLinkPort})
  const hubPorts = input.leafLinkPort === undefined ? primary.flatMap((node) => (node.process.leafnodePort === undefined ? [] : [node.process.leafnodePort])) : [input.leafLinkPort]
  return [...primary, ...planNatsSite(input, takePort, {site: SANDBOX_SITES.dr, hubPorts})]
}

interface SitePlan {
  /** Absent for a one-site sandbox: its nodes and configs stay as they always were. */
  site?: SandboxSite
  /** The primary of two sites: listens for the DR site's leaf connections. */
  leafnodeListener?: boolean
  /** The primary: the loopback port it advertises to leaf nodes instead of its own (a proxy in front of it). */
  leafnodeAdvertise?: number
  /** The DR site: the primary's leafnode ports it dials. */
  hubPorts?: number[]
}

function planNatsSite(input: SandboxPlanInput, takePort: () => number, sitePlan: SitePlan): PlannedProcess[] {
  const prefix = sitePlan.site === SANDBOX_SITES.dr ? 'dr-' : ''
  const nodes = Array.from({length: input.cluster}, (_, i) => ({
    name: `${prefix}nats-${i + 1}`,
    port: takePort(),
    monitorPort: takePort(),
    clusterPort: input.cluster === 3 ? takePort() : undefined,
    leafnodePort: sitePlan.leafnodeListener ? takePort() : undefined,
  }))
  return nodes.map((node) => {
    const dir = join(input.stateDir, node.name)
    const configFile = join(dir, 'nats.conf')
    const dataDir = join(dir, 'data')
    const routePorts = nodes.flatMap((other) => (other === node || other.clusterPort === undefined ? [] : [other.clusterPort]))
    return {
      process: {
        name: node.name,
        component: 'nats',
        url: `nats://${LOOPBACK}:${node.port}`,
        port: node.port,
        monitorUrl: `http://${LOOPBACK}:${node.monitorPort}`,
        ...(node.clusterPort === undefined ? {} : {clusterPort: node.clusterPort}),
        ...(sitePlan.site === undefined ? {} : {site: sitePlan.site}),
        ...(node.leafnodePort === undefined ? {} : {leafnodePort: node.leafnodePort}),
        configFile,
        dataDir,
        logFile: join(dir, 'nats.log'),
        argv: [binaryOf(input, 'nats'), '-c', configFile],
      },
      configText: natsConfig({
        ...node,
        storeDir: input.jetstream ? dataDir : undefined,
        maxFileBytes: input.jetstreamMaxFileBytes,
        routePorts,
        clusterName: sitePlan.site === SANDBOX_SITES.dr ? `${NATS_CLUSTER_NAME}-dr` : NATS_CLUSTER_NAME,
        domain: sitePlan.site,
        leafnodeAdvertise: sitePlan.leafnodeAdvertise,
        hubPorts: sitePlan.hubPorts,
      }),
      dirs: [dir, dataDir],
    }
  })
}

interface NatsConfigInput {
  name: string
  port: number
  monitorPort: number
  storeDir?: string
  maxFileBytes?: number
  clusterPort?: number
  clusterName: string
  routePorts: number[]
  /** JetStream domain: the site's name, with two sites. */
  domain?: string
  leafnodePort?: number
  leafnodeAdvertise?: number
  hubPorts?: number[]
}

function natsConfig(node: NatsConfigInput): string {
  const lines = [
    `server_name: ${JSON.stringify(node.name)}`,
    `listen: "${LOOPBACK}:${node.port}"`,
    `http: "${LOOPBACK}:${node.monitorPort}"`,
  ]
  if (node.storeDir) {
    // Explicit limits, so account memory/storage percentages mean something in health checks.
    lines.push('jetstream {', `  store_dir: ${JSON.stringify(node.storeDir)}`, '  max_mem: 256MB', `  max_file: ${node.maxFileBytes ?? '2GB'}`)
    if (node.domain !== undefined) lines.push(`  domain: ${JSON.stringify(node.domain)}`)
    lines.push('}')
  }
  if (node.clusterPort !== undefined) {
    const routes = node.routePorts.map((port) => `"nats-route://${LOOPBACK}:${port}"`).join(', ')
    lines.push(
      'cluster {',
      `  name: "${node.clusterName}"`,
      `  listen: "${LOOPBACK}:${node.clusterPort}"`,
      `  routes: [${routes}]`,
      '}',
    )
  }
  if (node.leafnodePort !== undefined) {
    const advertise = node.leafnodeAdvertise === undefined ? [] : [`  advertise: "${LOOPBACK}:${node.leafnodeAdvertise}"`]
    lines.push('leafnodes {', `  listen: "${LOOPBACK}:${node.leafnodePort}"`, ...advertise, '}')
  }
  if (node.hubPorts !== undefined) {
    // Every primary node: the leaf connection survives the loss of any one of them.
    const urls = node.hubPorts.map((port) => `"nats-leaf://${LOOPBACK}:${port}"`).join(', ')
    lines.push('leafnodes {', `  remotes: [ { urls: [${urls}] } ]`, '}')
  }
  return lines.join('\n') + '\n'
}

function planPrometheus(input: SandboxPlanInput, port: number, alertmanagerPort?: number, monitorPort?: number): PlannedProcess {
  const dir = join(input.stateDir, 'prometheus')
  const configFile = join(dir, 'prometheus.yml')
  const dataDir = join(dir, 'data')
  const rulesDir = join(dir, 'rules')
  const targetsDir = join(dir, 'targets')
  const target = (p: number) => ({static_configs: [{targets: [`${LOOPBACK}:${p}`]}]})
  const config = {
    // Short intervals: tests and the demo wait for scrapes and rule evaluations.
    global: {scrape_interval: '5s', evaluation_interval: RULE_EVALUATION_INTERVAL},
    // With the monitor, the project's alert rules; features and tests drop more here and reload via /-/reload.
    rule_files: [join(rulesDir, '*.yml')],
    ...(alertmanagerPort === undefined ? {} : {alerting: {alertmanagers: [target(alertmanagerPort)]}}),
    scrape_configs: [
      {job_name: 'prometheus', ...target(port)},
      ...(alertmanagerPort === undefined ? [] : [{job_name: 'alertmanager', ...target(alertmanagerPort)}]),
      // Scrape targets added at run time (the event monitor, test targets): one JSON file each in targets/.
      // The monitor's file names its job (cim-monitor), as the production config does.
      {
        job_name: 'cim',
        scrape_interval: MONITOR_SCRAPE_INTERVAL,
        scrape_timeout: MONITOR_SCRAPE_INTERVAL,
        file_sd_configs: [{files: [join(targetsDir, '*.json')], refresh_interval: '5s'}],
      },
    ],
  }
  const files: Array<{path: string; text: string}> = []
  if (monitorPort !== undefined) {
    files.push({path: join(targetsDir, `${MONITOR_JOB}.json`), text: scrapeTargetText(`${LOOPBACK}:${monitorPort}`, {job: MONITOR_JOB, component: 'event-monitor'})})
    if (input.alertRules !== undefined) files.push({path: join(rulesDir, 'cim.yml'), text: input.alertRules})
  }
  return {
    process: {
      name: 'prometheus',
      component: 'prometheus',
      url: `http://${LOOPBACK}:${port}`,
      port,
      configFile,
      dataDir,
      logFile: join(dir, 'prometheus.log'),
      argv: [
        binaryOf(input, 'prometheus'),
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=${LOOPBACK}:${port}`,
        '--web.enable-lifecycle',
        ...(input.prometheusHistory ? [`--storage.tsdb.retention.time=${input.prometheusHistory.retention}`] : []),
      ],
    },
    configText: stringify(config),
    dirs: [dir, dataDir, rulesDir, targetsDir],
    files,
    ...(input.prometheusHistory ? {copies: [{from: input.prometheusHistory.blocksDir, to: dataDir}]} : {}),
  }
}

/**
 * The event monitor: this package's `cimops monitor`, pointed at the sandbox's NATS by a natscli
 * context file (its config file, on its command line like every sandbox process's), and kept away
 * from the user's contexts by a cimops config of its own (processEnv).
 */
function planMonitor(input: SandboxPlanInput, port: number, natsUrls: string[]): PlannedProcess {
  if (!input.cliCommand || input.cliCommand.length === 0) throw new Error('planSandbox: no CLI command for the monitor')
  const dir = join(input.stateDir, 'monitor')
  const configFile = join(dir, 'nats-context.json')
  const natsContext = {description: 'the sandbox NATS, for the sandbox event monitor', url: natsUrls.join(',')}
  return {
    process: {
      name: 'monitor',
      component: 'monitor',
      url: `http://${LOOPBACK}:${port}`,
      port,
      configFile,
      dataDir: dir,
      logFile: join(dir, 'monitor.log'),
      argv: [
        ...input.cliCommand,
        'monitor',
        `--listen=${LOOPBACK}:${port}`,
        `--nats-context=${configFile}`,
        `--stream=${DEFAULTS.streams.events}`,
        `--refresh=${MONITOR_REFRESH}`,
      ],
    },
    configText: `${JSON.stringify(natsContext, null, 2)}\n`,
    dirs: [dir],
    files: [{path: monitorConfigFile(dir), text: '# The sandbox event monitor reads no cimops context: everything it needs is on its command line.\ncontexts: {}\n'}],
  }
}

function monitorConfigFile(dir: string): string {
  return join(dir, 'cimops.yaml')
}

/**
 * The environment a sandbox process starts with: as is for the servers; for the monitor, without the
 * variables that would point it at another NATS or context, and with its own (empty) cimops config.
 */
export function processEnv(proc: Pick<SandboxProcess, 'component' | 'dataDir'>, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv | undefined {
  if (proc.component !== 'monitor') return undefined
  const {CIMOPS_CONTEXT: _context, NATS_URL: _url, NATS_CONTEXT: _natsContext, NATS_CREDS: _creds, NATS_USER: _user, NATS_PASSWORD: _password, NATS_TOKEN: _token, ...rest} = env
  return {...rest, CIMOPS_CONFIG: monitorConfigFile(proc.dataDir), NO_COLOR: '1'}
}

function planAlertmanager(input: SandboxPlanInput, port: number): PlannedProcess {
  const dir = join(input.stateDir, 'alertmanager')
  const configFile = join(dir, 'alertmanager.yml')
  const dataDir = join(dir, 'data')
  // One receiver without integrations: alerts are kept and served by the API, nothing is sent anywhere.
  const config = {
    global: {resolve_timeout: '5m'},
    route: {receiver: 'null'},
    receivers: [{name: 'null'}],
  }
  return {
    process: {
      name: 'alertmanager',
      component: 'alertmanager',
      url: `http://${LOOPBACK}:${port}`,
      port,
      configFile,
      dataDir,
      logFile: join(dir, 'alertmanager.log'),
      argv: [
        binaryOf(input, 'alertmanager'),
        `--config.file=${configFile}`,
        `--storage.path=${dataDir}`,
        `--web.listen-address=${LOOPBACK}:${port}`,
        // Empty: no gossip port, so nothing listens beyond the one web port.
        '--cluster.listen-address=',
      ],
    },
    configText: stringify(config),
    dirs: [dir, dataDir],
  }
}

function binaryOf(input: SandboxPlanInput, component: ServerComponent): string {
  const binary = input.binaries[component]
  if (!binary) throw new Error(`planSandbox: no binary for ${component}`)
  return binary
}
