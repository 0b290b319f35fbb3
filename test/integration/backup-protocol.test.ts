import {connect, headers, type Msg, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {jsApiFor, type JsApi} from '../../src/lib/adapters/nats/backup-streams.js'
import {restoreChunkBytes, restoreSnapshot, snapshotStream} from '../../src/lib/adapters/nats/snapshot.js'
import {useSandbox} from '../helpers/sandbox.js'

/**
 * The snapshot/restore wire protocol against behaviour 2.9.10 cannot show: a scripted "server" answers on a
 * JetStream domain of its own ($JS.fake.API), over a real nats-server, so newer servers' EOF statuses,
 * a server that goes quiet, and refusals mid-restore are exercised end to end.
 */
describe('snapshot/restore wire protocol edge cases (scripted server)', () => {
  const sandbox = useSandbox({components: ['nats']})
  let nc: NatsConnection
  let fake: NatsConnection
  let api: JsApi
  const config = {name: 'FAKE', subjects: ['fake.>'], storage: 'file', max_age: 3600000000000}
  const state = {messages: 2, bytes: 20, first_seq: 1, last_seq: 2}

  beforeAll(async () => {
    nc = await connect({servers: sandbox().state.natsServers})
    fake = await connect({servers: sandbox().state.natsServers})
    api = jsApiFor(nc, {jsDomain: 'fake'}, 2000)
  })
  afterAll(async () => {
    await nc?.close()
    await fake?.close()
  })

  /** Answers one snapshot request, then plays `script` on the deliver subject; returns the acks it saw. */
  async function fakeSnapshot(
    stream: string,
    script: (deliver: string, send: (data: Uint8Array, withReply?: boolean) => Promise<void>) => Promise<void>,
  ): Promise<{acks: string[]; request: Promise<unknown>}> {
    const acks: string[] = []
    const ackInbox = `_ACKS.${stream}`
    fake.subscribe(`${ackInbox}.>`, {
      callback: (_e, m) => {
        acks.push(m.subject)
      },
    })
    let index = 0
    const request = new Promise((resolve) => {
      fake.subscribe(`$JS.fake.API.STREAM.SNAPSHOT.${stream}`, {
        max: 1,
        callback: (_e, m: Msg) => {
          const body = m.json<{deliver_subject: string}>()
          resolve(body)
          // Raw text: a max_age above 2^53 that JSON.stringify could not write.
          m.respond(`{"type":"io.nats.jetstream.api.v1.stream_snapshot_response","config":{"name":"${stream}","subjects":["fake.>"],"storage":"file","max_age":315360000000000001},"state":${JSON.stringify(state)}}`)
          void script(body.deliver_subject, async (data, withReply = true) => {
            fake.publish(body.deliver_subject, data, withReply ? {reply: `${ackInbox}.${data.length}.${index++}`} : {})
            await fake.flush()
          })
        },
      })
    })
    await fake.flush() // the subscriptions are in place before the request goes out
    return {acks, request}
  }

  it('2.10.12+ EOF: status 204 ends the archive; every chunk is acked, the last one may come without a reply subject', async () => {
    const {acks, request} = await fakeSnapshot('OK204', async (deliver, send) => {
      await send(Buffer.from('S2-chunk-1'))
      await send(Buffer.from('chunk-2'))
      await send(Buffer.from('tail'), false)
      fake.publish(deliver, new Uint8Array(0), {headers: headers(204, 'OK')})
    })
    const chunks: string[] = []
    const result = await snapshotStream(api, {stream: 'OK204', consumers: true, check: false, idleTimeoutMs: 2000, responseTimeoutMs: 2000, onChunk: (d) => chunks.push(Buffer.from(d).toString())})
    expect(chunks).toEqual(['S2-chunk-1', 'chunk-2', 'tail'])
    expect(result).toMatchObject({chunks: 3, bytes: 21})
    // The response's numbers survive exactly (max_age above 2^53).
    expect(String(result.config.max_age)).toBe('315360000000000001')
    expect(await request).toMatchObject({no_consumers: false, chunk_size: 131072, jsck: false})
    await fake.flush()
    expect(acks).toEqual(['_ACKS.OK204.10.0', '_ACKS.OK204.7.1'])
  })

  it('while the receiver is behind, acks are held back (at most 500 ms) and then sent in order', async () => {
    const ackTimes: Array<[string, number]> = []
    fake.subscribe('_ACKS.SLOW.>', {
      callback: (_e, m) => {
        ackTimes.push([m.subject, Date.now()])
      },
    })
    let started = 0
    await fakeSnapshot('SLOW', async (deliver, send) => {
      started = Date.now()
      for (let i = 0; i < 4; i++) await send(Buffer.from(`chunk-${i}`))
      await new Promise((resolve) => setTimeout(resolve, 2000))
      fake.publish(deliver, new Uint8Array(0))
    })
    const behindUntil = Date.now() + 200
    const result = await snapshotStream(api, {stream: 'SLOW', consumers: true, check: false, idleTimeoutMs: 3000, responseTimeoutMs: 3000, behind: () => Date.now() < behindUntil, onChunk: () => {}})
    expect(result.chunks).toBe(4)
    await fake.flush()
    expect(ackTimes.map(([subject]) => subject)).toEqual(['_ACKS.SLOW.7.0', '_ACKS.SLOW.7.1', '_ACKS.SLOW.7.2', '_ACKS.SLOW.7.3'])
    // Held while behind; released long before the transfer ends 2 s later, so the hold is bounded
    // (the 500 ms cap plus a margin a loaded 2-core machine can honour).
    for (const [, at] of ackTimes) {
      expect(at).toBeGreaterThanOrEqual(behindUntil - 20)
      expect(at - started).toBeLessThan(1500)
    }
  })

  it('an EOF with another status (408 No Flow Response) is an error, not a short archive', async () => {
    await fakeSnapshot('NOFLOW', async (deliver, send) => {
      await send(Buffer.from('chunk'))
      fake.publish(deliver, new Uint8Array(0), {headers: headers(408, 'No Flow Response')})
    })
    await expect(snapshotStream(api, {stream: 'NOFLOW', consumers: true, check: false, idleTimeoutMs: 2000, responseTimeoutMs: 2000, onChunk: () => {}})).rejects.toThrow(
      /the snapshot of NOFLOW failed: the server ended the transfer with 408 No Flow Response/,
    )
  })

  it('a server that goes quiet mid-archive fails after the idle timeout instead of hanging', async () => {
    await fakeSnapshot('QUIET', async (_deliver, send) => {
      await send(Buffer.from('one'))
      await send(Buffer.from('two'))
    })
    const started = Date.now()
    await expect(snapshotStream(api, {stream: 'QUIET', consumers: false, check: false, idleTimeoutMs: 700, responseTimeoutMs: 2000, onChunk: () => {}})).rejects.toThrow(
      /timed out after receiving no data for 1s \(6 bytes in 2 chunks so far\)/,
    )
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('restore: chunks go out two in flight with reply subjects, an empty chunk ends it once all are acked; a refused chunk or archive is an error', async () => {
    const seen: Array<{size: number; reply: boolean; unacked: number}> = []
    let finalReply = JSON.stringify({type: 'io.nats.jetstream.api.v1.stream_create_response', config, state})
    let refuseChunk = -1
    fake.subscribe('$JS.fake.API.STREAM.RESTORE.FAKE', {
      callback: (_e, m) => {
        const deliver = `_RESTORE.FAKE.${seen.length}`
        let n = 0
        let unacked = 0
        const sub = fake.subscribe(deliver, {
          callback: (_e2, chunk) => {
            seen.push({size: chunk.data.length, reply: Boolean(chunk.reply), unacked: unacked++})
            if (chunk.data.length === 0) {
              chunk.respond(finalReply)
              sub.unsubscribe()
              return
            }
            // As the server does: a refused chunk is answered with the error, and nothing after it is.
            const index = n++
            if (refuseChunk !== -1 && index > refuseChunk) return
            // Acks come late, so a client that waits for each one never has two out.
            setTimeout(() => {
              unacked--
              chunk.respond(index === refuseChunk ? "-ERR 'storage failure during restore'" : new Uint8Array(0))
            }, 30)
          },
        })
        m.respond(JSON.stringify({type: 'io.nats.jetstream.api.v1.stream_restore_response', deliver_subject: deliver}))
      },
    })
    await fake.flush()
    async function* chunks() {
      for (let i = 0; i < 5; i++) yield Buffer.alloc(65536, i)
      yield Buffer.alloc(100, 9)
    }
    const request = {config, state}
    const restored = await restoreSnapshot(api, {stream: 'FAKE', request: request as never, chunks: chunks(), chunkTimeoutMs: 2000, finalTimeoutMs: 2000})
    expect(Number(restored.state.messages)).toBe(2)
    expect(seen.map(({size, reply}) => ({size, reply}))).toEqual([...Array.from({length: 5}, () => ({size: 65536, reply: true})), {size: 100, reply: true}, {size: 0, reply: true}])
    // Two in flight, never more; the end only after every chunk was acked.
    expect(Math.max(...seen.map((chunk) => chunk.unacked))).toBe(1)
    expect(seen.at(-1)?.unacked).toBe(0)

    seen.length = 0
    refuseChunk = 1
    const started = Date.now()
    await expect(restoreSnapshot(api, {stream: 'FAKE', request: request as never, chunks: chunks(), chunkTimeoutMs: 2000, finalTimeoutMs: 2000})).rejects.toThrow(
      /the restore of FAKE failed: the server refused a chunk: storage failure during restore/,
    )
    // The refusal ends it at once: the chunk behind it, never answered, is not waited for, and nothing more is sent.
    expect(Date.now() - started).toBeLessThan(1000)
    expect(seen.length).toBeLessThanOrEqual(3)
    refuseChunk = -1
    finalReply = JSON.stringify({type: 'io.nats.jetstream.api.v1.stream_create_response', error: {code: 500, err_code: 10062, description: 'restore failed: stream names do not match'}})
    await expect(restoreSnapshot(api, {stream: 'FAKE', request: request as never, chunks: chunks(), chunkTimeoutMs: 2000, finalTimeoutMs: 2000})).rejects.toThrow(
      /the server refused the archive: restore failed: stream names do not match \(code 500, err_code 10062\)/,
    )
  })
})

/**
 * Two chunks in flight is safe only if a refusal leaves the server well: it hands a refused chunk's
 * result over a one-slot channel that is read once, and a third chunk behind the refusal would block the
 * connection's reader on the server. 16 MiB of random bytes into a server with a 4 MiB store: 2.10
 * refuses a chunk part-way (insufficient resources, 10023, seen); 2.9 and 2.15 take every chunk and
 * refuse the archive at the end (s2: corrupt input, 10062, seen). Either way the restore fails at once
 * and the same connection and the server keep answering.
 */
describe('a restore the real server refuses', () => {
  const sandbox = useSandbox({components: ['nats'], jetstreamMaxFileBytes: 4 * 1024 * 1024})

  it('fails at once with the server\'s reason, leaves no stream, and the connection and server keep answering', async () => {
    const nc = await connect({servers: sandbox().state.natsServers})
    try {
      const api = jsApiFor(nc, {}, 5000)
      const config = {name: 'REFUSED', subjects: ['refused.>'], storage: 'file', retention: 'limits', discard: 'old', num_replicas: 1}
      const state = {messages: 100_000, bytes: 20_000_000, first_seq: 1, last_seq: 100_000, consumer_count: 0}
      const chunk = Buffer.alloc(restoreChunkBytes(api))
      async function* archive() {
        for (let i = 0; i < 16; i++) yield chunk.fill(i * 7 + 1)
      }
      const started = Date.now()
      await expect(restoreSnapshot(api, {stream: 'REFUSED', request: {config, state} as never, chunks: archive(), chunkTimeoutMs: 5000, finalTimeoutMs: 5000})).rejects.toThrow(
        /the restore of REFUSED failed/,
      )
      expect(Date.now() - started).toBeLessThan(5000)
      const info = await nc.request('$JS.API.INFO', '', {timeout: 2000})
      expect(info.json<{type: string}>().type).toBe('io.nats.jetstream.api.v1.account_info_response')
      const missing = await nc.request('$JS.API.STREAM.INFO.REFUSED', '', {timeout: 2000})
      expect(missing.json<{error?: {code: number}}>().error?.code).toBe(404)
      const other = await connect({servers: sandbox().state.natsServers})
      await other.request('$JS.API.INFO', '', {timeout: 2000})
      await other.close()
    } finally {
      await nc.close()
    }
  })
})
