/**
 * Whole-command failures of nvidia-smi (reference/gpu.md §1.2), shared by every nvidia-smi call:
 * the text on either stream (nvidia-smi prints some on stdout) and the exit code, whose meanings follow NVML's return codes.
 */
import type {RunResult} from '../proc/run.js'
import {GpuToolError, type GpuToolFailure} from './errors.js'

export interface RecognizedFailure {
  error: GpuToolError
  /** The field nvidia-smi rejected, for invalid-field. */
  field?: string
}

const HINTS: Record<GpuToolFailure, string> = {
  'driver-not-loaded': 'load the kernel module (modprobe nvidia) or reinstall the driver; look for NVRM errors in the kernel log',
  'no-devices': 'check the GPUs are on the PCI bus (lspci -d 10de:) and not bound to another driver such as vfio-pci',
  'version-mismatch': 'the driver was upgraded without reloading its kernel module: drain the node and reboot',
  'fallen-off-bus': 'drain the node, then reset the GPU (nvidia-smi -r) or reboot; look for Xid 79 in the kernel log',
  permission: 'run as root, or give this user access to /dev/nvidia*',
  'invalid-field': 'this driver is older than cimops supports; upgrade the NVIDIA driver',
  unknown: 'run nvidia-smi by hand to see the full message',
}

/** A lost GPU can leave the exit code 0 while the others still answer, so the text is checked on success too. */
export function recognizeFailure(result: Pick<RunResult, 'exitCode' | 'stdout' | 'stderr'>): RecognizedFailure | undefined {
  const output = `${result.stderr}\n${result.stdout}`
  const fail = (kind: GpuToolFailure, why: string, field?: string): RecognizedFailure => ({
    field,
    error: new GpuToolError(kind, 'nvidia-smi', why, {hint: HINTS[kind], exitCode: result.exitCode}),
  })

  const invalidField = /Field "([^"]+)" is not a valid field to query/.exec(output)
  if (invalidField) return fail('invalid-field', `the driver does not know the field "${invalidField[1]}"`, invalidField[1])
  // Not `[Insufficient Permissions]`: as a CSV value it only means that field is hidden from this user.
  if (/(?<!\[)Insufficient Permissions|Permission denied/i.test(output) || result.exitCode === 4) {
    return fail('permission', 'not allowed to query the GPUs (insufficient permissions)')
  }
  if (/couldn't communicate with the NVIDIA driver/i.test(output) || result.exitCode === 9) {
    return fail('driver-not-loaded', 'cannot communicate with the NVIDIA driver: it is not loaded or not running')
  }
  if (/couldn't find libnvidia-ml\.so|NVML Shared Library Not Found/i.test(output) || result.exitCode === 12) {
    return fail('driver-not-loaded', 'the NVML library (libnvidia-ml) is missing: the driver is not installed completely')
  }
  if (/Driver\/library version mismatch/i.test(output)) {
    return fail('version-mismatch', 'the loaded kernel driver and the NVML library have different versions')
  }
  if (/No devices were found/i.test(output) || result.exitCode === 6) return fail('no-devices', 'no NVIDIA GPU was found')
  const lost = lostGpus(output)
  // Not the bare "GPU is lost": that is also a per-GPU CSV value, which marks only that GPU failed.
  if (lost.length > 0 || /fallen off the bus/i.test(output) || result.exitCode === 15) {
    const what = lost.length > 0 ? lost.join('; ') : 'a GPU is inaccessible'
    return fail('fallen-off-bus', `${what} (GPU fallen off the bus or lost)`)
  }
  if (result.exitCode !== 0) {
    const firstLine = output.split('\n').find((line) => line.trim() !== '')?.trim().slice(0, 200) ?? 'no output'
    return fail('unknown', `exit code ${result.exitCode}: ${firstLine}`)
  }
  return undefined
}

/** `Unable to determine the device handle for GPU3: 0000:04:00.0: Unknown Error` -> `GPU3: 0000:04:00.0 cannot be reached: Unknown Error`. */
function lostGpus(output: string): string[] {
  return [...output.matchAll(/Unable to determine the device handle for (.+)$/gm)].map((match) => {
    const detail = match[1].trim()
    const split = detail.lastIndexOf(': ')
    return split === -1 ? `${detail} cannot be reached` : `${detail.slice(0, split)} cannot be reached: ${detail.slice(split + 2)}`
  })
}
