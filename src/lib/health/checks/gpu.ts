import type {CheckOutcome} from '../../core/check/result.js'
import type {CheckContext, HealthCheck} from '../runner.js'

/**
 * GPUs of this host, judged by the GPU health rules of src/lib/gpu (the same verdict as `cimops gpu status`):
 * one result per NVIDIA GPU (`gpu:<index>`), one `gpu` result for an Apple GPU, for a whole-tool failure or for
 * host findings (missing GPUs, Xids on a lost bus), or OK when the host has no GPU tool at all.
 */
export const gpuCheck: HealthCheck = {
  name: 'gpu',
  component: 'gpu',
  async run({ctx, signal}: CheckContext): Promise<CheckOutcome | CheckOutcome[]> {
    const [{collectGpuStatus}, {resolveGpuThresholds}, {defaultNodeName}] = await Promise.all([
      import('../../gpu/collect.js'),
      import('../../gpu/thresholds.js'),
      import('../../gpu/node.js'),
    ])
    const report = await collectGpuStatus({node: defaultNodeName(), thresholds: resolveGpuThresholds(ctx.gpu), timeoutMs: ctx.timeoutMs, signal})
    return report.checks.map(({name, component, status, summary, metrics, details}) => ({name, component, status, summary, metrics, ...(details ? {details} : {})}))
  },
}
