import {resolve} from 'node:path'
import {Flags} from '@oclif/core'

import {MSG_ID_HEADER} from '../../lib/adapters/nats/headers.js'
import {BaseCommand} from '../../lib/core/base-command.js'
import {cimopsDataDir} from '../../lib/core/paths.js'
import {renderSeededConsumers} from '../../lib/sandbox/render.js'
import type {CatchUpResult, SeedResult} from '../../lib/sandbox/types.js'

export default class SandboxSeed extends BaseCommand<typeof SandboxSeed> {
  static summary = 'Create the CIM streams and publish realistic domain events'
  static description = `Creates the EVENTS stream (subjects cim.<domain>.>) and CIM_OPS (cim.ops.>), publishes events of the graph, workflow, agent, identity and document domains in the CIM envelope, and creates one durable projection consumer per domain — one of them (workflow-analytics) deliberately behind, so lag shows up in reports, in the event monitor's metrics and, after a minute above 10s, as the HighEventProcessingLag alert.
With a two-site sandbox (\`sandbox up --sites 2\`) it also creates, at the DR site, EVENTS_DR: a mirror of the events stream that the DR site's JetStream copies from the primary's domain over the leaf connection (same sequences, times and message ids), and waits up to 15s for it to hold the seeded events.
Safe to repeat: events carry deterministic ${MSG_ID_HEADER} headers, so the server drops duplicates.
It works only on the sandbox \`cimops sandbox up\` started: the NATS server the current context reaches must be one the sandbox recorded, at the recorded address and with the server id it reported at start. Anything else (another server, or another one on a reused port) is refused with exit 64 and nothing is written or acknowledged.
--catch-up publishes nothing: it lets workflow-analytics catch up (acknowledges all its events, as its service would once healthy), so its lag drops to 0 and the alert resolves. It touches no other consumer.`
  static examples = [
    '<%= config.bin %> sandbox seed',
    '<%= config.bin %> sandbox seed --context sandbox --json',
    '<%= config.bin %> sandbox seed --catch-up',
  ]
  static flags = {
    'catch-up': Flags.boolean({summary: 'Let the lagging projection workflow-analytics catch up instead of seeding.'}),
    'state-dir': Flags.string({summary: 'Where the sandbox records its state.', hidden: true}),
  }

  async run(): Promise<SeedResult | CatchUpResult> {
    const context = await this.context()
    const {seedSandbox, catchUpSandbox, defaultSandboxDir, readSandboxState} = await import('../../lib/sandbox/index.js')
    const stateDir = resolve(this.flags['state-dir'] ?? defaultSandboxDir(cimopsDataDir()))
    const sandbox = {stateDir, state: await readSandboxState(stateDir)}
    const log = (line: string) => this.note(this.style.dim(line))
    if (this.flags['catch-up']) {
      const result = await catchUpSandbox(context.nats.servers, {eventsStream: context.streams.events, log, sandbox})
      this.print(`${result.consumer} caught up: acknowledged ${result.acked} events; ${result.pending} unprocessed, ${result.ackPending} ack pending on ${result.stream}.`)
      return result
    }
    const result = await seedSandbox(context.nats.servers, {eventsStream: context.streams.events, log, sandbox})
    this.print(`Published ${result.published} events (${result.duplicates} already there) into ${result.streams.join(', ')}.\n`)
    this.print(renderSeededConsumers(result.consumers, this.style, this.width))
    const {mirror} = result
    if (mirror) {
      const progress = mirror.messages < mirror.originMessages ? ', still copying' : ''
      this.print(`\nDR site (context sandbox-dr): ${mirror.stream} mirrors ${mirror.origin}, holding ${mirror.messages} of ${mirror.originMessages} events${progress}.`)
    }
    return result
  }
}
