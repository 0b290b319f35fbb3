import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AckPolicy, jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {isolatedHome, runCli} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

/** A stream whose one allowed consumer is taken: every command that needs a consumer of its own is refused by the server. */
describe('a server refusing a new consumer (maximum consumers limit reached)', () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  beforeAll(async () => {
    home = await isolatedHome()
    const nc = await connect({servers: sandbox().state.natsServers})
    try {
      const jsm = await jetstreamManager(nc)
      await jsm.streams.add({name: 'LIMITED', subjects: ['limited.>'], max_consumers: 1})
      await jsm.consumers.add('LIMITED', {durable_name: 'the-only-one', ack_policy: AckPolicy.Explicit})
      await nc.request('limited.a', JSON.stringify({n: 1}))
    } finally {
      await nc.close()
    }
  })
  afterAll(() => home?.cleanup())

  const cli = (...args: string[]) => runCli([...args, '--nats-url', sandbox().state.natsServers.join(','), '--timeout', '2s'], home.env)

  it.each([
    ['events view', ['events', 'view', 'LIMITED']],
    ['events tail', ['events', 'tail', 'LIMITED']],
    ['replay', ['replay', '--stream', 'LIMITED', '--to-file', join(tmpdir(), `cimops-limited-${process.pid}.jsonl`)]],
  ])('%s exits with one line naming the limit', async (_name, args) => {
    const result = await cli(...args)
    expect(result.code, result.stderr).not.toBe(0)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toContain('no new consumer: maximum consumers limit reached (JetStream error 10026)')
    expect(result.stderr).toContain("the stream's max_consumers or the account's consumer limit is full")
  })
})
