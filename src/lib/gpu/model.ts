import type {XidSeverity} from '../adapters/gpu/kernel-log.js'
import type {NvidiaGpu} from '../adapters/gpu/nvidia-smi.js'
import type {GpuProcess, RetiredPageList} from '../adapters/gpu/nvidia-smi-xml.js'
import type {CheckReport} from '../core/check/result.js'
import type {Status} from '../core/check/status.js'

/** One NVIDIA GPU as the rules see it: the query CSV, completed by `-q -x` where it knows more. */
export interface GpuSnapshot extends NvidiaGpu {
  resetRequired?: boolean
  drainAndResetRecommended?: boolean
  /** Absolute slowdown temperature (pre-v13 drivers), °C. */
  slowdownTempC?: number
  /** T.Limit headroom at which slowdown starts (v13), °C, e.g. -2. */
  slowdownTlimitC?: number
  memoryTempC?: number
  memoryMaxTempC?: number
  eccUncorrectedAggregate?: number
  eccCorrectedAggregate?: number
  retiredPages?: {singleBit?: RetiredPageList; doubleBit?: RetiredPageList}
  remappedRowsCorrectable?: number
  remappedRowsUncorrectable?: number
  processes?: GpuProcess[]
}

/** Xid events of one GPU (or of a bus id no listed GPU has), deduplicated by Xid number. */
export interface XidSummary {
  xid: number
  description: string
  severity: XidSeverity
  pciKey: string
  count: number
  /** RFC 3339, when the log lines have times. */
  firstSeen?: string
  lastSeen?: string
  /** The last line's message, pid and process. */
  message: string
  process?: string
  pid?: number
}

export interface Finding {
  status: Status
  /** Stable identifier: `ecc-uncorrected`, `remap-pending`, `xid-79`, `thermal-slowdown`, `gpu-missing`... */
  code: string
  text: string
}

/** The verdict of one GPU, as `gpu status` shows it and `--publish` shares it. */
export interface GpuHealth {
  index: number
  uuid?: string
  name?: string
  busId?: string
  status: Status
  findings: Finding[]
  /** `59°C, 100% busy, 19.4/79.6 GiB, 632/700 W`. */
  readings: string
  xids: XidSummary[]
}

export interface KernelLogStatus {
  /** Where it was read from: `journalctl -k`, `dmesg`, a file, or what was tried. */
  source: string
  readable: boolean
  /** Why it could not be read: Xid errors were not checked. */
  reason?: string
  /** Xid lines counted (within the window) and older ones left out. */
  xidEvents: number
  olderXidEvents: number
  allocationFailures: number
}

/** `gpu status`: the shared check shape (status, summary, checks, durationSeconds) plus the GPUs themselves. */
export interface GpuStatusReport extends CheckReport {
  node: string
  /** RFC 3339. */
  checkedAt: string
  tool: 'nvidia-smi' | 'powermetrics' | 'none'
  driverVersion?: string
  expectedGpus?: number
  gpus: GpuHealth[]
  /** The full readings, for --json and --verbose. */
  snapshots: GpuSnapshot[]
  /** Findings about the host rather than one GPU: missing GPUs, Xids on a bus no GPU answers for. */
  hostFindings: Finding[]
  kernelLog?: KernelLogStatus
  /** Things that did not change the verdict but limit what it is based on. */
  notes: string[]
  /** Set by `--publish`. */
  published?: {bucket: string; key: string; revision: number}
}
