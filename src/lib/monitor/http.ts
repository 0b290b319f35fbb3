/** The monitor's HTTP endpoints: /metrics, /healthz (process up) and /readyz (why not ready, if not). */
import type {Server} from 'node:http'

import {OperationError} from '../core/errors.js'
import type {MonitorMetrics} from './metrics.js'

export type Readiness = {ready: true} | {ready: false; reason: string}

/**
 * The one exposition format served, whatever the scraper's Accept: Prometheus 3 fails a scrape without a
 * Content-Type it knows, and lists this one (after OpenMetrics and text 1.0.0) in every Accept it sends.
 * A scraper parses by the answer's Content-Type, so one that prefers another format still reads it, as
 * from Prometheus's own client libraries, which answer text 0.0.4 when they do not serve what is asked.
 */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export async function serve(listen: {host: string; port: number}, metrics: MonitorMetrics, readiness: () => Readiness): Promise<Server> {
  const {createServer} = await import('node:http')
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, {Allow: 'GET, HEAD'}).end()
      return
    }
    if (path === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, {'Content-Type': EXPOSITION_CONTENT_TYPE}).end(text))
        .catch((error: unknown) => res.writeHead(500, {'Content-Type': 'text/plain'}).end(`${error instanceof Error ? error.message : String(error)}\n`))
    } else if (path === '/healthz') {
      res.writeHead(200, {'Content-Type': 'text/plain'}).end('ok\n')
    } else if (path === '/readyz') {
      const state = readiness()
      res.writeHead(state.ready ? 200 : 503, {'Content-Type': 'text/plain'}).end(state.ready ? 'ready\n' : `not ready: ${state.reason}\n`)
    } else {
      res.writeHead(404, {'Content-Type': 'text/plain'}).end('not found: try /metrics, /healthz, /readyz\n')
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new OperationError(`cannot listen on ${listen.host}:${listen.port}`, error.code === 'EADDRINUSE' ? 'the address is in use' : error.message, {hint: 'pass another --listen address'})),
    )
    server.listen(listen.port, listen.host, () => resolve())
  })
  return server
}

export async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}
