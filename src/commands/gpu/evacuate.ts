import {Args, Flags} from '@oclif/core'

import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import {confirm} from '../../lib/core/confirm.js'
import type {ConnectionFlags} from '../../lib/core/context.js'
import {ExitCode, OperationError} from '../../lib/core/errors.js'
import {redactString} from '../../lib/core/redact.js'
import type {EvacuationResult} from '../../lib/gpu/evacuate.js'
import {drainTimeoutFlags, drainTimeoutMs} from '../../flags/drain-timeout.js'
import {renderEvacuation} from '../../lib/gpu/render.js'

export default class GpuEvacuate extends BaseCommand<typeof GpuEvacuate> {
  static audited = true
  static summary = 'Drain a GPU node: mark it draining, tell its workloads to leave, wait until they have'
  static description = `The drain protocol:
  1. compare-and-set the node to draining in the cim_gpu_nodes KV bucket {state, reason, since, by}; an evacuation another operator started first is detected (the node is draining, or the compare-and-set loses) and refused with exit 2, changing nothing;
  2. publish cim.ops.gpu.<node>.evacuate {reason, deadline} on the ops log: the node's workload agents move their work and delete their keys <node>.<workload> in cim_gpu_allocations;
  3. watch those keys until none remain (progress on stderr, live on a terminal), then mark the node drained.
A node that none of cim_gpu_nodes, cim_gpu_health and cim_gpu_allocations knows is refused with exit 64, listing the known ones (a typo must not drain nothing and leave a phantom node behind); --force evacuates such a new name on purpose. Remove a node recorded by mistake with \`cimops gpu forget\`.
At the deadline (--drain-timeout, default 10m) it lists the stuck workloads and exits 2, leaving the node draining: continue with --resume, or give the node back with \`cimops gpu uncordon\`.
Every step is an event on the ops log (cim.ops.gpu.<node>.draining, .evacuate, .workload-left, .drained, .evacuation-timed-out). The per-call network timeout comes from the context.
Asks for confirmation on a terminal; without one it refuses unless --yes (exit 64).`
  static examples = [
    {description: 'Drain a node whose GPU reports uncorrectable ECC errors', command: '<%= config.bin %> gpu evacuate gpu-07 --reason "Xid 48: double-bit ECC on GPU 3"'},
    {description: 'What would happen, and which workloads would be asked to leave', command: '<%= config.bin %> gpu evacuate gpu-07 --dry-run'},
    {description: 'From automation, with a short deadline', command: '<%= config.bin %> gpu evacuate gpu-07 --reason "thermal" --drain-timeout 5m --yes --json'},
    {description: 'Continue an evacuation that timed out', command: '<%= config.bin %> gpu evacuate gpu-07 --resume --drain-timeout 20m --yes'},
  ]
  static args = {
    node: Args.string({required: true, description: 'Node name, as in cim_gpu_nodes (one subject token: no dots).'}),
  }
  static flags = {
    reason: Flags.string({summary: 'Why: stored on the node, sent to its workloads, kept in the ops log.', default: 'evacuated with cimops gpu evacuate'}),
    ...drainTimeoutFlags('How long workloads get to leave; then stuck ones are reported and the node stays draining.'),
    resume: Flags.boolean({summary: 'Continue an evacuation of a node that is already draining (after a timeout or Ctrl-C).'}),
    'dry-run': Flags.boolean({summary: 'Show the plan and the workloads that would be asked to leave; change nothing.'}),
    yes: Flags.boolean({summary: 'Do not ask for confirmation (required without a terminal).'}),
    quiet: Flags.boolean({summary: 'No progress on stderr.'}),
    force: Flags.boolean({summary: 'Evacuate a node no GPU bucket knows yet (a deliberate new name).'}),
    ...MUTATING_FLAGS,
  }

  /** --timeout, while it still names the drain deadline here, is not the global per-call network timeout. */
  protected connectionFlags(): ConnectionFlags {
    return {...super.connectionFlags(), timeout: undefined}
  }

  async run(): Promise<EvacuationResult> {
    const {reason, resume, yes, quiet, actor, force} = this.flags
    const dryRun = this.flags['dry-run']
    const [{checkNodeName}, {actorName, resolveActor}] = await Promise.all([import('../../lib/gpu/node.js'), import('../../lib/core/actor.js')])
    const node = checkNodeName(this.args.node)
    const drainMs = drainTimeoutMs(this.flags, (line) => this.note(line))
    if (!dryRun && !(await confirm(`Evacuate GPU node ${node}: mark it draining and tell its workloads to leave?`, {yes}))) {
      throw new OperationError(`evacuation of ${node} not started`, 'declined at the prompt; nothing was changed')
    }
    const ctx = await this.context()
    const [{withFleet}, {evacuateNode}, {assertKnownNode}, {createProgress, progressMode}] = await Promise.all([
      import('../../lib/gpu/fleet.js'),
      import('../../lib/gpu/evacuate.js'),
      import('../../lib/gpu/known.js'),
      import('../../lib/gpu/progress.js'),
    ])
    let progress: Awaited<ReturnType<typeof createProgress>> | undefined
    let result: EvacuationResult
    try {
      result = await withFleet(ctx, {nats: await this.nats({name: `cimops-gpu-evacuate-${node}`, reconnect: true})}, async (session) => {
        if (!force) await assertKnownNode(session, node, 'pass --force to evacuate a new node on purpose')
        progress = await createProgress(dryRun ? 'quiet' : progressMode({quiet, json: this.jsonEnabled()}), {title: `cimops gpu evacuate ${node} — Ctrl-C stops waiting (the node stays draining)`})
        const live = progress
        return evacuateNode(session, {node, reason, by: actorName(resolveActor(actor)), timeoutMs: drainMs, dryRun, resume, signal: this.signal, onProgress: (p) => live.update(p)})
      })
    } finally {
      await progress?.stop()
    }
    this.print(renderEvacuation(result, {style: this.style, width: this.width}))
    if (result.outcome === 'timed-out' || result.outcome === 'superseded') {
      process.exitCode = ExitCode.FAILED
      if (!this.jsonEnabled()) process.stderr.write(`cimops: evacuation of ${node} did not complete: ${redactString(result.message)}\n`)
    } else if (result.outcome === 'interrupted') {
      process.exitCode = ExitCode.INTERRUPTED
    }
    return result
  }
}
