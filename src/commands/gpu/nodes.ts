import {BaseCommand} from '../../lib/core/base-command.js'
import type {FleetView} from '../../lib/gpu/nodes.js'
import {renderFleet} from '../../lib/gpu/render.js'

export default class GpuNodes extends BaseCommand<typeof GpuNodes> {
  static summary = 'The GPU fleet from KV: each node’s state (active/draining/drained), GPU health and allocations'
  static description = `Joins the three KV buckets of the GPU fleet: cim_gpu_nodes (state, reason, since, by), cim_gpu_health (the verdict each node publishes with \`cimops gpu status --publish\`) and cim_gpu_allocations (keys <node>.<workload>).
A node without a state record is active. A health report older than the context's gpu.healthStaleAfter (default 10m) is marked stale: the node stopped publishing.
--verbose lists every allocation. Reads only: a bucket that does not exist yet reads as empty.`
  static examples = [
    {description: 'The fleet', command: '<%= config.bin %> gpu nodes'},
    {description: 'Nodes whose GPUs are CRITICAL', command: '<%= config.bin %> gpu nodes --json | jq -r \'.nodes[] | select(.health.status == "CRITICAL") | .node\''},
  ]

  async run(): Promise<FleetView> {
    const ctx = await this.context()
    const [{withFleet}, {listFleet}, {resolveGpuThresholds}] = await Promise.all([
      import('../../lib/gpu/fleet.js'),
      import('../../lib/gpu/nodes.js'),
      import('../../lib/gpu/thresholds.js'),
    ])
    const staleAfterSeconds = resolveGpuThresholds(ctx.gpu).healthStaleAfter
    const view = await withFleet(ctx, {nats: await this.nats()}, (session) => listFleet(session, {staleAfterSeconds}))
    this.print(renderFleet(view, {style: this.style, width: this.width, verbose: this.flags.verbose}))
    return view
  }
}
