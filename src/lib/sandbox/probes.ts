import {connect as tcpConnect} from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'
import * as z from 'zod'
import {formatMs} from '../core/errors.js'
import {SANDBOX_SITES, type SandboxProcess, type SandboxState} from './types.js'

export interface ProbeResult {
  healthy: boolean
  /** `ready`, or what is missing: `healthz: ...`, `routed to 1/2 peers`, ... */
  detail: string
  /** nats cluster nodes only: the other nodes this one has a route to. */
  peers?: number
}

/** The parts of the sandbox a probe needs to know what "ready" means. */
export type ProbeContext = Pick<SandboxState, 'cluster' | 'jetstream'>

// nats-server monitor endpoints; only the fields used. 2.9.10 answers /healthz with 503 and
// {"status":"unavailable","error":...} until JetStream has contact with a meta leader.
const healthzSchema = z.object({status: z.string(), error: z.string().optional()})
// /healthz gives the server's listeners 1 ms to be found ready. On a loaded machine that budget can
// run out before the first look, and the error then names no listener: it says nothing about the
// server, so it is asked again before being judged. A listener that is not up is named.
const UNDECIDED_HEALTHZ = /^failed to be ready for connections after [^:]*(:\s*)?$/
const HEALTHZ_TRIES = 3
const HEALTHZ_RETRY_MS = 50
// Since 2.10 routes are pooled (3 per peer by default, plus one per pinned account): a node of a
// 3-node cluster counts 8 of them. A peer is routed when any route names it; 2.9 has only remote_id.
const routezSchema = z.object({routes: z.array(z.object({remote_id: z.string(), remote_name: z.string().optional()})).nullish()})
const jszSchema = z.object({meta_cluster: z.object({leader: z.string().optional()}).optional()})
const leafzSchema = z.object({leafnodes: z.number().int()})
const varzSchema = z.object({server_id: z.string().min(1)})

/** One readiness check of one process, bounded by timeoutMs per network call. */
export async function probeProcess(proc: SandboxProcess, context: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  try {
    switch (proc.component) {
      case 'nats':
        return await probeNats(proc, context, timeoutMs)
      case 'prometheus':
        return await probeHttp(`${proc.url}/-/ready`, timeoutMs)
      case 'alertmanager':
        return await probeHttp(`${proc.url}/api/v2/status`, timeoutMs)
      case 'monitor':
        return await probeMonitor(proc.url, timeoutMs)
    }
  } catch (error) {
    return {healthy: false, detail: describeFailure(error, timeoutMs)}
  }
}

async function probeNats(proc: SandboxProcess, context: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  const monitor = proc.monitorUrl
  if (!monitor) return {healthy: false, detail: 'no monitor URL recorded'}
  const node = await probeNatsNode(proc, monitor, context, timeoutMs)
  if (!node.healthy || proc.site !== SANDBOX_SITES.dr) return node
  // A DR node is ready once its leaf connection to the primary site is up: the mirror needs it.
  const leafs = leafzSchema.parse(await getJson(`${monitor}/leafz`, timeoutMs)).leafnodes
  if (leafs === 0) return {...node, healthy: false, detail: `${node.detail}, no leaf connection to the primary site`}
  return {...node, detail: `${node.detail}, leaf of the primary site`}
}

async function probeNatsNode(proc: SandboxProcess, monitor: string, context: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  const health = await natsHealthz(monitor, timeoutMs)
  if (health.status !== 'ok') return {healthy: false, detail: `healthz: ${health.error ?? health.status}`}
  await checkTcpPort(proc.port, timeoutMs)
  if (context.cluster === 1) return {healthy: true, detail: 'ready'}

  const routes = routezSchema.parse(await getJson(`${monitor}/routez`, timeoutMs)).routes ?? []
  const peers = new Set(routes.map((route) => route.remote_name ?? route.remote_id)).size
  const expectedPeers = context.cluster - 1
  if (peers < expectedPeers) return {healthy: false, detail: `routed to ${peers}/${expectedPeers} peers`, peers}
  if (!context.jetstream) return {healthy: true, detail: `ready, routed to ${peers} peers`, peers}

  const leader = jszSchema.parse(await getJson(`${monitor}/jsz`, timeoutMs)).meta_cluster?.leader
  if (!leader) return {healthy: false, detail: `routed to ${peers} peers, no JetStream meta leader`, peers}
  return {healthy: true, detail: `ready, routed to ${peers} peers, meta leader ${leader}`, peers}
}

async function natsHealthz(monitor: string, timeoutMs: number): Promise<z.infer<typeof healthzSchema>> {
  for (let attempt = 1; ; attempt++) {
    const health = healthzSchema.parse(await getJson(`${monitor}/healthz`, timeoutMs))
    if (health.status === 'ok' || attempt === HEALTHZ_TRIES || !UNDECIDED_HEALTHZ.test(health.error ?? '')) return health
    await sleep(HEALTHZ_RETRY_MS)
  }
}

/** The id a running nats-server reports (the same its clients see in INFO). */
export async function natsServerId(proc: SandboxProcess, timeoutMs: number): Promise<string> {
  if (!proc.monitorUrl) throw new Error(`no monitor URL recorded for ${proc.name}`)
  return varzSchema.parse(await getJson(`${proc.monitorUrl}/varz`, timeoutMs)).server_id
}

/**
 * The event monitor is up once it serves /healthz (it may start before NATS, or before the stream
 * exists); what it waits for, if anything, is the detail, from /readyz.
 */
async function probeMonitor(url: string, timeoutMs: number): Promise<ProbeResult> {
  const health = await probeHttp(`${url}/healthz`, timeoutMs)
  if (!health.healthy) return health
  const response = await fetch(`${url}/readyz`, {signal: AbortSignal.timeout(timeoutMs)})
  const text = (await response.text()).trim()
  return {healthy: true, detail: response.ok ? 'ready' : text}
}

async function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  const response = await fetch(url, {signal: AbortSignal.timeout(timeoutMs)})
  await response.body?.cancel()
  const path = new URL(url).pathname
  return response.ok ? {healthy: true, detail: 'ready'} : {healthy: false, detail: `${path}: HTTP ${response.status}`}
}

/** JSON body of any status: nats answers /healthz with 503 and a JSON reason. */
async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, {signal: AbortSignal.timeout(timeoutMs)})
  return response.json()
}

function checkTcpPort(port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({host: '127.0.0.1', port, timeout: timeoutMs})
    socket.once('connect', () => {
      socket.destroy()
      resolve()
    })
    socket.once('timeout', () => {
      socket.destroy()
      reject(new Error(`connect to port ${port} timed out`))
    })
    socket.once('error', reject)
  })
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `timed out after ${formatMs(timeoutMs)}`
  if (error instanceof z.ZodError) return `unexpected answer: ${error.issues[0]?.message ?? 'bad shape'}`
  // fetch wraps the socket error (ECONNREFUSED ...) in `cause`; net errors carry the code themselves.
  const {code, message} = ((error as {cause?: unknown}).cause ?? error) as {code?: string; message?: string}
  return code ?? message ?? String(error)
}
