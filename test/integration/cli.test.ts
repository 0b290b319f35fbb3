import {execFile} from 'node:child_process'
import {mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {promisify} from 'node:util'
import {createServer, type Server, type Socket} from 'node:net'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {finished, isolatedHome, ROOT, runCli, startCli} from '../helpers/cli.js'

let home: Awaited<ReturnType<typeof isolatedHome>>
beforeAll(async () => {
  home = await isolatedHome()
})
afterAll(() => home.cleanup())

describe('cimops as a process', () => {
  it('prints the version and the root help, listing the topics', async () => {
    const version = await runCli(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^cimops\/\d+\.\d+\.\d+ /)
    const help = await runCli(['--help'])
    expect(help.code).toBe(0)
    for (const topic of ['context', 'sandbox', 'health-check']) expect(help.stdout).toContain(topic)
  })

  it('prints nothing on stderr in a normal run: no update notice, no Node engine warning', async () => {
    const result = await runCli(['context', 'list'], home.env)
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
  })

  it('answers --help from the build-time cache with exactly what oclif prints', async () => {
    const cached = await runCli(['--help'])
    const rendered = await runCli(['--help'], {CIMOPS_NO_HELP_CACHE: '1'})
    expect(cached.stdout).toBe(rendered.stdout)
  })

  it('on a terminal, replays oclif\'s own rendering of the root help from the cache, one file per width and colour setting', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'cimops-help-cache-'))
    try {
      // script(1) gives the command a pty of 100 columns; its output is the terminal's bytes.
      const onTerminal = async (env: Record<string, string>) => {
        const command = `stty cols 100; ${process.execPath} ${join(ROOT, 'bin/run.js')} --help`
        const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/COLOR/.test(name)))
        const {stdout} = await promisify(execFile)('script', ['-qfec', command, '/dev/null'], {env: {...inherited, XDG_CACHE_HOME: cache, ...env}})
        return stdout
      }
      const rendered = await onTerminal({FORCE_COLOR: '1', CIMOPS_NO_HELP_CACHE: '1'})
      expect(rendered).toContain('\u001B[1mVERSION')
      expect(await onTerminal({FORCE_COLOR: '1'})).toBe(rendered)
      expect(await readdir(join(cache, 'cimops/help'))).toHaveLength(1)
      expect(await onTerminal({FORCE_COLOR: '1'})).toBe(rendered)
      const plain = await onTerminal({NO_COLOR: '1'})
      expect(plain).not.toContain('\u001B[')
      expect(plain).toBe(await onTerminal({NO_COLOR: '1', CIMOPS_NO_HELP_CACHE: '1'}))
      expect(await readdir(join(cache, 'cimops/help'))).toHaveLength(2)
    } finally {
      await rm(cache, {recursive: true, force: true})
    }
  })

  it('draws a --watch view on a terminal that reports 0 columns at 80, not one character per line', async () => {
    // script(1) without a terminal of its own gives the pty no size: 0 columns, as from cron.
    const command = `stty cols 0; exec ${process.execPath} ${join(ROOT, 'bin/run.js')} health-check --component system --watch --interval 1s`
    const watching = promisify(execFile)('script', ['-qfec', command, '/dev/null'], {env: {...process.env, ...home.env, NO_COLOR: '1'}, timeout: 4000, killSignal: 'SIGINT'})
    const output = await watching.then(({stdout}) => stdout).catch((error: {stdout?: string}) => error.stdout ?? '')
    expect(output).toContain('cimops health-check')
    // A whole row on one line, whatever the machine's load makes of the cpu check.
    expect(output).toMatch(/^(OK|WARNING|CRITICAL)\s+system\s+cpu\s+load \d/m)
  })

  it('gives every command a summary and at least one example', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {summary?: string; examples?: unknown[]}>}
    const ids = Object.keys(manifest.commands)
    expect(ids.length).toBeGreaterThan(8)
    for (const id of ids) {
      expect(manifest.commands[id].summary, id).toBeTruthy()
      expect(manifest.commands[id].examples?.length, id).toBeGreaterThan(0)
    }
  })

  it('exits 64 with the flag named for an unknown flag, also under --json', async () => {
    const plain = await runCli(['context', 'list', '--bogus'], home.env)
    expect(plain.code).toBe(64)
    expect(plain.stderr.trim()).toBe('cimops: invalid usage: Nonexistent flag: --bogus (see `cimops context list --help`)')
    const json = await runCli(['context', 'list', '--bogus', '--json'], home.env)
    expect(json.code).toBe(64)
    expect(JSON.parse(json.stdout)).toEqual({error: {code: 'USAGE', exit: 64, message: 'invalid usage: Nonexistent flag: --bogus', hint: 'see `cimops context list --help`'}})
  })

  it('exits 64 for a missing argument, naming it and showing the usage line, also under --json', async () => {
    const plain = await runCli(['incident', 'note', 'INC-20261122-1'], home.env)
    expect(plain.code).toBe(64)
    expect(plain.stderr).toBe('cimops: missing argument TEXT: the note (usage: cimops incident note ID TEXT [flags])\n')
    const json = await runCli(['runbook', 'show', '--json'], home.env)
    expect(json.code).toBe(64)
    expect(JSON.parse(json.stdout)).toEqual({
      error: {code: 'USAGE', exit: 64, message: 'missing argument ID: runbook id, as `cimops runbook list` shows it', hint: 'usage: cimops runbook show ID [flags]'},
    })
  })

  // oclif alone reads a word after a command without arguments as part of a command name: "command health-check:nats not found", exit 2.
  it('exits 64 naming a word after a command that takes no arguments, also under --json', async () => {
    const plain = await runCli(['health-check', 'nats'], home.env)
    expect(plain.code).toBe(64)
    expect(plain.stderr).toBe('cimops: invalid usage: Unexpected argument: nats (see `cimops health-check --help`)\n')
    const json = await runCli(['context', 'list', 'prod', 'staging', '--json'], home.env)
    expect(json.code).toBe(64)
    expect(JSON.parse(json.stdout)).toEqual({error: {code: 'USAGE', exit: 64, message: 'invalid usage: Unexpected arguments: prod, staging', hint: 'see `cimops context list --help`'}})
    const typo = await runCli(['helth-check'], home.env)
    expect(typo.code).toBe(127)
    expect(typo.stderr).toMatch(/helth-check is not a cimops command/)
  })

  it('takes global flags before the command, as kubectl and natscli do', async () => {
    const before = await runCli(['--json', '--nats-url', 'nats://127.0.0.1:4999', '--timeout=2s', 'context', 'show'], home.env)
    expect(before.code).toBe(0)
    expect(JSON.parse(before.stdout)).toMatchObject({nats: {servers: ['nats://127.0.0.1:4999']}, timeoutSeconds: 2})
    const after = await runCli(['context', 'show', '--json', '--nats-url', 'nats://127.0.0.1:4999', '--timeout=2s'], home.env)
    expect(before.stdout).toBe(after.stdout)
    const unknown = await runCli(['--context', 'nope', 'context', 'show'], home.env)
    expect(unknown.code).toBe(78)
    expect(unknown.stderr).toMatch(/^cimops: unknown context "nope"/)
  })

  it('exits 64 for a bad flag value, naming the flag', async () => {
    const result = await runCli(['health-check', '--timeout', 'soon'], home.env)
    expect(result.code).toBe(64)
    expect(result.stderr).toContain('--timeout')
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it('exits 78 for an invalid config file under --json too, naming file and key', async () => {
    const {writeFile, mkdir} = await import('node:fs/promises')
    const dir = join(home.dir, 'bad')
    await mkdir(dir, {recursive: true})
    const file = join(dir, 'config.yaml')
    await writeFile(file, 'contexts:\n  prod:\n    thresholds: {memWarn: lots}\n')
    const result = await runCli(['context', 'show', '--json'], {...home.env, CIMOPS_CONFIG: file})
    expect(result.code).toBe(78)
    const {error} = JSON.parse(result.stdout) as {error: {code: string; message: string; exit: number}}
    expect(error.code).toBe('CONFIG')
    expect(error.exit).toBe(78)
    expect(error.message).toContain(file)
    expect(error.message).toContain('contexts.prod.thresholds.memWarn')
  })

  it('never shows a password from a URL, in output or in errors', async () => {
    const show = await runCli(['context', 'show', '--json', '--nats-url', 'nats://ops:topsecret42@127.0.0.1:1'], home.env)
    expect(show.code).toBe(0)
    expect(show.stdout).not.toContain('topsecret42')
    // The credentials leave the URL for the connection options, where the password is masked.
    expect(JSON.parse(show.stdout).nats).toMatchObject({servers: ['nats://127.0.0.1:1'], user: 'ops', password: '***'})
    const check = await runCli(['health-check', '--timeout', '1s', '--nats-url', 'nats://ops:topsecret42@127.0.0.1:1', '--json'], home.env)
    expect(check.stdout + check.stderr).not.toContain('topsecret42')
  })

  describe('against a server that accepts connections and never answers', () => {
    let server: Server
    let port: number
    const accepted = new Set<Socket>()
    beforeAll(async () => {
      server = createServer((socket) => accepted.add(socket))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      port = (server.address() as {port: number}).port
    })
    afterAll(() => {
      for (const socket of accepted) socket.destroy()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    })

    it('exits 130 promptly on Ctrl-C (SIGINT)', async () => {
      const child = startCli(['health-check', '--timeout', '60s', '--nats-url', `nats://127.0.0.1:${port}`], home.env)
      const done = finished(child)
      await new Promise((resolve) => setTimeout(resolve, 1500))
      child.kill('SIGINT')
      const result = await done
      expect(result.code).toBe(130)
      expect(result.durationMs).toBeLessThan(5000)
      expect(result.stderr).toContain('interrupted')
    })

    it('health-check reports NATS CRITICAL within the timeout instead of hanging', async () => {
      const result = await runCli(['health-check', '--timeout', '1s', '--nats-url', `nats://127.0.0.1:${port}`, '--json'], home.env)
      expect(result.code).toBe(2)
      const report = JSON.parse(result.stdout) as {status: string; checks: Array<{name: string; status: string; summary: string}>}
      expect(report.status).toBe('CRITICAL')
      expect(report.checks.find((c) => c.name === 'nats')?.status).toBe('CRITICAL')
      expect(result.durationMs).toBeLessThan(4000)
    })
  })
})

