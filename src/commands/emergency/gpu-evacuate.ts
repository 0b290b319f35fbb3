import {Flags} from '@oclif/core'

import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import {confirm} from '../../lib/core/confirm.js'
import type {ConnectionFlags} from '../../lib/core/context.js'
import {ExitCode, OperationError} from '../../lib/core/errors.js'
import type {EmergencyGpuResult} from '../../lib/gpu/emergency.js'
import {drainTimeoutFlags, drainTimeoutMs} from '../../flags/drain-timeout.js'
import {renderEmergencyGpu} from '../../lib/gpu/render.js'

export default class EmergencyGpuEvacuate extends BaseCommand<typeof EmergencyGpuEvacuate> {
  static audited = true
  static summary = 'Evacuate every GPU node whose published GPU health is CRITICAL, in parallel, with one summary'
  static description = `Reads cim_gpu_health (what nodes publish with \`cimops gpu status --publish\`), takes every node whose verdict is CRITICAL and runs the drain protocol of \`cimops gpu evacuate\` on each, at most --parallel at a time, each with its own deadline (--drain-timeout).
Records cim.ops.emergency.gpu-evacuate on the ops log, then each node's own steps. Nodes already drained count as done; a node another operator is evacuating is refused and listed.
Exit 0 when every CRITICAL node is drained, 2 when any is not (timed out, refused, failed). Asks for confirmation on a terminal; without one it refuses unless --yes (exit 64).`
  static examples = [
    {description: 'Which nodes would be evacuated', command: '<%= config.bin %> emergency gpu-evacuate --dry-run'},
    {description: 'Do it', command: '<%= config.bin %> emergency gpu-evacuate --yes --reason "Xid storm after driver upgrade"'},
  ]
  static flags = {
    reason: Flags.string({summary: 'Why [default: the node\'s CRITICAL health summary].'}),
    ...drainTimeoutFlags('Drain deadline per node.'),
    parallel: Flags.integer({min: 1, max: 64, default: 4, summary: 'Nodes evacuated at the same time.'}),
    'dry-run': Flags.boolean({summary: 'List the CRITICAL nodes and their workloads; change nothing.'}),
    yes: Flags.boolean({summary: 'Do not ask for confirmation (required without a terminal).'}),
    quiet: Flags.boolean({summary: 'No progress on stderr.'}),
    ...MUTATING_FLAGS,
  }

  /** --timeout, while it still names the drain deadline here, is not the global per-call network timeout. */
  protected connectionFlags(): ConnectionFlags {
    return {...super.connectionFlags(), timeout: undefined}
  }

  async run(): Promise<EmergencyGpuResult> {
    const {reason, yes, quiet, actor, parallel} = this.flags
    const dryRun = this.flags['dry-run']
    const drainMs = drainTimeoutMs(this.flags, (line) => this.note(line))
    const ctx = await this.context()
    const [{actorName, resolveActor}, {withFleet}, {criticalNodes, emergencyGpuEvacuate}, {createProgress, progressMode}, {resolveGpuThresholds}] = await Promise.all([
      import('../../lib/core/actor.js'),
      import('../../lib/gpu/fleet.js'),
      import('../../lib/gpu/emergency.js'),
      import('../../lib/gpu/progress.js'),
      import('../../lib/gpu/thresholds.js'),
    ])
    const staleAfterSeconds = resolveGpuThresholds(ctx.gpu).healthStaleAfter
    const result = await withFleet(ctx, {nats: await this.nats({reconnect: true})}, async (session) => {
      const {targets} = await criticalNodes(session, staleAfterSeconds)
      if (!dryRun && targets.length > 0) {
        const names = targets.map((t) => t.node).join(', ')
        if (!(await confirm(`Evacuate ${targets.length} GPU node${targets.length === 1 ? '' : 's'} with CRITICAL health (${names})?`, {yes}))) {
          throw new OperationError('emergency GPU evacuation not started', 'declined at the prompt; nothing was changed')
        }
      }
      const progress = await createProgress(dryRun ? 'quiet' : progressMode({quiet, json: this.jsonEnabled()}), {title: 'cimops emergency gpu-evacuate — Ctrl-C stops waiting (nodes stay draining)'})
      try {
        return await emergencyGpuEvacuate(session, {
          reason,
          by: actorName(resolveActor(actor)),
          timeoutMs: drainMs,
          parallel,
          staleAfterSeconds,
          dryRun,
          signal: this.signal,
          onProgress: (p) => progress.update(p),
        })
      } finally {
        await progress.stop()
      }
    })
    this.print(renderEmergencyGpu(result, {style: this.style, width: this.width}))
    if (result.failed > 0) process.exitCode = this.signal.aborted ? ExitCode.INTERRUPTED : ExitCode.FAILED
    return result
  }
}
