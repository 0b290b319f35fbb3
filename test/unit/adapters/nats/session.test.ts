import {createServer, type Server, type Socket} from 'node:net'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openNatsSession} from '../../../../src/lib/adapters/nats/session.js'
import {ConfigError, TimeoutError} from '../../../../src/lib/core/errors.js'

describe('openNatsSession without a server that answers', () => {
  // Accepts TCP and never sends INFO, counting the dials: every connect attempt times out.
  let silent: Server
  let address: string
  const sockets: Socket[] = []

  beforeAll(async () => {
    silent = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    address = `nats://127.0.0.1:${(silent.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => silent.close(() => resolve()))
  })

  it('dials nothing until first use; closed unused, it never dials', async () => {
    const dialed = sockets.length
    const session = openNatsSession({servers: [`nats://ops:pa55word@${address.slice('nats://'.length)}`]}, {timeoutMs: 300})
    expect(session.address).toBe(address)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(sockets.length).toBe(dialed)
    await session.close()
    await expect(session.connection()).rejects.toThrow('the NATS session is closed')
    expect(sockets.length).toBe(dialed)
  })

  it('makes one connect attempt for everything asked of it at once, and every caller gets its failure', async () => {
    const dialed = sockets.length
    const session = openNatsSession({servers: [address]}, {timeoutMs: 300})
    const outcomes = await Promise.allSettled([session.connection(), session.jsm(), session.features(), session.jetstream()])
    const reasons = outcomes.map((outcome) => (outcome.status === 'rejected' ? outcome.reason : outcome))
    expect(reasons[0]).toBeInstanceOf(TimeoutError)
    for (const reason of reasons) expect(reason).toBe(reasons[0])
    expect(sockets.length).toBe(dialed + 1)
    // Closing after a failed connect has nothing to close, however often it is asked.
    await session.close({drain: true})
    await session.close()
  })

  it('reports a configuration without servers on first use, not when opened', async () => {
    const session = openNatsSession({servers: []}, {timeoutMs: 300})
    await expect(session.connection()).rejects.toBeInstanceOf(ConfigError)
  })
})
