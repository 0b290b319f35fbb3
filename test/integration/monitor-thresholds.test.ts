/**
 * Thresholds set the natscli way: `io.nats.monitor.*` metadata on a consumer, honoured by `health-check`
 * and `consumer report` over the context's thresholds, each shown with its source. Where the server keeps
 * metadata (2.10+, as its INFO reports) the consumer's own threshold judges it; where it does not (2.9
 * drops the field), the same setup finds no metadata and the context's thresholds apply, with no error.
 */
import {type JetStreamManager, jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {serverFeatures} from '../../src/lib/adapters/nats/versions.js'
import type {CheckResult} from '../../src/lib/core/check/result.js'
import type {ConsumerReport} from '../../src/lib/streams/consumer-report.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

const STREAM = 'EVENTS'
const PENDING_KEY = 'io.nats.monitor.unprocessed-critical'
const DELIVERY_KEY = 'io.nats.monitor.last-delivery-critical'
/** Lag grows while the test runs: generous lag thresholds, given as flags, keep it out of the verdicts. */
const LAG_FLAGS = ['--lag-warn', '10m', '--lag-crit', '20m']

describe('io.nats.monitor.* thresholds on a consumer', () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let nc: NatsConnection
  let jsm: JetStreamManager
  let hasMetadata = false
  const cli = (args: string[]) => runCli([...args, '--nats-url', sandbox().state.natsServers.join(',')], home.env)

  beforeAll(async () => {
    home = await isolatedHome()
    nc = await connect({servers: sandbox().state.natsServers})
    jsm = await jetstreamManager(nc)
    hasMetadata = serverFeatures(nc.info!.version).has('metadata')
    console.log(`nats-server ${nc.info!.version}: ${hasMetadata ? 'keeps metadata, judging by it' : 'keeps no metadata, checking that none is found'}`)
    await jsm.streams.add({name: STREAM, subjects: ['cim.>'], storage: 'file'})
    const js = jetstream(nc)
    for (let i = 1; i <= 12; i++) await js.publish(`cim.orders.${i}`, JSON.stringify({i}))
    // Nothing delivered yet: 12 unprocessed on each, OK by the context's thresholds.
    await addConsumer('strict', {[PENDING_KEY]: '5'})
    await addConsumer('garbled', {[DELIVERY_KEY]: '300'}) // unitless: jsm.go refuses it too
    await addConsumer('plain')
  })

  afterAll(async () => {
    await nc?.close()
    await home?.cleanup()
  })

  /** nats.js refuses metadata for a 2.9 server, so there the raw API carries it, which the server drops. */
  async function addConsumer(name: string, metadata?: Record<string, string>): Promise<void> {
    if (hasMetadata || !metadata) {
      await jsm.consumers.add(STREAM, {durable_name: name, ack_policy: 'explicit', ...(metadata ? {metadata} : {})} as Parameters<JetStreamManager['consumers']['add']>[1])
      return
    }
    const config = {stream_name: STREAM, config: {durable_name: name, ack_policy: 'explicit', metadata}}
    const reply = (await nc.request(`$JS.API.CONSUMER.DURABLE.CREATE.${STREAM}.${name}`, JSON.stringify(config))).json<{error?: unknown}>()
    expect(reply.error).toBeUndefined()
    expect((await jsm.consumers.info(STREAM, name)).config.metadata?.[Object.keys(metadata)[0]]).toBeUndefined()
  }

  it('health-check judges each consumer by its own metadata threshold and names every source', async () => {
    const json = await cli(['health-check', '--component', 'consumers', '--json', ...LAG_FLAGS])
    const checks = Object.fromEntries((JSON.parse(json.stdout) as {checks: CheckResult[]}).checks.map((c) => [c.name, c]))
    const text = await cli(['health-check', '--component', 'consumers', ...LAG_FLAGS])
    expect(checks['consumer:plain']).toMatchObject({status: 'OK', details: {thresholds: {lagCrit: {value: 1200, source: 'flag'}, stallAfter: {value: 300, source: 'default'}}}})
    expect(checks['consumer:plain'].details?.thresholds).not.toHaveProperty('pendingCrit')
    if (!hasMetadata) {
      expect(json.code, json.stderr).toBe(0)
      for (const name of ['strict', 'garbled']) expect(checks[`consumer:${name}`], name).toMatchObject({status: 'OK', details: {thresholds: {stallAfter: {source: 'default'}}}})
      expect(text.stdout).not.toContain('(metadata)')
      return
    }
    expect(json.code, json.stderr).toBe(2)
    expect(checks['consumer:strict']).toMatchObject({status: 'CRITICAL', details: {thresholds: {pendingCrit: {value: 5, source: 'metadata', key: PENDING_KEY}}}})
    expect(checks['consumer:strict'].summary).toContain('pending 12 >= 5 (metadata)')
    expect(checks['consumer:garbled']).toMatchObject({status: 'WARNING', details: {thresholds: {stallAfter: {value: 300, source: 'default'}}}})
    expect(checks['consumer:garbled'].summary).toContain(`invalid metadata on consumer ${STREAM} > garbled: ${DELIVERY_KEY}="300" is not a duration`)
    expect(text.code).toBe(2)
    expect(text.stdout).toContain('pending 12 >= 5 (metadata); own thresholds: pending crit 5 (metadata)')
  })

  it('consumer report judges by the same thresholds; a flag still wins over the metadata', async () => {
    const result = await cli(['consumer', 'report', STREAM, '--json', '--sort', 'name', ...LAG_FLAGS])
    const rows = Object.fromEntries((JSON.parse(result.stdout) as ConsumerReport).consumers.map((row) => [row.name, row]))
    const text = await cli(['consumer', 'report', STREAM, ...LAG_FLAGS])
    expect(text.stdout).toContain('lag warn 10m (flag), lag crit 20m (flag), stall after 5m (default)')
    if (!hasMetadata) {
      expect(result.code, result.stderr).toBe(0)
      expect(Object.values(rows).map((row) => [row.name, row.status, row.thresholds.pendingCrit])).toEqual([
        ['garbled', 'OK', undefined],
        ['plain', 'OK', undefined],
        ['strict', 'OK', undefined],
      ])
      expect(text.stdout).not.toContain('OWN THRESHOLDS')
      return
    }
    expect(result.code, result.stderr).toBe(2)
    expect(rows.strict).toMatchObject({status: 'CRITICAL', reasons: ['pending 12 >= 5 (metadata)'], thresholds: {pendingCrit: {value: 5, source: 'metadata', key: PENDING_KEY}}})
    expect(rows.garbled.status).toBe('WARNING')
    expect(rows.garbled.reasons).toEqual([`invalid metadata on consumer ${STREAM} > garbled: ${DELIVERY_KEY}="300" is not a duration such as 30s, 5m, 1h30m or 1d; stall after 5m (default) applies`])
    expect(rows.plain.status).toBe('OK')
    expect(text.stdout).toMatch(/OWN THRESHOLDS[\s\S]*pending crit 5 \(metadata\)/)

    const flagged = await cli(['consumer', 'report', STREAM, '--json', '--pending-crit', '100', ...LAG_FLAGS])
    const strict = (JSON.parse(flagged.stdout) as ConsumerReport).consumers.find((row) => row.name === 'strict')
    expect(strict).toMatchObject({status: 'OK', thresholds: {pendingCrit: {value: 100, source: 'flag'}}})
  })
})
