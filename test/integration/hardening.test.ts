/**
 * Bad input gives one clear line and a documented exit code, never "please report it", a crash or a
 * wrong answer: oclif's parse errors with their reason, durations too long for a timer, a body without
 * end from a fake Alertmanager, garbled credential files, a context file that is not one, thresholds out
 * of order in the config file, an invalid stream name. Through the built CLI; run `npm run build` first.
 */
import {execFileSync} from 'node:child_process'
import {lstat, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {connectNats, jetstreamManagerFor} from '../../src/lib/adapters/nats/connection.js'
import {finished, isolatedHome, runCli, startCli, type CliResult} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

const MiB = 1024 * 1024

/** Exactly one stderr line, `cimops: ...`, and no stack, warning or "please report it". */
function expectOneLine(result: CliResult, line: string | RegExp): void {
  const lines = result.stderr.split('\n').filter(Boolean)
  expect(lines, result.stderr).toHaveLength(1)
  if (typeof line === 'string') expect(lines[0]).toBe(line)
  else expect(lines[0]).toMatch(line)
  expect(result.stderr).not.toMatch(/please report it|TimeoutOverflowWarning/)
}

describe('hardening: bad input through the CLI', () => {
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let dir: string
  const cli = (...args: string[]) => runCli(args, home.env)
  const writeConfig = async (text: string) => {
    await mkdir(join(home.env.XDG_CONFIG_HOME, 'cimops'), {recursive: true})
    await writeFile(join(home.env.XDG_CONFIG_HOME, 'cimops', 'config.yaml'), text)
  }

  beforeAll(async () => {
    home = await isolatedHome()
    dir = await mkdtemp(join(tmpdir(), 'cimops-hardening-'))
  })

  afterAll(async () => {
    await home?.cleanup()
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  describe("oclif's parse errors keep their reason", () => {
    it('a flag value out of range names the flag and the rule', async () => {
      const result = await cli('replay', '--max-in-flight', '0', '--to-stream', 'COPY')
      expect(result.code).toBe(64)
      expectOneLine(result, 'cimops: invalid usage: --max-in-flight: Expected an integer greater than or equal to 1 but received: 0 (see `cimops replay --help`)')
    })

    it('flags that exclude each other say which', async () => {
      const result = await cli('replay', '--replay-id', 'X', '--resume', 'X')
      expect(result.code).toBe(64)
      expectOneLine(result, 'cimops: invalid usage: --resume=X cannot also be provided when using --replay-id (see `cimops replay --help`)')
    })
  })

  describe('durations that become timers are bounded where they are parsed', () => {
    it('--timeout 30d is a usage error naming the flag and the maximum, not an instant false CRITICAL', async () => {
      const result = await cli('health-check', '--timeout', '30d', '--nats-url', 'nats://127.0.0.1:1')
      expect(result.code).toBe(64)
      expectOneLine(result, 'cimops: invalid --timeout "30d": must be at most 1h')
      expect(result.stdout).toBe('')
    })

    it('--interval and --refresh stay below the longest timer Node.js can set', async () => {
      const watch = await cli('health-check', '--watch', '--interval', '30d', '--nats-url', 'nats://127.0.0.1:1')
      expect(watch.code).toBe(64)
      expectOneLine(watch, 'cimops: invalid --interval "30d": must be at most 24d20h (the longest timer Node.js can set)')
      const monitor = await cli('monitor', '--refresh', '25d', '--nats-url', 'nats://127.0.0.1:1')
      expect(monitor.code).toBe(64)
      expectOneLine(monitor, 'cimops: invalid --refresh "25d": must be at most 24d20h (the longest timer Node.js can set)')
    })

    it("a context's timeout of 30d is a config error naming the key", async () => {
      await writeConfig('current-context: slow\ncontexts:\n  slow:\n    timeout: 30d\n')
      const result = await cli('context', 'show')
      expect(result.code).toBe(78)
      expectOneLine(result, /^cimops: invalid config file .*config\.yaml: contexts\.slow\.timeout: must be at most 1h \(/)
      await writeConfig('contexts: {}\n')
    })
  })

  describe('thresholds of the config file', () => {
    afterAll(() => writeConfig('contexts: {}\n'))

    it('out of order: a config error naming the keys (78; UNKNOWN for a check), never flags the user did not give', async () => {
      await writeConfig('current-context: prod\ncontexts:\n  prod:\n    nats: {servers: nats://127.0.0.1:1}\n    thresholds: {lagWarn: 2m, lagCrit: 1m}\n')
      const line = /^cimops: invalid config file .*config\.yaml: contexts\.prod\.thresholds\.lagWarn 2m must be at most contexts\.prod\.thresholds\.lagCrit 1m \(/
      const show = await cli('context', 'show')
      expect(show.code).toBe(78)
      expectOneLine(show, line)
      const check = await cli('health-check')
      expect(check.code).toBe(3)
      expectOneLine(check, line)
    })
  })

  describe('credential and context files', () => {
    it('a garbled creds file or nkey seed is a config error naming the file, not an internal error', async () => {
      const garbage = join(dir, 'garbage.creds')
      await writeFile(garbage, 'not-a-seed SUAGARBAGE\n')
      const creds = await cli('stream', 'list', '--nats-url', 'nats://127.0.0.1:1', '--nats-creds', garbage)
      expect(creds.code).toBe(78)
      expectOneLine(creds, `cimops: invalid NATS credentials file ${garbage}: expected a JWT and an nkey seed between -----BEGIN/END----- lines, as \`nsc generate creds\` writes (check --nats-creds, --nats-context or the context)`)
      await writeConfig(`current-context: nk\ncontexts:\n  nk:\n    nats: {servers: nats://127.0.0.1:1, nkey: ${JSON.stringify(garbage)}}\n`)
      const nkey = await cli('stream', 'list')
      expect(nkey.code).toBe(78)
      expectOneLine(nkey, `cimops: invalid NATS nkey seed file ${garbage}: expected one nkey seed (SU...), as \`nk -gen user\` writes (check --nats-creds, --nats-context or the context)`)
      expect(creds.stderr + nkey.stderr).not.toContain('SUAGARBAGE')
      await writeConfig('contexts: {}\n')
    })

    it('a --nats-context that is not JSON is named, and its content never shown', async () => {
      const passwd = join(dir, 'passwd')
      await writeFile(passwd, 'root:x:0:0:root:/root:/bin/bash\n')
      const result = await cli('stream', 'list', '--nats-context', passwd)
      expect(result.code).toBe(78)
      expectOneLine(result, `cimops: invalid NATS context file ${passwd}: not valid JSON (fix it with \`nats context edit\`, or check the name given to --nats-context)`)
      expect(result.stderr).not.toContain('root:x')
    })
  })

  describe('a fake Alertmanager that answers a body without end', () => {
    let server: Server
    let url: string
    const sent: number[] = []

    beforeAll(async () => {
      server = createServer((_req, res) => {
        // Endless unless the client hangs up; bounded at 256 MiB so a client without a cap cannot take the test down.
        res.writeHead(200, {'Content-Type': 'application/json'})
        const chunk = Buffer.alloc(MiB, 0x20)
        let bytes = 0
        const pump = () => {
          while (!res.destroyed && bytes < 256 * MiB) {
            bytes += chunk.length
            if (!res.write(chunk)) return void res.once('drain', pump)
          }
          res.end()
        }
        res.on('close', () => sent.push(bytes))
        pump()
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })

    afterAll(async () => {
      server?.closeAllConnections()
      await new Promise((resolve) => server?.close(resolve))
    })

    it('alerts list stops reading at its cap: one line, exit 65, quickly', async () => {
      const result = await cli('alerts', 'list', '--alertmanager-url', url, '--timeout', '20s')
      expect(result.code, result.stderr).toBe(65)
      expectOneLine(result, `cimops: the answer of alertmanager at ${url}/api/v2/alerts is too large: more than 16.0 MiB, the most cimops reads from it; stopped reading (narrow the request (a shorter window, more filters), or check what answers at this address)`)
      expect(result.durationMs).toBeLessThan(15_000)
      await expect.poll(() => sent.length).toBeGreaterThan(0)
      expect(Math.max(...sent)).toBeLessThan(256 * MiB)
    })
  })

  describe('against a nats-server', () => {
    const sandbox = useSandbox({components: ['nats']})

    beforeAll(async () => {
      const settings = {servers: sandbox().state.natsServers}
      const nc = await connectNats(settings, {timeoutMs: 5000})
      try {
        await (await jetstreamManagerFor(nc, settings, 5000)).streams.add({name: 'EVENTS', subjects: ['cim.>']})
        await nc.request('cim.graph.node.n1.NodeAdded', '{}', {timeout: 5000})
      } finally {
        await nc.close()
      }
    })

    it('an invalid stream name is a usage error naming the rule', async () => {
      const rule = 'NATS stream and consumer names cannot contain spaces, tabs, line breaks, ".", "*", ">", "/" or "\\"'
      const nats = ['--nats-url', sandbox().state.natsServers.join(',')]
      const replay = await cli('replay', '--to-stream', 'G COPY', '--create-target', '--subject-map', 'cim=copy', ...nats)
      expect(replay.code).toBe(64)
      expectOneLine(replay, `cimops: invalid stream name "G COPY": ${rule}`)
      const info = await cli('stream', 'info', 'G COPY', ...nats)
      expect(info.code).toBe(64)
      expectOneLine(info, `cimops: invalid stream name "G COPY": ${rule}`)
      const consumer = await cli('consumer', 'info', 'EVENTS', 'a.b', ...nats)
      expect(consumer.code).toBe(64)
      expectOneLine(consumer, `cimops: invalid durable name "a.b": ${rule}`)
      const empty = await cli('stream', 'info', '', ...nats)
      expect(empty.code).toBe(64)
      expectOneLine(empty, 'cimops: no stream name given: the name is empty')
    })

    it('a --to-file in a directory that does not exist is one line, not a crash', async () => {
      const result = await cli('replay', '--to-file', join(dir, 'missing', 'events.jsonl'), '--nats-url', sandbox().state.natsServers.join(','))
      expect(result.code, result.stderr).toBe(64)
      // Only the first line: the audit event of the failed replay may add its own (an events stream on cim.> holds cim.ops.>).
      expect(result.stderr.split('\n')[0]).toBe(
        `cimops: cannot write --to-file ${join(dir, 'missing', 'events.jsonl')}: directory ${join(dir, 'missing')} does not exist (cimops creates no directories for the files you name: check the path, or create it first)`,
      )
      expect(result.stderr).not.toMatch(/please report it|Unhandled 'error' event|node:events/)
    })

    // The export is renamed into place, and a rename replaces what the path holds: as root, `--to-file /dev/full` once
    // turned the device into a regular file and reported success. A pipe stands in for the device here.
    it('a --to-file that is no regular file is refused, left as it was, and the dry run says so', async () => {
      const pipe = join(dir, 'events.pipe')
      execFileSync('mkfifo', [pipe])
      const nats = ['--nats-url', sandbox().state.natsServers.join(',')]
      const result = await cli('replay', '--domain', 'graph', '--to-file', pipe, ...nats)
      expect(result.code, result.stderr).toBe(64)
      expect(result.stderr.split('\n')[0]).toMatch(new RegExp(`^cimops: cannot write --to-file ${pipe}: it is a pipe, not a regular file: .+ \\(give the path of a regular file, or of none yet\\)$`))
      expect((await lstat(pipe)).isFIFO()).toBe(true)
      const dry = await cli('replay', '--domain', 'graph', '--to-file', pipe, '--dry-run', '--json', ...nats)
      expect(dry.code, dry.stderr).toBe(0)
      expect(JSON.parse(dry.stdout).target).toMatchObject({kind: 'file', file: pipe, problem: expect.stringMatching(/: it is a pipe, not a regular file: /)})
    })

    it('a backup --dir the filesystem refuses ends at once in one line, exit 2 (under /proc, Node\'s own mkdir -p spun for ever)', async () => {
      const nats = ['--nats-url', sandbox().state.natsServers.join(',')]
      const underProc = `/proc/cimops-hardening-${process.pid}`
      const child = startCli(['backup', 'create', '--stream', 'EVENTS', '--dir', join(underProc, 'set'), ...nats], home.env)
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      const refused = await finished(child).finally(() => clearTimeout(killer))
      expect(refused.code, refused.stderr).toBe(2)
      expect(refused.stderr.split('\n')[0]).toMatch(new RegExp(`^cimops: backup create failed: mkdir ${underProc}: [a-z ]+ \\([a-z ,]+\\)$`))
      expect(refused.stderr).not.toContain('please report it')

      await writeFile(join(dir, 'a-file'), '')
      const underFile = await cli('backup', 'create', '--stream', 'EVENTS', '--dir', join(dir, 'a-file', 'set'), ...nats)
      expect(underFile.code, underFile.stderr).toBe(2)
      expect(underFile.stderr.split('\n')[0]).toBe(`cimops: backup create failed: mkdir ${join(dir, 'a-file', 'set.partial')}: a part of the path is not a directory (check the path)`)
    })
  })
})
