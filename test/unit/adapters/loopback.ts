import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface Recorded {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

export type Route = (req: IncomingMessage, res: ServerResponse, body: string) => void

export interface Loopback {
  url: string
  /** Every request received, in order. */
  requests: Recorded[]
  close(): Promise<void>
}

/** A real HTTP server on 127.0.0.1 answering by path (query string ignored); unknown paths get 404. */
export async function startLoopback(routes: Record<string, Route>): Promise<Loopback> {
  const requests: Recorded[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk))
    req.on('end', () => {
      requests.push({method: req.method ?? '', url: req.url ?? '', headers: req.headers, body})
      const route = routes[new URL(req.url ?? '/', 'http://x').pathname]
      if (route) route(req, res, body)
      else send(res, 404, 'text/plain', '404 page not found')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {'Content-Type': contentType})
  res.end(body)
}

export function json(status: number, body: unknown): Route {
  return (_req, res) => send(res, status, 'application/json', JSON.stringify(body))
}

export function text(status: number, body: string): Route {
  return (_req, res) => send(res, status, 'text/plain; charset=utf-8', body)
}

/** Accepts the request and never answers: the client's timeout has to fire. */
export const neverAnswer: Route = () => {}

/** A port that was free a moment ago and has nothing listening now. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
