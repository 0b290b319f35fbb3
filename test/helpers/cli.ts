import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'vitest'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = join(ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  durationMs: number
}

/** An isolated home for config and data, so tests never touch the user's contexts or sandbox. */
export async function isolatedHome(): Promise<{env: Record<string, string>; dir: string; cleanup(): Promise<void>}> {
  const dir = await mkdtemp(join(tmpdir(), 'cimops-home-'))
  return {
    dir,
    env: {XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data'), CIMOPS_CONFIG: '', CIMOPS_DATA_DIR: '', NATS_URL: '', NATS_CONTEXT: '', NATS_CREDS: '', NATS_USER: '', NATS_PASSWORD: '', NATS_TOKEN: '', CIMOPS_CONTEXT: ''},
    cleanup: () => rm(dir, {recursive: true, force: true}),
  }
}

/** Runs the built CLI (bin/run.js -> dist) as a user would, with stdin closed. */
export function startCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  // NODE_ENV=test (set by vitest) would make oclif print development warnings a user never sees.
  const merged: Record<string, string> = {...(process.env as Record<string, string>), NODE_ENV: '', NO_COLOR: '1', ...env}
  for (const [key, value] of Object.entries(merged)) if (value === '') delete merged[key]
  return spawn(process.execPath, [BIN, ...args], {cwd: ROOT, env: merged, stdio: ['ignore', 'pipe', 'pipe']})
}

export function finished(child: ChildProcess): Promise<CliResult> {
  const started = performance.now()
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk))
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({code, stdout, stderr, durationMs: performance.now() - started}))
  })
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return finished(startCli(args, env))
}

/**
 * Counts the lines a running CLI has written to stdout, so a test waits for the output it needs instead of
 * for a fixed time (a loaded machine starts the CLI late). `until(n)` fails after `timeoutMs`.
 */
export function stdoutLines(child: ChildProcess): {until(count: number, timeoutMs?: number): Promise<void>} {
  let lines = 0
  const waiting: Array<{count: number; resolve(): void}> = []
  child.stdout?.on('data', (chunk: Buffer) => {
    lines += chunk.toString('utf8').split('\n').length - 1
    for (const waiter of waiting.filter((w) => lines >= w.count)) waiter.resolve()
  })
  return {
    until(count, timeoutMs = 15_000) {
      if (lines >= count) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${lines} of ${count} stdout lines after ${timeoutMs}ms`)), timeoutMs)
        waiting.push({count, resolve: () => (clearTimeout(timer), resolve())})
      })
    },
  }
}

/** The JSON result of a CLI run that must have succeeded quietly: exit 0, nothing on stderr. */
export function okJson<T>(result: CliResult): T {
  expect(result.stderr, result.stderr).toBe('')
  expect(result.code, result.stdout).toBe(0)
  return JSON.parse(result.stdout) as T
}
