/**
 * Stands in for PagerDuty and Slack in tests: a real HTTP server on 127.0.0.1 that records every request
 * and answers from a per-path script (e.g. 429, 500, then the default), so retries can be counted.
 */
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface ReceivedRequest {
  path: string
  body: string
  json?: unknown
  status: number
}

export interface Receiver {
  url: string
  requests: ReceivedRequest[]
  /** Requests to paths starting with this prefix. */
  to(prefix: string): ReceivedRequest[]
  /** The next answers for paths starting with `prefix`, consumed in order; then the default. */
  script(prefix: string, statuses: number[]): void
  /** Every request to `prefix` gets this status until cleared (undefined). */
  always(prefix: string, status: number | undefined): void
  close(): Promise<void>
}

/** PagerDuty answers 202 JSON; Slack answers 200 `ok`. */
function defaultAnswer(path: string): [number, string, string] {
  return path.startsWith('/v2/enqueue')
    ? [202, 'application/json', JSON.stringify({status: 'success', message: 'Event processed'})]
    : [200, 'text/html', 'ok']
}

export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = []
  const scripts = new Map<string, number[]>()
  const fixed = new Map<string, number>()
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk))
    req.on('end', () => {
      const path = req.url ?? '/'
      const prefix = [...fixed.keys(), ...scripts.keys()].find((p) => path.startsWith(p))
      const scripted = prefix === undefined ? undefined : (fixed.get(prefix) ?? scripts.get(prefix)?.shift())
      const [okStatus, type, text] = defaultAnswer(path)
      const status = scripted ?? okStatus
      let json: unknown
      try {
        json = JSON.parse(body)
      } catch {
        json = undefined
      }
      requests.push({path, body, json, status})
      res.writeHead(status, {'Content-Type': status === okStatus ? type : 'text/plain', ...(status === 429 ? {'Retry-After': '0'} : {})})
      res.end(status === okStatus ? text : status === 400 ? 'invalid_payload' : 'try again')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    to: (prefix) => requests.filter((r) => r.path.startsWith(prefix)),
    script: (prefix, statuses) => void scripts.set(prefix, [...statuses]),
    always: (prefix, status) => void (status === undefined ? fixed.delete(prefix) : fixed.set(prefix, status)),
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
