import {cp, readFile, rm, writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {makeDirectories} from '../core/directories.js'
import {formatMs, InterruptedError, OperationError, UsageError} from '../core/errors.js'
import {untilAborted} from '../core/sleep.js'
import {findServerBinary, serverBinaryVersion, serverSetFrom} from './binaries.js'
import {planSandbox, portsNeeded, type PlannedProcess, processEnv} from './plan.js'
import {freeLoopbackPorts} from './ports.js'
import {natsServerId, probeProcess, type ProbeContext} from './probes.js'
import {isProcessAlive, readLogTail, spawnDetached, spawnTied, terminateProcess} from './processes.js'
import {readSandboxState, removeSandboxFiles, writeSandboxState} from './state.js'
import {
  SANDBOX_COMPONENTS,
  SANDBOX_SITES,
  type ProcessStatus,
  type PrometheusHistory,
  type SandboxComponent,
  type SandboxOptions,
  type SandboxProcess,
  type SandboxSite,
  type SandboxState,
  type ServerComponent,
  type ServerSet,
} from './types.js'
import {packageRoot} from '../core/paths.js'

type Log = (line: string) => void

const DEFAULT_READY_TIMEOUT_MS = 20_000
/**
 * How long a new cluster may refuse a replicated stream ("no suitable peers for placement") once every node is
 * ready: CI's loaded machine saw a 2.10.27 cluster refuse for more than 20 s. Waited only while it refuses.
 */
const PLACEMENT_TIMEOUT_MS = 60_000
const DEFAULT_STATUS_TIMEOUT_MS = 2000
const PROBE_INTERVAL_MS = 100
/** Per probe while waiting: short, so a slow answer does not eat the whole deadline. */
const MAX_PROBE_TIMEOUT_MS = 1000

const ignoreLog: Log = () => {}

/** This package's CLI and alert rules, found when a sandbox starts rather than when this module loads. */
const cliEntry = (): string => join(packageRoot(), 'bin/run.js')
const alertRules = (): string => join(packageRoot(), 'deploy/prometheus/rules/cim.yml')

interface StartSettings {
  stateDir: string
  cluster: 1 | 3
  sites: 1 | 2
  leafLinkPort?: number
  jetstream: boolean
  jetstreamMaxFileBytes?: number
  components: SandboxComponent[]
  servers: ServerSet
  binaries: Partial<Record<ServerComponent, string>>
  cliCommand: string[]
  alertRules?: string
  prometheusHistory?: PrometheusHistory
  readyTimeoutMs: number
  tiedToParent: boolean
  signal?: AbortSignal
  log: Log
}

/**
 * Start the sandbox and wait until every server is ready. When one is already recorded and
 * partly alive, nothing is duplicated: dead members are restarted with their recorded command.
 */
export async function sandboxUp(opts: SandboxOptions): Promise<{state: SandboxState; alreadyRunning: boolean}> {
  const stateDir = resolve(opts.stateDir)
  const log = opts.log ?? ignoreLog
  const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS

  const existing = await readSandboxState(stateDir)
  if (existing) {
    const dead = existing.processes.filter((proc) => !isProcessAlive(proc))
    if (dead.length < existing.processes.length) {
      if (dead.length > 0) log(`restarting ${dead.map((proc) => proc.name).join(', ')}`)
      await relaunch(existing, dead, readyTimeoutMs, log)
      return {state: existing, alreadyRunning: true}
    }
    log(`the sandbox recorded in ${stateDir} is not running; starting a fresh one`)
  }

  const components = opts.components ?? [...SANDBOX_COMPONENTS]
  const servers = opts.servers ?? serverSetFrom()
  // Before anything starts: a missing binary should not leave half a sandbox behind.
  const binaries = Object.fromEntries(
    components.filter(isServer).map((component) => [component, opts.binaries?.[component] ?? findServerBinary(component, process.env, servers)]),
  ) as Partial<Record<ServerComponent, string>>
  const settings: StartSettings = {
    stateDir,
    cluster: opts.cluster ?? 1,
    sites: opts.sites ?? 1,
    ...(opts.leafLinkPort === undefined ? {} : {leafLinkPort: opts.leafLinkPort}),
    jetstream: opts.jetstream ?? true,
    ...(opts.jetstreamMaxFileBytes === undefined ? {} : {jetstreamMaxFileBytes: opts.jetstreamMaxFileBytes}),
    components,
    servers,
    binaries,
    cliCommand: [process.execPath, cliEntry()],
    alertRules: components.includes('monitor') && components.includes('prometheus') ? await readAlertRules(log) : undefined,
    ...(opts.prometheusHistory ? {prometheusHistory: opts.prometheusHistory} : {}),
    readyTimeoutMs,
    tiedToParent: opts.tiedToParent === true,
    ...(opts.signal ? {signal: opts.signal} : {}),
    log,
  }
  try {
    return {state: await startFresh(settings), alreadyRunning: false}
  } catch (error) {
    if (!isPortConflict(error)) throw error
    log('a port was taken by another program meanwhile; retrying with new ports')
    return {state: await startFresh(settings), alreadyRunning: false}
  }
}

async function startFresh(settings: StartSettings): Promise<SandboxState> {
  const {stateDir, cluster, sites, jetstream, components, signal} = settings
  await removeSandboxFiles(stateDir)
  const ports = await freeLoopbackPorts(portsNeeded(components, cluster, sites))
  const plan = planSandbox({...settings, ports})
  await writePlan(plan)

  const state: SandboxState = {
    version: 1,
    stateDir,
    startedAt: new Date().toISOString(),
    cluster,
    ...(sites === 2 ? {sites} : {}),
    servers: settings.servers,
    jetstream,
    processes: [],
    natsServers: natsUrls(plan, (site) => site !== SANDBOX_SITES.dr),
    ...(sites === 2 ? {drNatsServers: natsUrls(plan, (site) => site === SANDBOX_SITES.dr)} : {}),
    prometheusUrl: urlOf(plan, 'prometheus'),
    alertmanagerUrl: urlOf(plan, 'alertmanager'),
    ...(components.includes('monitor') ? {eventMonitorUrl: urlOf(plan, 'monitor')} : {}),
  }
  try {
    for (const {process: proc} of plan) {
      const spawnServer = settings.tiedToParent ? spawnTied : spawnDetached
      state.processes.push({...proc, pid: spawnServer(proc.name, proc.argv, proc.logFile, processEnv(proc))})
      settings.log(`started ${proc.name} on ${proc.url}`)
    }
    // Recorded before waiting, so `down` can stop them even if this process dies meanwhile.
    await writeSandboxState(state)
    await untilAborted(waitAllReady(state, state.processes, settings.readyTimeoutMs, settings.log), signal)
    // A cluster that just elected its meta leader may not know its peers' resources yet (2.10 refuses an R3
    // stream for a moment): ready means a replicated stream can be placed on every site.
    if (cluster > 1 && jetstream) {
      const {waitForPlacement} = await import('../adapters/nats/seed-setup.js')
      for (const servers of [state.natsServers, state.drNatsServers ?? []].filter((urls) => urls.length > 0)) {
        await untilAborted(waitForPlacement(servers, cluster, Math.max(settings.readyTimeoutMs, PLACEMENT_TIMEOUT_MS)), signal)
      }
    }
    // Asked only of binaries that run as servers: one that is not might not answer --version either.
    const versions = await binaryVersions(settings.binaries)
    for (const proc of state.processes) {
      const version = proc.component === 'monitor' ? undefined : versions[proc.component]
      if (version) proc.version = version
    }
    await writeSandboxState(state)
    await recordServerIds(state, state.processes)
    // Interrupted at the very end: still nothing is left that looks like a sandbox someone wanted.
    if (signal?.aborted) throw signal.reason
    return state
  } catch (error) {
    await Promise.all(state.processes.map((proc) => terminateProcess(proc)))
    // Logs stay for the error's hint; the next start clears them.
    await rm(join(stateDir, 'state.json'), {force: true})
    if (signal?.aborted) throw new InterruptedError('sandbox up was interrupted', {hint: `the servers it had started are stopped; their logs are in ${stateDir}`})
    throw error
  }
}

async function writePlan(plan: PlannedProcess[]): Promise<void> {
  for (const {process: proc, configText, dirs, files, copies} of plan) {
    for (const dir of dirs) await makeDirectories(dir)
    await writeFile(proc.configFile, configText)
    for (const file of files ?? []) await writeFile(file.path, file.text)
    for (const {from, to} of copies ?? []) await cp(from, to, {recursive: true})
  }
}

async function binaryVersions(binaries: Partial<Record<ServerComponent, string>>): Promise<Partial<Record<ServerComponent, string>>> {
  const entries = await Promise.all(Object.entries(binaries).map(async ([component, path]) => [component, await serverBinaryVersion(path)] as const))
  return Object.fromEntries(entries.filter(([, version]) => version !== undefined))
}

function isServer(component: SandboxComponent): component is ServerComponent {
  return component !== 'monitor'
}

/** The project's alert rules for the sandbox's Prometheus; without them (a trimmed install) it runs with none. */
async function readAlertRules(log: Log): Promise<string | undefined> {
  try {
    return await readFile(alertRules(), 'utf8')
  } catch (error) {
    log(`no alert rules loaded: cannot read ${alertRules()} (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
    return undefined
  }
}

function natsUrls(plan: PlannedProcess[], ofSite: (site: SandboxSite | undefined) => boolean): string[] {
  return plan.filter((p) => p.process.component === 'nats' && ofSite(p.process.site)).map((p) => p.process.url)
}

function urlOf(plan: PlannedProcess[], component: SandboxComponent): string | undefined {
  return plan.find((p) => p.process.component === component)?.process.url
}

function isPortConflict(error: unknown): boolean {
  return error instanceof OperationError && /address already in use/i.test(error.why)
}

/** Stop every recorded process and remove the sandbox's files. Nothing running is not an error. */
export async function sandboxDown(stateDir: string): Promise<{stopped: string[]}> {
  const dir = resolve(stateDir)
  const state = await readSandboxState(dir)
  const alive = state?.processes.filter((proc) => isProcessAlive(proc)) ?? []
  await Promise.all(alive.map((proc) => terminateProcess(proc)))
  await removeSandboxFiles(dir)
  return {stopped: alive.map((proc) => proc.name)}
}

export async function sandboxStatus(
  stateDir: string,
  timeoutMs = DEFAULT_STATUS_TIMEOUT_MS,
): Promise<{running: boolean; state?: SandboxState; processes: ProcessStatus[]}> {
  const state = await readSandboxState(resolve(stateDir))
  if (!state) return {running: false, processes: []}
  const processes = await Promise.all(state.processes.map((proc) => statusOf(proc, state, timeoutMs)))
  return {running: processes.some((proc) => proc.alive), state, processes}
}

async function statusOf(proc: SandboxProcess, context: ProbeContext, timeoutMs: number): Promise<ProcessStatus> {
  if (!isProcessAlive(proc)) return {...proc, alive: false, healthy: false, detail: 'not running'}
  return {...proc, alive: true, ...(await probeProcess(proc, context, timeoutMs))}
}

/** Fault injection: signal one process (its whole group) and wait until it is gone. */
export async function stopProcess(state: SandboxState, name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await terminateProcess(findProcess(await latestState(state), name), signal)
}

/**
 * Start a process again with its recorded command line and ports, and wait until it is ready.
 * The new pid is recorded in state.json and in the given state object.
 */
export async function restartProcess(state: SandboxState, name: string, readyTimeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<void> {
  const current = await latestState(state)
  const proc = findProcess(current, name)
  await terminateProcess(proc)
  await relaunch(current, [proc], readyTimeoutMs, ignoreLog)
  const callerCopy = state.processes.find((candidate) => candidate.name === name)
  if (callerCopy) Object.assign(callerCopy, {pid: proc.pid, serverId: proc.serverId})
}

/** state.json is the truth: the caller's copy may predate a restart. */
async function latestState(state: SandboxState): Promise<SandboxState> {
  return (await readSandboxState(state.stateDir)) ?? state
}

function findProcess(state: SandboxState, name: string): SandboxProcess {
  const proc = state.processes.find((candidate) => candidate.name === name)
  if (proc) return proc
  const names = state.processes.map((candidate) => candidate.name).join(', ')
  throw new UsageError(`no sandbox process named ${name}`, `the sandbox has ${names || 'no processes'}`)
}

/** Spawn the given members of `state` again (updating their pids), record, and wait until ready. */
async function relaunch(state: SandboxState, procs: SandboxProcess[], readyTimeoutMs: number, log: Log): Promise<void> {
  if (procs.length === 0) return
  for (const proc of procs) proc.pid = spawnDetached(proc.name, proc.argv, proc.logFile, processEnv(proc))
  await recordProcesses(state, procs)
  await waitAllReady(state, procs, readyTimeoutMs, log)
  await recordServerIds(state, procs)
}

/**
 * What `sandbox seed` compares the server it reaches with: a port can be reused by another server,
 * a server id cannot (nats-server draws a new one at each start).
 */
async function recordServerIds(state: SandboxState, procs: SandboxProcess[]): Promise<void> {
  const nats = procs.filter((proc) => proc.component === 'nats')
  if (nats.length === 0) return
  await Promise.all(nats.map(async (proc) => (proc.serverId = await natsServerId(proc, MAX_PROBE_TIMEOUT_MS))))
  await recordProcesses(state, nats)
}

/** The state.json writes in progress, per sandbox: one at a time. */
const recording = new Map<string, Promise<void>>()

/**
 * Records the pids and server ids of `procs` in state.json, leaving every other entry as the file has it: restarts
 * may run side by side (a test brings two nodes back at once), and a whole-state write by one would drop the
 * other's new pid, leaving a server that `down` cannot stop.
 */
function recordProcesses(state: SandboxState, procs: SandboxProcess[]): Promise<void> {
  const previous = recording.get(state.stateDir) ?? Promise.resolve()
  const next = previous.catch(() => undefined).then(async () => {
    const latest = (await readSandboxState(state.stateDir)) ?? state
    for (const proc of procs) {
      const entry = latest.processes.find((candidate) => candidate.name === proc.name)
      if (entry) Object.assign(entry, {pid: proc.pid, serverId: proc.serverId})
    }
    await writeSandboxState(latest)
  })
  recording.set(state.stateDir, next)
  return next
}

async function waitAllReady(context: ProbeContext, procs: SandboxProcess[], timeoutMs: number, log: Log): Promise<void> {
  const deadline = Date.now() + timeoutMs
  // The first failure ends the other waits: the caller is about to stop everything.
  const stop = new AbortController()
  try {
    await Promise.all(
      procs.map(async (proc) => {
        await waitReady(proc, context, deadline, stop.signal)
        log(`${proc.name} ready`)
      }),
    )
  } finally {
    stop.abort()
  }
}

async function waitReady(proc: SandboxProcess, context: ProbeContext, deadline: number, stop: AbortSignal): Promise<void> {
  const startedWaiting = Date.now()
  while (!stop.aborted) {
    if (!isProcessAlive(proc)) throw await notReady(proc, 'exited')
    const probeTimeout = Math.max(100, Math.min(MAX_PROBE_TIMEOUT_MS, deadline - Date.now()))
    const probe = await probeProcess(proc, context, probeTimeout)
    if (probe.healthy) return
    if (Date.now() >= deadline) {
      throw await notReady(proc, `not ready after ${formatMs(Date.now() - startedWaiting)} (${probe.detail})`)
    }
    await sleep(PROBE_INTERVAL_MS)
  }
}

async function notReady(proc: SandboxProcess, why: string): Promise<OperationError> {
  const tail = await readLogTail(proc.logFile)
  const logLines = tail.length > 0 ? `last log lines: ${tail.join(' | ')}` : 'its log is empty'
  return new OperationError(`sandbox ${proc.name} did not start`, `${why} at ${proc.url}; ${logLines}`, {
    hint: `full log in ${proc.logFile}`,
    system: proc.component,
    address: proc.url,
  })
}
