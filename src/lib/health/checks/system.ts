import type {MountUsage} from '../../adapters/system/host.js'
import type {CheckOutcome} from '../../core/check/result.js'
import {statusAbove, statusBelow} from '../../core/check/status.js'
import type {CheckContext, HealthCheck} from '../runner.js'
import {formatBytes, round} from '../../core/output/units.js'

/** This host: CPU load per core, memory used %, and free space on the watched mounts. */
export const systemCheck: HealthCheck = {
  name: 'system',
  component: 'system',
  async run({ctx}: CheckContext): Promise<CheckOutcome[]> {
    const {hostLoad, hostMemory, mountUsage} = await import('../../adapters/system/host.js')
    const t = ctx.thresholds
    const [memory, usage] = await Promise.all([hostMemory(), mountUsage(ctx.mounts)])
    const load = hostLoad()
    return [
      {
        name: 'cpu',
        component: 'system',
        status: statusAbove(load.perCore, t.loadWarn, t.loadCrit),
        summary: `load ${load.load1.toFixed(2)} on ${load.cores} cores (${load.perCore.toFixed(2)} per core)`,
        metrics: [{name: 'load_per_core', value: round(load.perCore, 3), warn: t.loadWarn, crit: t.loadCrit}],
      },
      {
        name: 'memory',
        component: 'system',
        status: statusAbove(memory.usedPercent, t.memWarn, t.memCrit),
        summary: `${memory.usedPercent.toFixed(1)}% used, ${formatBytes(memory.availableBytes)} available of ${formatBytes(memory.totalBytes)}`,
        metrics: [{name: 'memory_used', value: round(memory.usedPercent, 2), unit: '%', warn: t.memWarn, crit: t.memCrit}],
      },
      ...ctx.mounts.map((mount) => diskOutcome(mount, usage, t.diskFreeWarn, t.diskFreeCrit)),
    ]
  },
}

function diskOutcome(mount: string, usage: MountUsage, warn: number, crit: number): CheckOutcome {
  const fs = usage.filesystems.find((f) => f.mount === mount)
  if (!fs) {
    return {name: `disk:${mount}`, component: 'system', status: 'UNKNOWN', summary: `${mount} is not a mounted filesystem (mounts: ${usage.mountPoints.join(', ')})`, metrics: []}
  }
  return {
    name: `disk:${mount}`,
    component: 'system',
    status: statusBelow(fs.freePercent, warn, crit),
    summary: `${fs.freePercent.toFixed(1)}% free, ${formatBytes(fs.availableBytes)} of ${formatBytes(fs.sizeBytes)} (${fs.device})`,
    metrics: [{name: 'disk_free', value: round(fs.freePercent, 2), unit: '%', warn, crit, lowIsBad: true}],
  }
}
