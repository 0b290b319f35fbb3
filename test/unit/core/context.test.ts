import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {loadConfig} from '../../../src/lib/core/config.js'
import {resolveContext, resolveContexts, withThresholdFlags} from '../../../src/lib/core/context.js'
import {ConfigError, ExitCode, UsageError} from '../../../src/lib/core/errors.js'
import {loadNatsContext} from '../../../src/lib/core/natscli-context.js'
import {importNatsContext, listContexts, saveContext, useContext} from '../../../src/lib/contexts/service.js'

let home: string
const saved = {...process.env}

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'cimops-ctx-'))
  process.env.XDG_CONFIG_HOME = home
  delete process.env.CIMOPS_CONFIG
  await mkdir(join(home, 'cimops'), {recursive: true})
  await mkdir(join(home, 'nats', 'context'), {recursive: true})
})

afterEach(async () => {
  process.env = {...saved}
  await rm(home, {recursive: true, force: true})
})

const configFile = () => join(home, 'cimops', 'config.yaml')
const writeConfig = (text: string) => writeFile(configFile(), text)
const writeNatsContext = (name: string, body: object) => writeFile(join(home, 'nats', 'context', `${name}.json`), JSON.stringify(body))

const PROD = `
current-context: prod
contexts:
  prod:
    nats: {servers: [nats://n1:4222, nats://n2:4222], creds: ~/.nkeys/ops.creds}
    prometheus: {url: http://prom:9090}
    alertmanager: {url: http://am:9093}
    thresholds: {lagWarn: 30s, lagCrit: 2m}
    timeout: 3s
  staging:
    natsContext: staging
`

describe('config file validation', () => {
  it.each([
    ['contexts:\n  prod:\n    thresholds: {lagWarn: soon}\n', 'contexts.prod.thresholds.lagWarn', 'expected a duration'],
    ['contexts:\n  prod:\n    prometheus: {url: 42}\n', 'contexts.prod.prometheus.url', 'expected string'],
    ['contexts:\n  prod:\n    natz: {}\n', 'contexts.prod', 'unknown key "natz"'],
    ['current-context: nope\ncontexts: {}\n', 'current-context', 'not one of the contexts'],
    ['contexts:\n  prod:\n    scoreWeights: {monitoring: -1}\n', 'contexts.prod.scoreWeights.monitoring', '>=0'],
    ['contexts: [\n', 'not valid YAML', ''],
  ])('names the file, the key and the expectation', async (text, key, expectation) => {
    await writeConfig(text)
    const error = await loadConfig(configFile()).catch((error_: unknown) => error_)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).exit).toBe(ExitCode.CONFIG)
    expect((error as ConfigError).message).toContain(configFile())
    expect((error as ConfigError).message).toContain(key)
    expect((error as ConfigError).message).toContain(expectation)
  })

  it('treats a missing file as no contexts', async () => {
    const loaded = await loadConfig(configFile())
    expect(loaded.exists).toBe(false)
    expect(loaded.config.contexts).toEqual({})
  })
})

