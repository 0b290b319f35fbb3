/** The sandbox's nats probe against a local HTTP server that answers /healthz as nats-server does. */
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'

import {probeProcess} from '../../../src/lib/sandbox/probes.js'
import type {SandboxProcess} from '../../../src/lib/sandbox/types.js'

// What 2.10.27 answered under CI load: its 1 ms budget ran out before it looked at any listener.
const UNDECIDED = {status: 'unavailable', error: 'failed to be ready for connections after 1ms: '}
const OK = {status: 'ok'}

let server: Server | undefined
afterEach(() => server?.close())

/** A monitor port whose /healthz gives the answers in turn (the last one repeats); returns the asked count. */
async function monitorAnswering(...answers: object[]): Promise<{proc: SandboxProcess; asked: () => number}> {
  let asked = 0
  server = createServer((req, res) => {
    const answer = answers[Math.min(asked++, answers.length - 1)]
    res.writeHead('status' in answer && answer.status === 'ok' ? 200 : 503, {'Content-Type': 'application/json'}).end(JSON.stringify(answer))
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  // The client port's check only connects: the same listener serves for it.
  const proc: SandboxProcess = {name: 'nats-1', component: 'nats', pid: 1, url: `nats://127.0.0.1:${port}`, port, monitorUrl: `http://127.0.0.1:${port}`, configFile: '', dataDir: '', logFile: '', argv: ['nats-server']}
  return {proc, asked: () => asked}
}

const context = {cluster: 1, jetstream: true} as const

describe('the nats probe', () => {
  it('asks /healthz again when its answer names no listener, and is ready once the server says ok', async () => {
    const {proc, asked} = await monitorAnswering(UNDECIDED, OK)
    expect(await probeProcess(proc, context, 1000)).toEqual({healthy: true, detail: 'ready'})
    expect(asked()).toBe(2)
  })

  it('judges a listener that is named as not ready at once', async () => {
    const {proc, asked} = await monitorAnswering({status: 'unavailable', error: 'failed to be ready for connections after 1ms: leafnode, server'}, OK)
    expect(await probeProcess(proc, context, 1000)).toEqual({healthy: false, detail: 'healthz: failed to be ready for connections after 1ms: leafnode, server'})
    expect(asked()).toBe(1)
  })

  it('gives up after three undecided answers, and says what the server said', async () => {
    const {proc, asked} = await monitorAnswering(UNDECIDED)
    expect(await probeProcess(proc, context, 1000)).toEqual({healthy: false, detail: `healthz: ${UNDECIDED.error}`})
    expect(asked()).toBe(3)
  })

  it('judges any other failure, such as JetStream without a meta leader, at once', async () => {
    const {proc, asked} = await monitorAnswering({status: 'unavailable', error: 'JetStream has not established contact with a meta leader'}, OK)
    expect((await probeProcess(proc, context, 1000)).healthy).toBe(false)
    expect(asked()).toBe(1)
  })
})
