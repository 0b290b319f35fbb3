import {join} from 'node:path'

import {UsageError} from '../core/errors.js'
import {cimopsDataDir} from '../core/paths.js'
import {createProgressRenderer, progressMode, type ProgressRenderer} from './progress.js'

/** Where `backup create` puts new sets and `backup list` / `restore NAME` look: $CIMOPS_DATA_DIR/backups. */
export function defaultBackupRoot(): string {
  return join(cimopsDataDir(), 'backups')
}

const SIZE_UNITS: Record<string, number> = {'': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2}

/** `128KiB`, `64k`, `1MiB`, `4096` -> bytes. */
export function parseSize(input: string, what: string, {min = 1, max = Number.MAX_SAFE_INTEGER} = {}): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(input.trim())
  const unit = match ? SIZE_UNITS[match[2].toLowerCase()] : undefined
  if (!match || unit === undefined) throw new UsageError(`invalid ${what} "${input}"`, 'expected a size such as 128KiB, 64k, 1MiB or a number of bytes')
  const bytes = Math.round(Number(match[1]) * unit)
  if (bytes < min || bytes > max) throw new UsageError(`invalid ${what} "${input}"`, `expected between ${min} and ${max} bytes`)
  return bytes
}

/** Progress on stderr as DESIGN.md asks: a live line on a terminal, a line every few seconds otherwise, nothing with --json or --quiet. */
export function stderrProgress({json, quiet}: {json: boolean; quiet: boolean}): ProgressRenderer {
  return createProgressRenderer({mode: progressMode({json, quiet, stderrIsTTY: Boolean(process.stderr.isTTY)}), write: (text) => process.stderr.write(text)})
}