describe('precedence: flag > env > context > default', () => {
  it('uses built-in defaults with no config', async () => {
    const ctx = await resolveContext({}, {})
    expect(ctx.nats.servers).toEqual(['nats://127.0.0.1:4222'])
    expect(ctx.prometheus.url).toBe('http://127.0.0.1:9090')
    expect(ctx.alertmanager.url).toBe('http://127.0.0.1:9093')
    expect(ctx.timeoutMs).toBe(5000)
    expect(ctx.thresholds.lagWarn).toBe(10)
    expect(ctx.sources).toEqual({nats: 'default', prometheus: 'default', alertmanager: 'default'})
  })

  it('takes the current context, with durations and ~ expanded', async () => {
    await writeConfig(PROD)
    const ctx = await resolveContext({}, {})
    expect(ctx.name).toBe('prod')
    expect(ctx.nats.servers).toEqual(['nats://n1:4222', 'nats://n2:4222'])
    expect(ctx.nats.creds).toMatch(/\/\.nkeys\/ops\.creds$/)
    expect(ctx.nats.creds).not.toContain('~')
    expect(ctx.thresholds).toMatchObject({lagWarn: 30, lagCrit: 120, memWarn: 80})
    // Where each came from, for the checks that name a threshold's source.
    expect(ctx.thresholdSources).toMatchObject({lagWarn: 'context', lagCrit: 'context', memWarn: 'default', stallAfter: 'default'})
    expect(ctx.timeoutMs).toBe(3000)
    expect(ctx.sources.prometheus).toBe('context')
  })

  it('lets env override the context and flags override env', async () => {
    await writeConfig(PROD)
    const env = {NATS_URL: 'nats://env:4222', CIMOPS_PROMETHEUS_URL: 'http://env-prom:9090', NATS_CREDS: '/env.creds'}
    const fromEnv = await resolveContext({}, env)
    expect(fromEnv.nats.servers).toEqual(['nats://env:4222'])
    expect(fromEnv.nats.creds).toBe('/env.creds')
    expect(fromEnv.prometheus.url).toBe('http://env-prom:9090')
    expect(fromEnv.alertmanager.url).toBe('http://am:9093')
    expect(fromEnv.sources).toEqual({nats: 'env', prometheus: 'env', alertmanager: 'context'})

    const fromFlags = await resolveContext({natsUrl: 'nats://flag:4222', prometheusUrl: 'http://flag-prom:9090', timeout: '750ms'}, env)
    expect(fromFlags.nats.servers).toEqual(['nats://flag:4222'])
    expect(fromFlags.prometheus.url).toBe('http://flag-prom:9090')
    expect(fromFlags.timeoutMs).toBe(750)
    expect(fromFlags.sources.nats).toBe('flag')
  })

  it('selects a context by CIMOPS_CONTEXT, and --context beats it', async () => {
    await writeConfig(PROD)
    await writeNatsContext('staging', {url: 'nats://staging:4222'})
    expect((await resolveContext({}, {CIMOPS_CONTEXT: 'staging'})).nats.servers).toEqual(['nats://staging:4222'])
    expect((await resolveContext({context: 'prod'}, {CIMOPS_CONTEXT: 'staging'})).name).toBe('prod')
  })

  it('fails with a config error naming the known contexts for an unknown --context', async () => {
    await writeConfig(PROD)
    await expect(resolveContext({context: 'qa'}, {})).rejects.toThrowError(/unknown context "qa".*prod, staging/)
  })

  it('rejects a bad --timeout and a bad URL as usage errors', async () => {
    await expect(resolveContext({timeout: 'soon'}, {})).rejects.toMatchObject({exit: ExitCode.USAGE})
    await expect(resolveContext({prometheusUrl: 'prom:9090'}, {})).rejects.toMatchObject({exit: ExitCode.USAGE})
  })

  it('bounds the network timeout: a flag is a usage error, the file a config error naming the key', async () => {
    await expect(resolveContext({timeout: '30d'}, {})).rejects.toMatchObject({exit: ExitCode.USAGE, line: 'invalid --timeout "30d": must be at most 1h'})
    await writeConfig('contexts:\n  prod:\n    timeout: 30d\n')
    await expect(resolveContext({context: 'prod'}, {})).rejects.toMatchObject({exit: ExitCode.CONFIG, why: 'contexts.prod.timeout: must be at most 1h'})
  })

  it('a timeout of 0 in the file fails where that context is used (a config error; --timeout still rescues it), and context add refuses it', async () => {
    await writeConfig('contexts:\n  zero:\n    timeout: 0s\n  prod:\n    timeout: 3s\n')
    await expect(resolveContext({context: 'zero'}, {})).rejects.toMatchObject({exit: ExitCode.CONFIG, why: 'contexts.zero.timeout: must be greater than zero'})
    expect((await resolveContext({context: 'zero', timeout: '2s'}, {})).timeoutMs).toBe(2000)
    expect((await resolveContext({context: 'prod'}, {})).timeoutMs).toBe(3000)
    await expect(saveContext('zero2', {timeout: '0s'})).rejects.toMatchObject({exit: ExitCode.USAGE, why: 'timeout: must be greater than zero'})
  })

  it('a NATS server nobody can dial is one line naming it and where it came from: 64 from a flag or NATS_URL, 78 from the file', async () => {
    await expect(resolveContext({natsUrl: 'nats://n1:4222,nats://n2:99999'}, {})).rejects.toMatchObject({
      exit: ExitCode.USAGE,
      line: 'invalid NATS server "nats://n2:99999": not a URL: a bad host, or a port outside 1-65535; it comes from --nats-url (give nats://host:port, e.g. nats://127.0.0.1:4222)',
    })
    await expect(resolveContext({}, {NATS_URL: 'nats://n1:0'})).rejects.toMatchObject({exit: ExitCode.USAGE, why: 'port 0 cannot be dialled; it comes from NATS_URL'})
    await writeConfig('contexts:\n  prod:\n    nats: {servers: ["nats://"]}\n')
    await expect(resolveContext({context: 'prod'}, {})).rejects.toMatchObject({exit: ExitCode.CONFIG, why: `it names no host; it comes from context prod in ${configFile()}`})
    await expect(saveContext('typo', {nats: {servers: ['nats://a b:4222']}})).rejects.toMatchObject({exit: ExitCode.USAGE})
    // What nats.js dials stays accepted: no scheme, tls://, IPv6, credentials in the URL.
    const ctx = await resolveContext({natsUrl: 'n1:4222,tls://n2:4222,nats://[::1]:4222,nats://u:p@n3'}, {})
    expect(ctx.nats.servers).toEqual(['n1:4222', 'tls://n2:4222', 'nats://[::1]:4222', 'nats://n3'])
  })

  it('the RPO thresholds: flag > context > default (30s/5m), each with its source, warning at most critical', async () => {
    await writeConfig('current-context: prod\ncontexts:\n  prod:\n    thresholds: {rpoWarnSeconds: 1m}\n')
    const ctx = await resolveContext({}, {})
    expect(ctx.thresholds).toMatchObject({rpoWarnSeconds: 60, rpoCritSeconds: 300})
    expect(ctx.thresholdSources).toMatchObject({rpoWarnSeconds: 'context', rpoCritSeconds: 'default'})
    const flagged = withThresholdFlags(ctx, {rpoCritSeconds: 120, rpoWarnSeconds: undefined})
    expect(flagged.thresholds).toMatchObject({rpoWarnSeconds: 60, rpoCritSeconds: 120})
    expect(flagged.thresholdSources).toMatchObject({rpoWarnSeconds: 'context', rpoCritSeconds: 'flag'})
    const error = (() => {
      try {
        return withThresholdFlags(ctx, {rpoCritSeconds: 30})
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).line).toBe('inconsistent --rpo-warn/--rpo-crit: warning 1m must be at most critical 30s')
    await writeConfig('current-context: prod\ncontexts:\n  prod:\n    thresholds: {rpoWarnSeconds: 10m}\n')
    await expect(resolveContext({}, {})).rejects.toMatchObject({why: 'contexts.prod.thresholds.rpoWarnSeconds 10m must be at most contexts.prod.thresholds.rpoCritSeconds 5m'})
  })

  it('refuses thresholds of the file out of order as a config error naming the keys, not flags', async () => {
    await writeConfig('current-context: prod\ncontexts:\n  prod:\n    thresholds: {lagWarn: 2m}\n')
    const error = await resolveContext({}, {}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({exit: ExitCode.CONFIG, why: 'contexts.prod.thresholds.lagWarn 2m must be at most contexts.prod.thresholds.lagCrit 1m'})
    await writeConfig('current-context: prod\ncontexts:\n  prod:\n    thresholds: {diskFreeWarn: 5, diskFreeCrit: 10}\n')
    await expect(resolveContext({}, {})).rejects.toMatchObject({exit: ExitCode.CONFIG, why: 'contexts.prod.thresholds.diskFreeWarn 5% free must be at least contexts.prod.thresholds.diskFreeCrit 10% free'})
    await writeConfig('current-context: prod\ncontexts:\n  prod:\n    thresholds: {loadWarn: 4, loadCrit: 2}\n')
    await expect(resolveContext({}, {})).rejects.toMatchObject({why: 'contexts.prod.thresholds.loadWarn 4 per core must be at most contexts.prod.thresholds.loadCrit 2 per core'})
    await writeConfig('current-context: prod\ncontexts:\n  prod:\n    thresholds: {memWarn: 95}\n')
    await expect(resolveContext({}, {})).rejects.toMatchObject({why: 'contexts.prod.thresholds.memWarn 95% must be at most contexts.prod.thresholds.memCrit 90%'})
  })
})

describe('credentials in NATS URLs', () => {
  it('takes user and password (percent-decoded) out of the URL into the settings', async () => {
    const ctx = await resolveContext({natsUrl: 'nats://ops:p%40ss%3Aw0rd@n1:4222,nats://ops:p%40ss%3Aw0rd@n2:4222'}, {})
    expect(ctx.nats).toMatchObject({servers: ['nats://n1:4222', 'nats://n2:4222'], user: 'ops', password: 'p@ss:w0rd'})
    expect(ctx.nats.token).toBeUndefined()
  })

  it('reads a bare userinfo as a token, and URL credentials win over the other kind from the context', async () => {
    await writeConfig('current-context: prod\ncontexts:\n  prod:\n    nats: {servers: nats://n1:4222, user: ops, password: from-file}\n')
    const ctx = await resolveContext({}, {NATS_URL: 'nats://s3cr3t-token@n9:4222'})
    expect(ctx.nats).toMatchObject({servers: ['nats://n9:4222'], token: 's3cr3t-token'})
    expect(ctx.nats.user).toBeUndefined()
    expect(ctx.nats.password).toBeUndefined()
  })

  it("reads natscli's NATS_USER/NATS_PASSWORD and NATS_TOKEN", async () => {
    expect((await resolveContext({}, {NATS_URL: 'nats://n1:4222', NATS_USER: 'ops', NATS_PASSWORD: 'pw-1234'})).nats).toMatchObject({user: 'ops', password: 'pw-1234'})
    expect((await resolveContext({}, {NATS_TOKEN: 'tok-1234'})).nats).toMatchObject({token: 'tok-1234'})
  })

  it('refuses URLs that carry different credentials', async () => {
    await expect(resolveContext({natsUrl: 'nats://a:one@n1:4222,nats://a:two@n2:4222'}, {})).rejects.toMatchObject({exit: ExitCode.USAGE, what: 'conflicting NATS credentials'})
  })
})

describe('natscli contexts', () => {
  const full = {
    description: 'Production ops',
    url: 'nats://a:4222,nats://b:4222',
    user: 'ops',
    password: 'hunter2-long',
    token: '',
    creds: '/keys/ops.creds',
    nkey: 'ops.nk',
    cert: '/tls/cert.pem',
    key: '/tls/key.pem',
    ca: '/tls/ca.pem',
    tls_first: true,
    jetstream_domain: 'hub',
    inbox_prefix: '_INBOX_ops',
    nsc: '',
  }

  it('reads every connection field, by name and by file', async () => {
    await writeNatsContext('prod', full)
    const byName = await loadNatsContext('prod')
    expect(byName.settings).toEqual({
      servers: ['nats://a:4222', 'nats://b:4222'],
      user: 'ops',
      password: 'hunter2-long',
      creds: '/keys/ops.creds',
      nkey: join(home, 'nats', 'context', 'ops.nk'),
      tls: {certFile: '/tls/cert.pem', keyFile: '/tls/key.pem', caFile: '/tls/ca.pem', handshakeFirst: true},
      jsDomain: 'hub',
      inboxPrefix: '_INBOX_ops',
      natsContext: 'prod',
    })
    const byFile = await loadNatsContext(join(home, 'nats', 'context', 'prod.json'))
    expect(byFile.settings.servers).toEqual(byName.settings.servers)
  })

  it('applies --nats-context and NATS_CONTEXT with flag over env, and --nats-url overrides only the URL', async () => {
    await writeNatsContext('prod', full)
    await writeNatsContext('dev', {url: 'nats://dev:4222', token: 'devtoken-123'})
    expect((await resolveContext({}, {NATS_CONTEXT: 'dev'})).nats).toMatchObject({servers: ['nats://dev:4222'], token: 'devtoken-123'})
    const both = await resolveContext({natsContext: 'prod'}, {NATS_CONTEXT: 'dev'})
    expect(both.nats.user).toBe('ops')
    expect(both.nats.token).toBeUndefined()
    const overridden = await resolveContext({natsContext: 'prod', natsUrl: 'nats://other:4222'}, {})
    expect(overridden.nats).toMatchObject({servers: ['nats://other:4222'], user: 'ops', creds: '/keys/ops.creds'})
  })

  it('never echoes a file it cannot parse (it may be anything, e.g. /etc/passwd)', async () => {
    const file = join(home, 'passwd')
    await writeFile(file, 'root:x:0:0:root:/root:/bin/bash\n')
    const error = await loadNatsContext(file).catch((caught: unknown) => caught)
    expect(error).toMatchObject({exit: ExitCode.CONFIG, line: `invalid NATS context file ${file}: not valid JSON (fix it with \`nats context edit\`, or check the name given to --nats-context)`})
    expect(JSON.stringify(error) + String(error)).not.toContain('root:x')
  })

  it('reports a missing natscli context as a config error with the path', async () => {
    await expect(loadNatsContext('ghost')).rejects.toThrowError(/ghost.*does not exist/)
  })

  it('imports the selected natscli context as a cimops context', async () => {
    await writeNatsContext('prod', full)
    await writeFile(join(home, 'nats', 'context.txt'), 'prod\n')
    const result = await importNatsContext(undefined, {use: true})
    expect(result).toMatchObject({name: 'prod', created: true, current: true, natsContext: 'prod'})
    const ctx = await resolveContext({}, {})
    expect(ctx.nats).toMatchObject({servers: ['nats://a:4222', 'nats://b:4222'], user: 'ops', jsDomain: 'hub', tls: {handshakeFirst: true}})
  })
})

describe('context management', () => {
  it('adds, refuses a duplicate without replace, switches and lists', async () => {
    await saveContext('a', {nats: {servers: ['nats://a:4222']}})
    await expect(saveContext('a', {})).rejects.toMatchObject({exit: ExitCode.USAGE})
    await saveContext('b', {prometheus: {url: 'http://b:9090'}})
    expect((await listContexts()).current).toBe('a')
    await useContext('b')
    const list = await listContexts()
    expect(list.current).toBe('b')
    expect(list.contexts.map((c) => [c.name, c.current])).toEqual([['a', false], ['b', true]])
    await expect(useContext('zzz')).rejects.toMatchObject({exit: ExitCode.CONFIG})
  })

  it('never writes an invalid context', async () => {
    await expect(saveContext('bad', {thresholds: {lagWarn: 'later'}})).rejects.toMatchObject({exit: ExitCode.USAGE})
    expect((await loadConfig(configFile())).exists).toBe(false)
  })
})

describe('resolveContexts: the sites of a fleet command', () => {
  it('resolves each context once as --context NAME would, with --timeout, and without the addresses the environment gives one site', async () => {
    await writeConfig(PROD)
    await writeNatsContext('staging', {url: 'nats://staging:4222'})
    const env = {NATS_URL: 'nats://env:4222', CIMOPS_PROMETHEUS_URL: 'http://env-prom:9090', CIMOPS_CONTEXT: 'staging'}
    const sites = await resolveContexts(['prod', 'staging', 'prod'], '750ms', env)
    expect(sites.map((site) => [site.name, site.nats.servers, site.timeoutMs])).toEqual([
      ['prod', ['nats://n1:4222', 'nats://n2:4222'], 750],
      ['staging', ['nats://staging:4222'], 750],
    ])
    expect(sites[0].prometheus.url).toBe('http://prom:9090')
    expect(sites[1].prometheus.url).not.toContain('env-prom')
  })

  it('all: every configured context, each with its own timeout; none configured or an unknown name is a config error', async () => {
    await writeConfig(PROD)
    await writeNatsContext('staging', {url: 'nats://staging:4222'})
    expect((await resolveContexts('all', undefined, {})).map((site) => [site.name, site.timeoutMs])).toEqual([
      ['prod', 3000],
      ['staging', 5000],
    ])
    await expect(resolveContexts(['prod', 'qa'], undefined, {})).rejects.toThrowError(/unknown context "qa"/)
    await writeConfig('contexts: {}\n')
    await expect(resolveContexts('all', undefined, {})).rejects.toMatchObject({exit: ExitCode.CONFIG, message: expect.stringMatching(/^no contexts to check/)})
  })
})
