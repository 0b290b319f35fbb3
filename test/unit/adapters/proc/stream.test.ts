/** The streaming runner under runbook steps: real processes (bash), real process groups. */
import {describe, expect, it} from 'vitest'

import {runStreaming} from '../../../../src/lib/adapters/proc/stream.js'

const collect = () => {
  const lines: string[] = []
  return {lines, onLine: (stream: 'stdout' | 'stderr', line: string) => lines.push(`${stream}:${line}`)}
}

describe('runStreaming', () => {
  it('hands over each line as it comes, from both streams, and returns the exit code', async () => {
    const out = collect()
    const result = await runStreaming('bash', ['-e', '-c', 'echo one; echo two >&2; printf "no newline"; exit 4', 'rb/step'], {onLine: out.onLine})
    expect(result).toMatchObject({exitCode: 4, timedOut: false, canceled: false})
    expect(out.lines.sort()).toEqual(['stderr:two', 'stdout:no newline', 'stdout:one'])
  })

  it('passes the environment and the working directory; -e stops at the first failing command', async () => {
    const out = collect()
    const result = await runStreaming('bash', ['-e', '-c', 'echo "$X in $PWD"; false; echo never'], {env: {X: 'x; rm -rf /'}, cwd: '/tmp', onLine: out.onLine})
    expect(result.exitCode).toBe(1)
    expect(out.lines).toEqual(['stdout:x; rm -rf / in /tmp'])
  })

  it('a timeout stops the whole process group, children included', async () => {
    const started = Date.now()
    const result = await runStreaming('bash', ['-c', 'sleep 30 & sleep 30; echo never'], {timeoutMs: 300, onLine: () => {}})
    expect(result).toMatchObject({exitCode: null, timedOut: true, canceled: false})
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('an abort stops it too (Ctrl-C)', async () => {
    const abort = new AbortController()
    setTimeout(() => abort.abort(), 200)
    const result = await runStreaming('bash', ['-c', 'sleep 30'], {signal: abort.signal, onLine: () => {}})
    expect(result).toMatchObject({exitCode: null, canceled: true})
  })

  it('a background job left behind does not hold the step open', async () => {
    const started = Date.now()
    const result = await runStreaming('bash', ['-c', '(sleep 30; echo late) & echo done'], {onLine: () => {}})
    expect(result.exitCode).toBe(0)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('a missing shell or working directory is an error, not an exit code', async () => {
    await expect(runStreaming('cimops-no-such-shell', ['-c', 'true'], {onLine: () => {}, env: {PATH: '/nowhere'}})).rejects.toThrow(/not installed/)
    await expect(runStreaming('bash', ['-c', 'true'], {onLine: () => {}, cwd: '/nonexistent/dir'})).rejects.toThrow(/working directory \/nonexistent\/dir does not exist/)
  })
})
