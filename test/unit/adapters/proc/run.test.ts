import {describe, expect, it} from 'vitest'
import {ExitCode, InterruptedError, OperationError, TimeoutError} from '../../../../src/lib/core/errors.js'
import {runTool, ToolNotFoundError} from '../../../../src/lib/adapters/proc/run.js'

const node = process.execPath

describe('runTool', () => {
  it('returns stdout, stderr, exit code and duration', async () => {
    const result = await runTool(node, ['-e', 'console.log("out"); console.error("err")'], {timeoutMs: 10_000})
    expect(result).toMatchObject({exitCode: 0, stdout: 'out', stderr: 'err'})
    expect(result.durationMs).toBeGreaterThan(0)
  })

  it('a non-zero exit is a result, not an error', async () => {
    await expect(runTool(node, ['-e', 'process.exit(3)'], {timeoutMs: 10_000})).resolves.toMatchObject({exitCode: 3})
  })

  it('passes arguments verbatim, with no shell in between', async () => {
    const tricky = ['$(echo hacked)', '; rm -rf /', "it's \"quoted\"", '*']
    const result = await runTool(node, ['-e', 'console.log(JSON.stringify(process.argv.slice(1)))', ...tricky], {timeoutMs: 10_000})
    expect(JSON.parse(result.stdout)).toEqual(tricky)
  })

  it('adds env to the inherited environment, honours cwd, and feeds input', async () => {
    const script = 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log([process.env.CIMOPS_X, process.cwd(), s, !!process.env.PATH].join("|")))'
    const result = await runTool(node, ['-e', script], {timeoutMs: 10_000, env: {CIMOPS_X: 'x1'}, cwd: '/tmp', input: 'stdin-text'})
    expect(result.stdout).toBe('x1|/tmp|stdin-text|true')
  })

  it('closes stdin when there is no input, so a reader does not hang', async () => {
    const result = await runTool(node, ['-e', 'process.stdin.resume().on("end", () => console.log("eof"))'], {timeoutMs: 5000})
    expect(result.stdout).toBe('eof')
  })

  it('a missing program is ToolNotFoundError naming it and PATH', async () => {
    const error = await runTool('cimops-no-such-tool', ['--version'], {timeoutMs: 5000, env: {PATH: '/nowhere/bin'}}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ToolNotFoundError)
    expect(error).toMatchObject({code: 'NOT_INSTALLED', exit: ExitCode.UNAVAILABLE, system: 'cimops-no-such-tool'})
    expect((error as ToolNotFoundError).line).toBe(
      'cimops-no-such-tool is not installed: not found on PATH (/nowhere/bin) (install it or add its directory to PATH)',
    )
  })

  it('a missing program given by path names the path', async () => {
    await expect(runTool('/opt/none/nvidia-smi', [], {timeoutMs: 5000})).rejects.toMatchObject({
      code: 'NOT_INSTALLED',
      what: 'nvidia-smi is not installed',
      why: 'no such file /opt/none/nvidia-smi',
    })
  })

  it('a missing working directory is not mistaken for a missing program', async () => {
    const error = await runTool(node, ['-e', '0'], {timeoutMs: 5000, cwd: '/no/such/dir'}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OperationError)
    expect((error as OperationError).why).toBe('working directory /no/such/dir does not exist')
  })

  it('a program that runs too long is killed and reported as TimeoutError', async () => {
    const started = performance.now()
    const error = await runTool(node, ['-e', 'setTimeout(() => {}, 60_000)'], {timeoutMs: 300}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({system: 'node', exit: ExitCode.TIMEOUT, why: 'timed out after 300ms'})
    expect(performance.now() - started).toBeLessThan(3000)
  })

  it('a program that ignores SIGTERM is still stopped', async () => {
    const started = performance.now()
    const stubborn = 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'
    await expect(runTool(node, ['-e', stubborn], {timeoutMs: 300})).rejects.toBeInstanceOf(TimeoutError)
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it('aborting our signal stops the program with InterruptedError', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 200)
    const error = await runTool(node, ['-e', 'setTimeout(() => {}, 60_000)'], {timeoutMs: 10_000, signal: controller.signal}).catch(
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(InterruptedError)
    expect(error).toMatchObject({exit: ExitCode.INTERRUPTED, what: 'node stopped'})
  })

  it('a program killed by a signal not ours gets 128 + signal number', async () => {
    const result = await runTool(node, ['-e', 'process.kill(process.pid, "SIGKILL")'], {timeoutMs: 10_000})
    expect(result.exitCode).toBe(137)
  })
})
