/**
 * `cimops backup verify`: structure and checksums of every file; for logical sets also the content
 * (message count and digest recomputed from the file); with --deep, a real restore of every stream
 * into an ephemeral nats-server, compared with the manifest.
 */
import {join} from 'node:path'

import {withNatsSession} from '../adapters/nats/session.js'
import {serverVersionNeeded, withEphemeralNats} from './ephemeral.js'
import {checkFiles, type FileCheck, type LoadedSet} from './integrity.js'
import {interruptible} from './interrupt.js'
import {digestMessagesFile} from './logical.js'
import {type BackupMode, MESSAGES_FILE} from './manifest.js'
import type {ProgressListener} from './progress.js'
import {type RestoreCheck, restoreSet} from './restore.js'
import {writeVerifiedStamp} from './stamp.js'

export interface VerifyOptions {
  set: LoadedSet
  deep: boolean
  timeoutMs: number
  signal?: AbortSignal
  onProgress?: ProgressListener
  log?: (line: string) => void
}

export interface VerifyStreamResult {
  name: string
  ok: boolean
  messages: number
  files: FileCheck[]
  /** Logical sets: what the messages file holds. */
  content?: {messages: number; digestOk: boolean}
  /** --deep: the restore's comparison with the manifest. */
  restore?: {ok: boolean; durationSeconds: number; checks: RestoreCheck[]}
}

export interface VerifyResult {
  set: string
  /** natscli: no manifest, so no checksums; only the structure was checked. */
  source: 'cimops' | 'natscli'
  mode: BackupMode
  createdAt: string
  deep: boolean
  ok: boolean
  problems: string[]
  /** What could not be checked, e.g. the parts an older cimops did not protect. */
  warnings: string[]
  streams: VerifyStreamResult[]
  /** --deep: the version of the throwaway nats-server restored into (at least the one that wrote the set). */
  restoreServerVersion?: string
  durationSeconds: number
}

export async function verifySet(opts: VerifyOptions): Promise<VerifyResult> {
  return interruptible(opts.signal, () => verify(opts))
}

async function verify(opts: VerifyOptions): Promise<VerifyResult> {
  const started = performance.now()
  const startedAt = new Date()
  const {set} = opts
  const files = await checkFiles(set, set.manifest.streams, opts.onProgress)
  const problems = files.filter((check) => !check.ok).map((check) => `${check.path}: ${check.problem}`)
  const warnings = [...(set.warnings ?? [])]
  // A sealed manifest is this version's: its messages files end with an end line, and must.
  const sealed = set.manifest.checksum !== undefined
  const streams: VerifyStreamResult[] = []
  for (const entry of set.manifest.streams) {
    const own = files.filter((check) => check.stream === entry.name)
    const result: VerifyStreamResult = {name: entry.name, ok: own.every((check) => check.ok), messages: entry.messages, files: own}
    if (result.ok && set.manifest.mode === 'logical') {
      const content = await digestMessagesFile(join(set.dir, entry.dir, MESSAGES_FILE), {endLine: sealed ? 'required' : 'optional'}).catch((error: Error) => {
        problems.push(`${entry.dir}/${MESSAGES_FILE}: ${error.message}`)
        return undefined
      })
      if (content && !content.endLine) warnings.push(`${entry.dir}/${MESSAGES_FILE}: made by an older cimops: no end line with its count and digest`)
      if (content) {
        const digestOk = entry.digest === undefined || entry.digest.value === content.digest
        result.content = {messages: content.messages, digestOk}
        if (content.messages !== entry.messages) problems.push(`${entry.dir}/${MESSAGES_FILE}: ${content.messages} messages, the manifest says ${entry.messages}`)
        if (!digestOk) problems.push(`${entry.dir}/${MESSAGES_FILE}: content digest differs from the manifest`)
        result.ok = content.messages === entry.messages && digestOk
      } else {
        result.ok = false
      }
    }
    streams.push(result)
  }

  let restoreServerVersion: string | undefined
  if (opts.deep && problems.length === 0) {
    const restored = await withEphemeralNats(
      (target) => {
        restoreServerVersion = target.serverVersion
        return withNatsSession(undefined, target.nats, {timeoutMs: opts.timeoutMs, name: 'cimops-verify'}, (nats) =>
          restoreSet({set, streams: [], replicas: 1, force: false, dryRun: false, nats, timeoutMs: opts.timeoutMs, signal: opts.signal, onProgress: opts.onProgress, verified: true}),
        )
      },
      {minVersion: await serverVersionNeeded(set), signal: opts.signal, log: opts.log},
    )
    for (const stream of restored.streams) {
      const result = streams.find((s) => s.name === stream.stream)
      if (!result) continue
      result.restore = {ok: stream.ok, durationSeconds: stream.durationSeconds, checks: stream.checks}
      if (!stream.ok) {
        result.ok = false
        for (const check of stream.checks.filter((c) => !c.ok)) problems.push(`${stream.stream}: restored ${check.name} ${check.actual}, the manifest says ${check.expected}`)
      }
    }
  }
  const ok = problems.length === 0 && streams.every((stream) => stream.ok)
  // For `backup list`; a set on read-only media stays "unverified" there, which is all that is lost.
  if (ok && set.source === 'cimops') await writeVerifiedStamp(set.dir, startedAt, opts.deep).catch((error: NodeJS.ErrnoException) => opts.log?.(`could not record the verification in ${set.dir}: ${error.code ?? error.message}`))
  return {
    set: set.dir,
    source: set.source,
    mode: set.manifest.mode,
    createdAt: set.manifest.createdAt,
    deep: opts.deep,
    ok,
    problems,
    warnings,
    streams,
    ...(restoreServerVersion ? {restoreServerVersion} : {}),
    durationSeconds: Math.round(performance.now() - started) / 1000,
  }
}
