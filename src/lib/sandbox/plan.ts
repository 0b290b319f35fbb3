import {join} from 'node:path'
import {stringify} from 'yaml'
import type {SandboxComponent, SandboxProcess} from './types.js'

/** A process to start: everything but its pid, plus what to create on disk first. */
export interface PlannedProcess {
  process: Omit<SandboxProcess, 'pid'>
  configText: string
  dirs: string[]
}

export interface SandboxPlanInput {
  /** Absolute. */
  stateDir: string
  cluster: 1 | 3
  jetstream: boolean
  components: SandboxComponent[]
  binaries: Partial<Record<SandboxComponent, string>>
  /** At least portsNeeded() free loopback ports. */
  ports: number[]
}

const LOOPBACK = '127.0.0.1'
const NATS_CLUSTER_NAME = 'cimops-sandbox'

export function portsNeeded(components: SandboxComponent[], cluster: 1 | 3): number {
  // Per nats node: client + monitor (+ route port when clustered).
  const nats = components.includes('nats') ? cluster * (cluster === 3 ? 3 : 2) : 0
  return nats + (components.includes('prometheus') ? 1 : 0) + (components.includes('alertmanager') ? 1 : 0)
}

/** Names, ports, paths, argv and configs of every process; pure, so a failed start can be re-planned with new ports. */
export function planSandbox(input: SandboxPlanInput): PlannedProcess[] {
  const ports = [...input.ports]
  const takePort = (): number => {
    const port = ports.shift()
    if (port === undefined) throw new Error('planSandbox: not enough ports')
    return port
  }

  const nats = input.components.includes('nats') ? planNatsNodes(input, takePort) : []
  const alertmanager = input.components.includes('alertmanager') ? planAlertmanager(input, takePort()) : undefined
  const prometheus = input.components.includes('prometheus')
    ? planPrometheus(input, takePort(), alertmanager?.process.port)
    : undefined
  return [...nats, ...(prometheus ? [prometheus] : []), ...(alertmanager ? [alertmanager] : [])]
}

function planNatsNodes(input: SandboxPlanInput, takePort: () => number): PlannedProcess[] {
  const nodes = Array.from({length: input.cluster}, (_, i) => ({
    name: `nats-${i + 1}`,
    port: takePort(),
    monitorPort: takePort(),
    clusterPort: input.cluster === 3 ? takePort() : undefined,
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
        configFile,
        dataDir,
        logFile: join(dir, 'nats.log'),
        argv: [binaryOf(input, 'nats'), '-c', configFile],
      },
      configText: natsConfig({...node, storeDir: input.jetstream ? dataDir : undefined, routePorts}),
      dirs: [dir, dataDir],
    }
  })
}

interface NatsConfigInput {
  name: string
  port: number
  monitorPort: number
  storeDir?: string
  clusterPort?: number
  routePorts: number[]
}

function natsConfig(node: NatsConfigInput): string {
  const lines = [
    `server_name: ${JSON.stringify(node.name)}`,
    `listen: "${LOOPBACK}:${node.port}"`,
    `http: "${LOOPBACK}:${node.monitorPort}"`,
  ]
  if (node.storeDir) {
    // Explicit limits, so account memory/storage percentages mean something in health checks.
    lines.push('jetstream {', `  store_dir: ${JSON.stringify(node.storeDir)}`, '  max_mem: 256MB', '  max_file: 2GB', '}')
  }
  if (node.clusterPort !== undefined) {
    const routes = node.routePorts.map((port) => `"nats-route://${LOOPBACK}:${port}"`).join(', ')
    lines.push(
      'cluster {',
      `  name: "${NATS_CLUSTER_NAME}"`,
      `  listen: "${LOOPBACK}:${node.clusterPort}"`,
      `  routes: [${routes}]`,
      '}',
    )
  }
  return lines.join('\n') + '\n'
}

function planPrometheus(input: SandboxPlanInput, port: number, alertmanagerPort?: number): PlannedProcess {
  const dir = join(input.stateDir, 'prometheus')
  const configFile = join(dir, 'prometheus.yml')
  const dataDir = join(dir, 'data')
  const rulesDir = join(dir, 'rules')
  const targetsDir = join(dir, 'targets')
  const target = (p: number) => ({static_configs: [{targets: [`${LOOPBACK}:${p}`]}]})
  const config = {
    // Short intervals: tests wait for scrapes and rule evaluations.
    global: {scrape_interval: '5s', evaluation_interval: '5s'},
    // Empty for now; features drop rule files here and reload via /-/reload.
    rule_files: [join(rulesDir, '*.yml')],
    ...(alertmanagerPort === undefined ? {} : {alerting: {alertmanagers: [target(alertmanagerPort)]}}),
    scrape_configs: [
      {job_name: 'prometheus', ...target(port)},
      ...(alertmanagerPort === undefined ? [] : [{job_name: 'alertmanager', ...target(alertmanagerPort)}]),
      // Scrape targets added at run time (the event monitor, test targets): one JSON file each in targets/.
      {job_name: 'cim', file_sd_configs: [{files: [join(targetsDir, '*.json')], refresh_interval: '5s'}]},
    ],
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
      ],
    },
    configText: stringify(config),
    dirs: [dir, dataDir, rulesDir, targetsDir],
  }
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

function binaryOf(input: SandboxPlanInput, component: SandboxComponent): string {
  const binary = input.binaries[component]
  if (!binary) throw new Error(`planSandbox: no binary for ${component}`)
  return binary
}