describe('the code cache (bin/run.js compiles the bundle from V8\'s cache of an earlier run)', () => {
  let cache: string
  beforeAll(async () => {
    cache = await mkdtemp(join(tmpdir(), 'cimops-code-cache-'))
  })
  afterAll(() => rm(cache, {recursive: true, force: true}))

  /** The one build directory under <cache>/cimops/v8 and the command caches in it. */
  async function cachedCommands(dir: string): Promise<{build: string; files: string[]}> {
    const builds = await readdir(join(dir, 'cimops/v8'))
    expect(builds).toHaveLength(1)
    return {build: join(dir, 'cimops/v8', builds[0]), files: (await readdir(join(dir, 'cimops/v8', builds[0]))).sort()}
  }

  it('writes a command\'s cache on its first run and uses it, unchanged, on the next, with the same output', async () => {
    const env = {...home.env, XDG_CACHE_HOME: join(cache, 'first')}
    const first = await runCli(['context', 'list', '--json'], env)
    expect(first.code, first.stderr).toBe(0)
    const {build, files} = await cachedCommands(join(cache, 'first'))
    expect(files).toEqual(['context-list.bin'])
    const written = await stat(join(build, 'context-list.bin'))
    const second = await runCli(['context', 'list', '--json'], env)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toBe(first.stdout)
    // Rewritten only when V8 refuses it: the same inode means V8 took it.
    expect((await stat(join(build, 'context-list.bin'))).ino).toBe(written.ino)
  })

  it('still loads modules on demand from cached code (import() is routed through bin/run.js)', async () => {
    const env = {...home.env, XDG_CACHE_HOME: join(cache, 'imports')}
    // The Prometheus check imports node:http when it runs; port 9 on loopback refuses the connection.
    const check = async () => {
      const result = await runCli(['health-check', '--json', '--component', 'prometheus', '--prometheus-url', 'http://127.0.0.1:9'], env)
      const report = JSON.parse(result.stdout) as {checks: Array<{name: string; status: string; summary: string}>}
      return report.checks.find((c) => c.name === 'prometheus')
    }
    const uncached = await check()
    expect((await cachedCommands(join(cache, 'imports'))).files).toEqual(['health-check.bin'])
    const cached = await check()
    expect(cached?.status).toBe('CRITICAL')
    expect(cached?.summary).toMatch(/refused/i)
    expect(cached?.summary).toBe(uncached?.summary)
  })

  it('runs from source when V8 refuses a damaged cache, and writes it anew', async () => {
    const env = {...home.env, XDG_CACHE_HOME: join(cache, 'damaged')}
    const first = await runCli(['context', 'list', '--json'], env)
    const {build} = await cachedCommands(join(cache, 'damaged'))
    const file = join(build, 'context-list.bin')
    const garbage = Buffer.alloc((await stat(file)).size, 0x5a)
    await writeFile(file, garbage)
    const again = await runCli(['context', 'list', '--json'], env)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toBe(first.stdout)
    expect((await readFile(file)).equals(garbage)).toBe(false)
  })

  it('neither reads nor writes one under CIMOPS_NO_CODE_CACHE, and a cache path that cannot be written only costs speed', async () => {
    const off = await runCli(['context', 'list'], {...home.env, XDG_CACHE_HOME: join(cache, 'off'), CIMOPS_NO_CODE_CACHE: '1'})
    expect(off.code, off.stderr).toBe(0)
    await expect(stat(join(cache, 'off', 'cimops/v8'))).rejects.toThrow(/ENOENT/)
    const notADirectory = join(cache, 'a-file')
    await writeFile(notADirectory, '')
    const unwritable = await runCli(['context', 'list'], {...home.env, XDG_CACHE_HOME: notADirectory})
    expect(unwritable.code).toBe(0)
    expect(unwritable.stderr).toBe('')
    expect(unwritable.stdout).toBe(off.stdout)
  })
})
