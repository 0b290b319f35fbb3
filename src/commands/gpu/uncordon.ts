import {Args, Flags} from '@oclif/core'

import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import type {UncordonResult} from '../../lib/gpu/evacuate.js'
import {renderUncordon} from '../../lib/gpu/render.js'

export default class GpuUncordon extends BaseCommand<typeof GpuUncordon> {
  static audited = true
  static summary = 'Return a drained (or draining) GPU node to active'
  static description = `Compare-and-sets the node to active in cim_gpu_nodes and records cim.ops.gpu.<node>.active on the ops log.
Uncordoning a draining node cancels its evacuation: the evacuating command sees the node change and stops waiting.
A node changed by someone else at the same moment is refused (exit 2), changing nothing. An already active node is left as is (exit 0).`
  static examples = [
    {description: 'After the GPU was reset and validated', command: '<%= config.bin %> gpu uncordon gpu-07 --reason "GPU 3 replaced, dcgmi diag -r 3 passed"'},
    {description: 'See what would change', command: '<%= config.bin %> gpu uncordon gpu-07 --dry-run'},
  ]
  static args = {
    node: Args.string({required: true, description: 'Node name, as in cim_gpu_nodes.'}),
  }
  static flags = {
    reason: Flags.string({summary: 'Why it may take work again: kept on the node and in the ops log.'}),
    'dry-run': Flags.boolean({summary: 'Show what would change; change nothing.'}),
    ...MUTATING_FLAGS,
  }

  async run(): Promise<UncordonResult> {
    const [{checkNodeName}, {actorName, resolveActor}, {withFleet}, {uncordonNode}] = await Promise.all([
      import('../../lib/gpu/node.js'),
      import('../../lib/core/actor.js'),
      import('../../lib/gpu/fleet.js'),
      import('../../lib/gpu/evacuate.js'),
    ])
    const node = checkNodeName(this.args.node)
    const ctx = await this.context()
    const result = await withFleet(ctx, {nats: await this.nats({name: `cimops-gpu-uncordon-${node}`})}, (session) =>
      uncordonNode(session, {node, by: actorName(resolveActor(this.flags.actor)), reason: this.flags.reason, dryRun: this.flags['dry-run']}),
    )
    this.print(renderUncordon(result, {style: this.style, width: this.width}))
    return result
  }
}
