import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {renderTable} from '../../lib/core/output/table.js'
import type {CatchUpResult, SeedResult} from '../../lib/sandbox/types.js'

export default class SandboxSeed extends BaseCommand<typeof SandboxSeed> {
  static summary = 'Create the CIM streams and publish realistic domain events'
  static description = `Creates the EVENTS stream (subjects cim.<domain>.>) and CIM_OPS (cim.ops.>), publishes events of the graph, workflow, agent, identity and document domains in the CIM envelope, and creates one durable projection consumer per domain — one of them (workflow-analytics) deliberately behind, so lag shows up in reports, in the event monitor's metrics and, after a minute above 10s, as the HighEventProcessingLag alert.
Safe to repeat: events carry deterministic Nats-Msg-Id headers, so the server drops duplicates. Works against the current context's NATS, not only the sandbox.
--catch-up publishes nothing: it lets workflow-analytics catch up (acknowledges all its events, as its service would once healthy), so its lag drops to 0 and the alert resolves. It touches no other consumer.`
  static examples = [
    '<%= config.bin %> sandbox seed',
    '<%= config.bin %> sandbox seed --nats-url nats://127.0.0.1:4222 --json',
    '<%= config.bin %> sandbox seed --catch-up',
  ]
  static flags = {
    'catch-up': Flags.boolean({summary: 'Let the lagging projection workflow-analytics catch up instead of seeding.'}),
  }

  async run(): Promise<SeedResult | CatchUpResult> {
    const context = await this.context()
    const {seedSandbox, catchUpSandbox} = await import('../../lib/sandbox/index.js')
    const log = (line: string) => this.note(this.style.dim(line))
    if (this.flags['catch-up']) {
      const result = await catchUpSandbox(context.nats.servers, {eventsStream: context.streams.events, log})
      this.print(`${result.consumer} caught up: acknowledged ${result.acked} events; ${result.pending} unprocessed, ${result.ackPending} ack pending on ${result.stream}.`)
      return result
    }
    const result = await seedSandbox(context.nats.servers, {eventsStream: context.streams.events, log})
    this.print(`Published ${result.published} events (${result.duplicates} already there) into ${result.streams.join(', ')}.\n`)
    this.print(
      renderTable(
        result.consumers,
        [
          {header: 'CONSUMER', get: (c) => c.name},
          {header: 'STREAM', get: (c) => c.stream},
          {header: 'UNPROCESSED', get: (c) => String(c.pending), align: 'right'},
          {header: 'ACK PENDING', get: (c) => String(c.ackPending), align: 'right'},
        ],
        {width: this.width, paintHeader: this.style.dim},
      ),
    )
    return result
  }
}
