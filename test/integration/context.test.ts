/**
 * Contexts and NATS credentials through the built CLI, against real nats-servers that demand a user
 * and password or a token (the chosen server set): credentials written into a URL reach the server,
 * `context add|use|import-nats|show|list` in an isolated home, and runbook steps that get the
 * credentials apart from NATS_URL, masked in their output and in the ops log. Run `npm run build` first.
 */
import {mkdir, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {connectNats, jetstreamManagerFor} from '../../src/lib/adapters/nats/connection.js'
import {openOpsLog} from '../../src/lib/adapters/nats/ops-events.js'
import type {NatsSettings} from '../../src/lib/core/context-types.js'
import {findServerBinary} from '../../src/lib/sandbox/index.js'
import {freeLoopbackPorts} from '../../src/lib/sandbox/ports.js'
import {spawnDetached, terminateProcess} from '../../src/lib/sandbox/processes.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {until} from '../helpers/monitor.js'

const USER = 'ops'
/** Has the characters a URL must percent-encode, so decoding is exercised too. */
const PASSWORD = 'p@ss:w0rd-31337'
const TOKEN = 'tok-s3cr3t-4242'
const SECRETS = [PASSWORD, 'w0rd-31337', encodeURIComponent(PASSWORD), TOKEN]

interface AuthServer {
  port: number
  /** nats://<userinfo>@127.0.0.1:port, or without userinfo. */
  url(userinfo?: string): string
  stop(): Promise<void>
}

/** The sandbox has no auth option: a JetStream nats-server with one authorization block, run by the sandbox's process code. */
async function startAuthServer(dir: string, authorization: string): Promise<AuthServer> {
  const [port, monitorPort] = await freeLoopbackPorts(2)
  const configFile = join(dir, 'nats.conf')
  await writeFile(
    configFile,
    [
      `listen: "127.0.0.1:${port}"`,
      `http: "127.0.0.1:${monitorPort}"`,
      `jetstream {store_dir: ${JSON.stringify(join(dir, 'js'))}, max_mem: 64MB, max_file: 256MB}`,
      `authorization {${authorization}}`,
    ].join('\n'),
  )
  const proc = {name: 'nats-auth', configFile, pid: spawnDetached('nats-auth', [findServerBinary('nats'), '-c', configFile], join(dir, 'nats.log'))}
  const stop = () => terminateProcess(proc)
  try {
    await until('the nats-server with auth', async () => ((await fetch(`http://127.0.0.1:${monitorPort}/healthz`, {signal: AbortSignal.timeout(1000)})).ok ? true : undefined), 15_000)
  } catch (error) {
    await stop()
    throw error
  }
  return {port, url: (userinfo) => `nats://${userinfo ? `${userinfo}@` : ''}127.0.0.1:${port}`, stop}
}

function expectNoSecret(...texts: string[]): void {
  for (const text of texts) for (const secret of SECRETS) expect(text).not.toContain(secret)
}

describe('NATS credentials and contexts through the CLI', () => {
  let dir: string
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let withUser: AuthServer
  let withToken: AuthServer
  const userinfo = `${USER}:${encodeURIComponent(PASSWORD)}`
  const cli = (...args: string[]) => runCli([...args, '--timeout', '3s'], home.env)

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cimops-nats-auth-'))
    await mkdir(join(dir, 'user'))
    await mkdir(join(dir, 'token'))
    home = await isolatedHome()
    ;[withUser, withToken] = await Promise.all([
      startAuthServer(join(dir, 'user'), `user: ${JSON.stringify(USER)}, password: ${JSON.stringify(PASSWORD)}`),
      startAuthServer(join(dir, 'token'), `token: ${JSON.stringify(TOKEN)}`),
    ])
  })

  afterAll(async () => {
    await Promise.all([withUser?.stop(), withToken?.stop()])
    await home?.cleanup()
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  it('the servers refuse a connection without credentials', async () => {
    const result = await cli('stream', 'list', '--nats-url', withUser.url())
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('authorization violation')
  })

  it('sends the user and password written in --nats-url', async () => {
    const result = await cli('stream', 'list', '--json', '--nats-url', withUser.url(userinfo))
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({streams: []})
    expectNoSecret(result.stdout, result.stderr)
  })

  it('sends the token written in NATS_URL', async () => {
    const result = await runCli(['stream', 'list', '--json', '--timeout', '3s'], {...home.env, NATS_URL: withToken.url(TOKEN)})
    expect(result.code, result.stderr).toBe(0)
    expectNoSecret(result.stdout, result.stderr)
  })

  it('context show names the auth kind of a URL with credentials, the secret masked', async () => {
    const user = await cli('context', 'show', '--nats-url', withUser.url(userinfo))
    expect(user.code, user.stderr).toBe(0)
    expect(user.stdout).toMatch(/^nats auth {5}user ops, password \*\*\*$/m)
    expect(user.stdout).toMatch(new RegExp(`^nats {10}nats://127\\.0\\.0\\.1:${withUser.port} {2}\\[flag\\]$`, 'm'))
    const token = await cli('context', 'show', '--json', '--nats-url', withToken.url(TOKEN))
    expect(token.code, token.stderr).toBe(0)
    expect(JSON.parse(token.stdout).nats).toMatchObject({servers: [withToken.url()], token: '***'})
    expectNoSecret(user.stdout, user.stderr, token.stdout, token.stderr)
  })

  it('context add stores a URL with credentials, --use makes it current, and commands then connect through it', async () => {
    const added = await cli('context', 'add', 'prod', '--nats-url', withUser.url(userinfo), '--use')
    expect(added.code, added.stderr).toBe(0)
    expect(added.stdout).toContain('Added context prod')
    const file = join(home.env.XDG_CONFIG_HOME, 'cimops', 'config.yaml')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(await readFile(file, 'utf8')).toContain('current-context: prod')
    const list = await cli('stream', 'list', '--json')
    expect(list.code, list.stderr).toBe(0)
    const contexts = await cli('context', 'list')
    expect(contexts.code, contexts.stderr).toBe(0)
    expect(contexts.stdout).toMatch(/^\* +prod +nats:\/\/ops:\*\*\*@127\.0\.0\.1:\d+/m)
    expectNoSecret(added.stdout, list.stdout, list.stderr, contexts.stdout)
  })

  it('context use switches the current context and refuses an unknown one with the known ones', async () => {
    const added = await cli('context', 'add', 'offline', '--nats-url', 'nats://127.0.0.1:1')
    expect(added.code, added.stderr).toBe(0)
    expect(added.stdout).not.toContain('(current)')
    const used = await cli('context', 'use', 'offline')
    expect(used.code, used.stderr).toBe(0)
    expect(used.stdout).toContain('Current context is now offline (was prod).')
    expect((await cli('stream', 'list')).code).toBe(69)
    const unknown = await cli('context', 'use', 'nope')
    expect(unknown.code).toBe(78)
    expect(unknown.stderr).toMatch(/^cimops: unknown context "nope": known contexts: prod, offline /)
    expect((await cli('context', 'use', 'prod')).code).toBe(0)
    expect((await cli('stream', 'list')).code).toBe(0)
  })

  it('context import-nats takes a natscli context with user/password, and the selected one with a token', async () => {
    const natsDir = join(home.env.XDG_CONFIG_HOME, 'nats', 'context')
    await mkdir(natsDir, {recursive: true})
    await writeFile(join(natsDir, 'ops-user.json'), JSON.stringify({description: 'user and password', url: withUser.url(), user: USER, password: PASSWORD}))
    await writeFile(join(natsDir, 'ops-token.json'), JSON.stringify({url: withToken.url(), token: TOKEN}))
    await writeFile(join(home.env.XDG_CONFIG_HOME, 'nats', 'context.txt'), 'ops-token\n')

    const imported = await cli('context', 'import-nats', 'ops-user', '--use')
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stdout).toContain('as ops-user (current)')
    expect((await cli('stream', 'list')).code).toBe(0)
    const shownUser = await cli('context', 'show')
    expect(shownUser.stdout).toMatch(/^nats auth {5}user ops, password \*\*\*$/m)

    const selected = await cli('context', 'import-nats', '--as', 'tok')
    expect(selected.code, selected.stderr).toBe(0)
    expect(selected.stdout).toContain('Imported natscli context ops-token')
    expect((await cli('context', 'use', 'tok')).code).toBe(0)
    const list = await cli('stream', 'list', '--json')
    expect(list.code, list.stderr).toBe(0)
    const shownToken = await cli('context', 'show')
    expect(shownToken.stdout).toMatch(/^context {7}tok$/m)
    expect(shownToken.stdout).toMatch(/^nats auth {5}token \*\*\*$/m)
    expectNoSecret(imported.stdout, selected.stdout, shownUser.stdout, shownToken.stdout, list.stdout, list.stderr)
  })

  describe('runbook steps', () => {
    const RUNBOOK = `---
id: creds-test
title: Credentials in steps
---
# Credentials in steps

## Diagnosis

\`\`\`sh {"name": "show"}
echo "url=$NATS_URL"
echo "user=$NATS_USER password=$NATS_PASSWORD"
cimops stream list
\`\`\`
`
    const settings = (): NatsSettings => ({servers: [withUser.url()], user: USER, password: PASSWORD})

    it('get NATS_URL without the credentials and NATS_USER/NATS_PASSWORD, masked in their output and in the ops log', async () => {
      const runbooks = join(dir, 'runbooks')
      await mkdir(runbooks, {recursive: true})
      await writeFile(join(runbooks, 'creds-test.md'), RUNBOOK)
      const nc = await connectNats(settings(), {timeoutMs: 5000})
      try {
        await (await jetstreamManagerFor(nc, settings(), 5000)).streams.add({name: 'CIM_OPS', subjects: ['cim.ops.>']})
      } finally {
        await nc.close()
      }

      const result = await runCli(['runbook', 'run', 'creds-test', '--all', '--dir', runbooks, '--json', '--nats-url', withUser.url(userinfo), '--timeout', '3s'], home.env)
      expect(result.code, result.stderr).toBe(0)
      const record = JSON.parse(result.stdout) as {steps: Array<{status: string; outputTail: string[]}>; opsLog: {recorded: boolean}}
      expect(record.steps[0].status).toBe('succeeded')
      expect(record.steps[0].outputTail.slice(0, 2)).toEqual([`url=${withUser.url()}`, 'user=ops password=***'])
      expect(record.opsLog.recorded).toBe(true)
      expectNoSecret(result.stdout, result.stderr)

      const nc2 = await connectNats(settings(), {timeoutMs: 5000})
      try {
        const jsm = await jetstreamManagerFor(nc2, settings(), 5000)
        const events = await (await openOpsLog(nc2, jsm, settings(), 'CIM_OPS', 5000)).read('cim.ops.runbook.*.step-finished')
        expect(events).toHaveLength(1)
        const stored = JSON.stringify(events[0].data)
        expect(stored).toContain('user=ops password=***')
        expectNoSecret(stored)
      } finally {
        await nc2.close()
      }
    })
  })
})
