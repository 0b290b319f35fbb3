/**
 * Which GPU tool this host has, found without running anything: a host with neither has no GPU to check.
 */
import {existsSync} from 'node:fs'

import {findOnPath} from '../../core/executables.js'
import {POWERMETRICS_PATH} from './powermetrics.js'

export type GpuTool = 'nvidia-smi' | 'powermetrics'

type Env = Record<string, string | undefined>

/** Overrides where nvidia-smi is, for tests and unusual installs. */
const NVIDIA_SMI_ENV = 'CIMOPS_NVIDIA_SMI'

export function detectGpuTool(env: Env = process.env, platform: NodeJS.Platform = process.platform): GpuTool | undefined {
  // An explicit override wins even when that file is missing: running it then fails loudly instead of reporting "no GPU".
  if (env[NVIDIA_SMI_ENV]) return 'nvidia-smi'
  if (findOnPath('nvidia-smi', env, platform)) return 'nvidia-smi'
  if (platform === 'darwin' && existsSync(POWERMETRICS_PATH)) return 'powermetrics'
  return undefined
}

/** What to run for nvidia-smi: the override, or the name resolved on PATH. */
export function nvidiaSmiBinary(env: Env = process.env): string {
  return env[NVIDIA_SMI_ENV] || 'nvidia-smi'
}
