import {Args, Flags} from '@oclif/core'

import {BaseCommand, MUTATING_FLAGS} from '../../lib/core/base-command.js'
import {confirm} from '../../lib/core/confirm.js'
import {OperationError} from '../../lib/core/errors.js'
import type {ForgetResult} from '../../lib/gpu/forget.js'
import {renderForget} from '../../lib/gpu/render.js'

export default class GpuForget extends BaseCommand<typeof GpuForget> {
  static audited = true
  static summary = 'Remove a GPU node from the fleet: its state (cim_gpu_nodes) and health report (cim_gpu_health)'
  static description = `For a node that should not be there: a name evacuated by mistake (gpu evacuate --force of a typo), or a decommissioned host. Afterwards \`gpu nodes\` and the morning check no longer show it; cim.ops.gpu.<node>.forgotten records who removed it and what.
Refused (exit 2, nothing removed) while workloads are allocated on the node or it is being evacuated; an unknown node is exit 64 with the known ones listed. The state record is removed by compare-and-delete: a node changed by someone else meanwhile is kept.
Asks for confirmation on a terminal; without one it refuses unless --yes (exit 64). A node that publishes its health again (\`gpu status --publish\`) reappears.`
  static examples = [
    {description: 'Remove a phantom node left by a typo', command: '<%= config.bin %> gpu forget gpu-99 --reason "typo of gpu-09"'},
    {description: 'See what would be removed', command: '<%= config.bin %> gpu forget gpu-99 --dry-run'},
    {description: 'From a script', command: '<%= config.bin %> gpu forget gpu-old-03 --reason decommissioned --yes --json'},
  ]
  static args = {
    node: Args.string({required: true, description: 'Node name, as in `cimops gpu nodes`.'}),
  }
  static flags = {
    reason: Flags.string({summary: 'Why: kept in the ops log.'}),
    yes: Flags.boolean({summary: 'Do not ask for confirmation (required without a terminal).'}),
    'dry-run': Flags.boolean({summary: 'Show what would be removed; change nothing.'}),
    ...MUTATING_FLAGS,
  }

  async run(): Promise<ForgetResult> {
    const {reason, yes, actor} = this.flags
    const dryRun = this.flags['dry-run']
    const [{checkNodeName}, {actorName, resolveActor}] = await Promise.all([import('../../lib/gpu/node.js'), import('../../lib/core/actor.js')])
    const node = checkNodeName(this.args.node)
    if (!dryRun && !(await confirm(`Forget GPU node ${node}: remove its state and health records?`, {yes}))) {
      throw new OperationError(`${node} not forgotten`, 'declined at the prompt; nothing was changed')
    }
    const ctx = await this.context()
    const [{withFleet}, {forgetNode}] = await Promise.all([import('../../lib/gpu/fleet.js'), import('../../lib/gpu/forget.js')])
    const result = await withFleet(ctx, {nats: await this.nats({name: `cimops-gpu-forget-${node}`})}, (session) => forgetNode(session, {node, by: actorName(resolveActor(actor)), reason, dryRun}))
    this.print(renderForget(result, {style: this.style, width: this.width}))
    return result
  }
}
