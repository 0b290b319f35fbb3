import {BaseCommand} from '../../lib/core/base-command.js'
import {renderTable} from '../../lib/core/output/table.js'
import type {SeedResult} from '../../lib/sandbox/types.js'

export default class SandboxSeed extends BaseCommand<typeof SandboxSeed> {
  static summary = 'Create the CIM streams and publish realistic domain events'
  static description = `Creates the EVENTS stream (subjects cim.<domain>.>) and CIM_OPS (cim.ops.>), publishes events of the graph, workflow, agent, identity and document domains in the CIM envelope, and creates one durable projection consumer per domain — one of them (workflow-analytics) deliberately behind, so lag shows up in reports.
Safe to repeat: events carry deterministic Nats-Msg-Id headers, so the server drops duplicates. Works against the current context's NATS, not only the sandbox.`
  static examples = ['<%= config.bin %> sandbox seed', '<%= config.bin %> sandbox seed --nats-url nats://127.0.0.1:4222 --json']

  async run(): Promise<SeedResult> {
    const context = await this.context()
    const {seedSandbox} = await import('../../lib/sandbox/index.js')
    const result = await seedSandbox(context.nats.servers, {eventsStream: context.streams.events, log: (line) => this.note(this.style.dim(line))})
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
