import {rm} from 'node:fs/promises'
import {join} from 'node:path'

import {writeFileAtomic} from '../core/atomic-write.js'
import type {SandboxState} from './types.js'

/** Prometheus file_sd target files of the sandbox's `cim` scrape job (picked up within seconds, no reload). */
function targetFile(state: SandboxState, name: string): string {
  return join(state.stateDir, 'prometheus', 'targets', `${name}.json`)
}

export async function addScrapeTarget(state: SandboxState, name: string, address: string, labels: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(targetFile(state, name), scrapeTargetText(address, labels))
}

/** A file_sd target file: one target and its labels (a `job` label here overrides the job's name). */
export function scrapeTargetText(address: string, labels: Record<string, string> = {}): string {
  return `${JSON.stringify([{targets: [address], labels}], null, 2)}\n`
}

export async function removeScrapeTarget(state: SandboxState, name: string): Promise<void> {
  await rm(targetFile(state, name), {force: true})
}
