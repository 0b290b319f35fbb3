import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {inspect} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {z} from 'zod'
import {ApiError, ConfigError, ParseError, TimeoutError, UnreachableError} from '../../../src/lib/core/errors.js'
import {createHttpClient} from '../../../src/lib/adapters/http.js'
import {closedPort, json, neverAnswer, send, startLoopback, text, type Loopback} from './loopback.js'

const Answer = z.object({answer: z.number()})
const TOKEN = 'tok-SECRET-4711'
const PASSWORD = 'hunter2'

let server: Loopback
/** Another host (port) a redirect may point to. */
let elsewhere: Loopback
let dir: string
let tokenFile: string
/** Bytes the endless route managed to send before the client hung up, per request. */
const endlessSent: number[] = []
const MiB = 1024 * 1024

beforeAll(async () => {
  elsewhere = await startLoopback({'/ok': json(200, {answer: 7})})
  server = await startLoopback({
    '/ok': json(200, {answer: 42}),
    '/echo': (req, res) => send(res, 200, 'application/json', JSON.stringify({answer: 1, url: req.url})),
    '/post': (_req, res, body) => send(res, 200, 'application/json', JSON.stringify({answer: JSON.parse(body).length})),
    '/post-empty': (_req, res) => send(res, 200, 'application/json', ''),
    '/not-ready': text(503, 'Service Unavailable\n'),
    '/prom-error': json(400, {status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:5: parse error'}),
    '/am-error': json(400, 'bad matcher format: foo'),
    '/am-validation': json(422, {code: 601, message: 'silenceID in path must be of type uuid: "x"'}),
    '/long-error': text(500, 'x'.repeat(5000)),
    '/wrong-shape': json(200, {answer: 'forty-two', extra: true}),
    '/not-json': text(200, '<html>hello</html>'),
    '/hang': neverAnswer,
    '/moved': (_req, res) => {
      res.writeHead(302, {Location: '/ok'})
      res.end()
    },
    '/moved-away': (_req, res) => {
      res.writeHead(307, {Location: `${elsewhere.url}/ok`})
      res.end()
    },
    '/endless': (_req, res) => {
      // A body without end (a misbehaving or hostile server), bounded here at 64 MiB; stops when the client hangs up.
      res.writeHead(200, {'Content-Type': 'application/json'})
      const chunk = Buffer.alloc(MiB, 0x20)
      let sent = 0
      const pump = () => {
        while (!res.destroyed && sent < 64 * MiB) {
          sent += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        res.end()
      }
      res.on('close', () => endlessSent.push(sent))
      pump()
    },
    '/trickle': (_req, res) => {
      // Headers and a byte every 100ms: no idle gap long enough for a socket timeout, so only the deadline stops it.
      res.writeHead(200, {'Content-Type': 'application/json'})
      const timer = setInterval(() => res.write(' '), 100)
      res.on('close', () => clearInterval(timer))
    },
  })
  dir = await mkdtemp(join(tmpdir(), 'cimops-http-'))
  tokenFile = join(dir, 'token')
  await writeFile(tokenFile, `  ${TOKEN}\n`)
})

afterAll(async () => {
  await server.close()
  await elsewhere.close()
  await rm(dir, {recursive: true, force: true})
})

function client(timeoutMs = 2000, extra: {baseUrl?: string; bearerTokenFile?: string} = {}) {
  return createHttpClient({system: 'prometheus', baseUrl: extra.baseUrl ?? server.url, timeoutMs, bearerTokenFile: extra.bearerTokenFile})
}

/** Everything an error could show: message, fields, JSON, and the inspected form with its cause. */
function allTextOf(error: unknown): string {
  return `${String(error)} ${JSON.stringify(error)} ${inspect(error, {depth: 10})}`
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the call to fail')
}

describe('createHttpClient', () => {
  it('gets and validates JSON', async () => {
    await expect(client().getJson('/ok', Answer)).resolves.toEqual({answer: 42})
  })

  it('serialises repeated query params as filter=a&filter=b and drops undefined ones', async () => {
    const result = await client().getJson('/echo', z.object({url: z.string()}), {filter: ['a="1"', 'b=~"x|y"'], active: true, skipped: undefined})
    expect(result.url).toBe('/echo?filter=a%3D%221%22&filter=b%3D%7E%22x%7Cy%22&active=true')
  })

  it('posts JSON with and without a response schema', async () => {
    await expect(client().postJson('/post', [1, 2, 3], Answer)).resolves.toEqual({answer: 3})
    await expect(client().postJson('/post-empty', [])).resolves.toBe('')
    expect(server.requests.at(-1)?.headers['content-type']).toMatch(/application\/json/)
  })

  it('reads plain text', async () => {
    await expect(client().getText('/ok')).resolves.toBe('{"answer":42}')
  })

  it('maps a plain-text 503 to ApiError with the status and the server text', async () => {
    const error = await failure(client().getText('/not-ready'))
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({status: 503, system: 'prometheus', address: `${server.url}/not-ready`, why: 'HTTP 503: Service Unavailable'})
  })

  it('reports the Prometheus envelope errorType and error', async () => {
    const error = await failure(client().getJson('/prom-error', Answer))
    expect(error).toMatchObject({status: 400, why: 'HTTP 400: bad_data: invalid parameter "query": 1:5: parse error'})
  })

  it("reports Alertmanager's JSON-encoded string body", async () => {
    const error = await failure(client().getJson('/am-error', Answer))
    expect(error).toMatchObject({status: 400, why: 'HTTP 400: bad matcher format: foo'})
  })

  it("reports Alertmanager's validation error message", async () => {
    await expect(client().delete('/am-validation')).rejects.toMatchObject({status: 422, why: 'HTTP 422: silenceID in path must be of type uuid: "x"'})
  })

  it('truncates long error bodies', async () => {
    const error = (await failure(client().getText('/long-error'))) as ApiError
    expect(error.why.length).toBeLessThan(320)
    expect(error.why.endsWith('…')).toBe(true)
  })

  it('maps a 404 to ApiError', async () => {
    await expect(client().getText('/nowhere')).rejects.toMatchObject({status: 404, why: 'HTTP 404: 404 page not found'})
  })

  it('maps a wrong JSON shape to ParseError naming the endpoint and the issues', async () => {
    const error = await failure(client().getJson('/wrong-shape', Answer))
    expect(error).toBeInstanceOf(ParseError)
    expect(error).toMatchObject({system: 'prometheus', address: `${server.url}/wrong-shape`})
    expect((error as ParseError).why).toMatch(/^answer: Invalid input: expected number, received string$/)
  })

  it('maps a non-JSON body to ParseError', async () => {
    await expect(client().getJson('/not-json', Answer)).rejects.toMatchObject({code: 'PARSE', why: 'not JSON: <html>hello</html>'})
  })

  it('times out a server that never answers', async () => {
    const started = performance.now()
    const error = await failure(client(300).getJson('/hang', Answer))
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({exit: 75, address: `${server.url}/hang`, why: 'timed out after 300ms'})
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('bounds the whole call, not only idle gaps', async () => {
    const started = performance.now()
    await expect(client(400).getText('/trickle')).rejects.toBeInstanceOf(TimeoutError)
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('stops reading a body past its cap: a ParseError naming the endpoint and the limit, the socket dropped', async () => {
    const started = performance.now()
    const error = await failure(client(10_000).getJson('/endless', Answer))
    expect(error).toBeInstanceOf(ParseError)
    expect(error).toMatchObject({exit: 65, line: `the answer of prometheus at ${server.url}/endless is too large: more than 16.0 MiB, the most cimops reads from it; stopped reading (narrow the request (a shorter window, more filters), or check what answers at this address)`})
    expect(performance.now() - started).toBeLessThan(5000)
    await expect.poll(() => endlessSent.length).toBe(1)
    expect(endlessSent[0]).toBeLessThan(64 * MiB)
  })

  it('takes a smaller cap per call', async () => {
    await expect(client(10_000).getText('/endless', {maxBytes: 64 * 1024})).rejects.toMatchObject({code: 'PARSE', why: expect.stringMatching(/^more than 64\.0 KiB,/)})
  })

  it('maps a refused connection to UnreachableError with the address and the OS reason', async () => {
    const port = await closedPort()
    const error = await failure(client(2000, {baseUrl: `http://127.0.0.1:${port}`}).getText('/-/ready'))
    expect(error).toBeInstanceOf(UnreachableError)
    expect(error).toMatchObject({exit: 69, address: `http://127.0.0.1:${port}/-/ready`, why: 'connection refused (ECONNREFUSED)'})
  })

  it('maps an unknown host to UnreachableError', async () => {
    const error = await failure(client(3000, {baseUrl: 'http://no-such-host.invalid:9090'}).getText('/-/ready'))
    expect(error).toBeInstanceOf(UnreachableError)
    expect((error as UnreachableError).why).toMatch(/\((ENOTFOUND|EAI_AGAIN)\)$/)
  })

  it('keeps a path prefix of the base URL', async () => {
    const error = await failure(client(2000, {baseUrl: `${server.url}/am/`}).getText('/api/v2/status'))
    expect(error).toMatchObject({address: `${server.url}/am/api/v2/status`})
    expect(server.requests.at(-1)?.url).toBe('/am/api/v2/status')
  })

  it('rejects a base URL that is not http(s) with ConfigError', () => {
    expect(() => createHttpClient({system: 'alertmanager', baseUrl: 'localhost:9093', timeoutMs: 1000})).toThrow(ConfigError)
    expect(() => createHttpClient({system: 'alertmanager', baseUrl: 'not a url', timeoutMs: 1000})).toThrow(/invalid alertmanager URL/)
  })
})

describe('secrets', () => {
  it('sends basic auth from the URL but never shows the password', async () => {
    const withPassword = client(300, {baseUrl: `http://alice:${PASSWORD}@${server.url.slice('http://'.length)}`})
    expect(withPassword.baseUrl).toBe(server.url)
    await withPassword.getJson('/ok', Answer)
    expect(server.requests.at(-1)?.headers.authorization).toBe(`Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`)
    for (const path of ['/not-ready', '/wrong-shape', '/hang']) {
      const error = await failure(withPassword.getJson(path, Answer))
      expect(allTextOf(error)).not.toContain(PASSWORD)
      expect(allTextOf(error)).not.toContain('alice')
    }
  })

  it('strips userinfo from unreachable and invalid addresses', async () => {
    const port = await closedPort()
    const error = await failure(client(1000, {baseUrl: `http://bob:${PASSWORD}@127.0.0.1:${port}`}).getText('/x'))
    expect(error).toMatchObject({address: `http://127.0.0.1:${port}/x`})
    expect(allTextOf(error)).not.toContain(PASSWORD)
    const invalid = await failure(Promise.resolve().then(() => createHttpClient({system: 'prometheus', baseUrl: `ftp://bob:${PASSWORD}@h`, timeoutMs: 1})))
    expect(allTextOf(invalid)).not.toContain(PASSWORD)
  })

  it('sends the trimmed bearer token from the file and never shows it', async () => {
    const withToken = client(300, {bearerTokenFile: tokenFile})
    await withToken.getJson('/ok', Answer)
    expect(server.requests.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    for (const path of ['/not-ready', '/wrong-shape', '/not-json', '/hang']) {
      const error = await failure(withToken.getJson(path, Answer))
      expect(allTextOf(error)).not.toContain(TOKEN)
    }
  })

  it('a GET follows a redirect; credentials never follow it to another host; a POST does not follow', async () => {
    expect(await client(1000, {bearerTokenFile: tokenFile}).getJson('/moved', Answer)).toEqual({answer: 42})
    expect(server.requests.at(-1)).toMatchObject({url: '/ok', headers: {authorization: `Bearer ${TOKEN}`}})
    const withPassword = client(1000, {baseUrl: `http://alice:${PASSWORD}@${server.url.slice('http://'.length)}`})
    expect(await withPassword.getJson('/moved-away', Answer)).toEqual({answer: 7})
    expect(elsewhere.requests.at(-1)?.headers.authorization).toBeUndefined()
    const posted = await failure(client(1000).postJson('/moved', {}))
    expect(posted).toBeInstanceOf(ApiError)
    expect(posted).toMatchObject({message: expect.stringContaining('HTTP 302')})
  })

  it('a missing or empty token file is a ConfigError naming the file', async () => {
    const missing = join(dir, 'missing-token')
    expect(() => client(300, {bearerTokenFile: missing})).toThrow(ConfigError)
    expect(() => client(300, {bearerTokenFile: missing})).toThrow(missing)
    const empty = join(dir, 'empty-token')
    await writeFile(empty, '\n')
    expect(() => client(300, {bearerTokenFile: empty})).toThrow(/is empty/)
  })
})
