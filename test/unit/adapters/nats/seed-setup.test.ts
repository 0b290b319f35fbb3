import {JetStreamApiError, type JetStreamManager} from '@nats-io/jetstream'
import {errors} from '@nats-io/transport-node'
import {afterEach, describe, expect, it, vi} from 'vitest'

import {ensureStream} from '../../../../src/lib/adapters/nats/seed-setup.js'

/** The reply a forming cluster gives for a replicated stream (nats-server 2.10.27, err_code 10005). */
const NO_PEERS = {code: 500, err_code: 10005, description: 'no suitable peers for placement'}
const NOT_FOUND = {code: 404, err_code: 10059, description: 'stream not found'}

/** A manager whose stream does not exist yet and whose add fails with `failures` first. */
function formingCluster(failures: Array<{code: number; err_code: number; description: string} | 'timeout'>) {
  const adds: string[] = []
  const jsm = {
    streams: {
      info: async () => {
        throw new JetStreamApiError(NOT_FOUND)
      },
      add: async (setup: {name: string}) => {
        adds.push(setup.name)
        const failure = failures.shift()
        if (failure === 'timeout') throw new errors.TimeoutError()
        if (failure) throw new JetStreamApiError(failure)
        return {}
      },
    },
  } as unknown as JetStreamManager
  return {jsm, adds}
}

describe('ensureStream on a cluster that is still forming', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('waits for placement: "no suitable peers" twice, then created', async () => {
    const {jsm, adds} = formingCluster([NO_PEERS, NO_PEERS])
    await expect(ensureStream(jsm, {name: 'EVENTS', num_replicas: 3})).resolves.toBe(true)
    expect(adds).toEqual(['EVENTS', 'EVENTS', 'EVENTS'])
  })

  it('asks again when the create goes unanswered, as a new 2.10.27 cluster did under load', async () => {
    const {jsm, adds} = formingCluster(['timeout', NO_PEERS])
    await expect(ensureStream(jsm, {name: 'EVENTS', num_replicas: 3})).resolves.toBe(true)
    expect(adds).toEqual(['EVENTS', 'EVENTS', 'EVENTS'])
  })

  it('gives up after 10 s with the server error', async () => {
    vi.useFakeTimers()
    const {jsm, adds} = formingCluster(Array.from({length: 100}, () => NO_PEERS))
    const created = ensureStream(jsm, {name: 'EVENTS', num_replicas: 3})
    const settled = expect(created).rejects.toThrow('no suitable peers for placement')
    await vi.advanceTimersByTimeAsync(11_000)
    await settled
    expect(adds.length).toBeGreaterThan(30)
    expect(adds.length).toBeLessThan(50)
  })

  it('any other refusal fails at once', async () => {
    const {jsm, adds} = formingCluster([{code: 400, err_code: 10058, description: 'stream name already in use with a different configuration'}])
    await expect(ensureStream(jsm, {name: 'EVENTS'})).rejects.toThrow('different configuration')
    expect(adds).toEqual(['EVENTS'])
  })
})
