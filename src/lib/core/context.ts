import {dirname} from 'node:path'

import {type ContextConfig, type LoadedConfig, loadConfig} from './config.js'
import {DEFAULTS, type NatsSettings, type NotifierSettings, type ResolvedContext, type SettingSource, type Thresholds} from './context-types.js'
import {formatDuration, MAX_NETWORK_TIMEOUT_MS, parseDuration} from './duration.js'
import {ConfigError, UsageError} from './errors.js'
import {loadNatsContext, splitServers} from './natscli-context.js'
import {assertDialableServers, withUrlCredentials} from './nats-url.js'
import {withoutUndefined} from './objects.js'
import {expandPath} from './paths.js'
import {registerSecret} from './redact.js'

/** The global flags that select where cimops connects (DESIGN.md "Global flags"). */
export interface ConnectionFlags {
  context?: string
  natsUrl?: string
  natsCreds?: string
  natsContext?: string
  prometheusUrl?: string
  alertmanagerUrl?: string
  timeout?: string
}

/**
 * The environment variable each connection flag stands for: read below, one layer under the flag, and
 * what `runbook run` hands the flags given to the `cimops` its steps call.
 */
export const CONNECTION_ENV = {
  context: 'CIMOPS_CONTEXT',
  natsUrl: 'NATS_URL',
  natsCreds: 'NATS_CREDS',
  natsContext: 'NATS_CONTEXT',
  prometheusUrl: 'CIMOPS_PROMETHEUS_URL',
  alertmanagerUrl: 'CIMOPS_ALERTMANAGER_URL',
} as const satisfies Record<Exclude<keyof ConnectionFlags, 'timeout'>, string>

/** The connection flags given, as the environment variables that stand for them. */
export function connectionFlagsEnv(flags: ConnectionFlags): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [flag, variable] of Object.entries(CONNECTION_ENV)) {
    const value = flags[flag as keyof typeof CONNECTION_ENV]
    if (value !== undefined) env[variable] = value
  }
  return env
}

type Env = Record<string, string | undefined>

/** Which cimops context applies: --context > CIMOPS_CONTEXT > current-context. */
export function selectContextName(flags: ConnectionFlags, env: Env, loaded: LoadedConfig): {name?: string; source?: SettingSource} {
  const fromEnv = env[CONNECTION_ENV.context]
  const explicit = flags.context ? {name: flags.context, source: 'flag' as const} : fromEnv ? {name: fromEnv, source: 'env' as const} : undefined
  if (explicit) {
    if (!loaded.config.contexts[explicit.name]) {
      const known = Object.keys(loaded.config.contexts)
      throw new ConfigError(`unknown context "${explicit.name}"`, `${loaded.path} has ${known.length > 0 ? `only ${known.join(', ')}` : 'no contexts'}`, {
        hint: 'see `cimops context list`, or create it with `cimops context add`',
      })
    }
    return explicit
  }
  const current = loaded.config['current-context']
  return current ? {name: current, source: 'context'} : {}
}

/** The variables that name one site's addresses or identity: a fleet command does not apply them to every site. */
const SITE_ENV = new Set<string>([...Object.values(CONNECTION_ENV), 'NATS_USER', 'NATS_PASSWORD', 'NATS_TOKEN'])

/**
 * The contexts of a fleet command (a repeated --context, or every context for `all`), each resolved as
 * `--context NAME` alone would be, with the given --timeout; the environment's addresses belong to one site
 * and are left out.
 */
export async function resolveContexts(names: string[] | 'all', timeout: string | undefined, env: Env = process.env, loaded?: LoadedConfig): Promise<ResolvedContext[]> {
  const config = loaded ?? (await loadConfig())
  const chosen = names === 'all' ? Object.keys(config.config.contexts) : [...new Set(names)]
  if (chosen.length === 0) throw new ConfigError('no contexts to check', `${config.path} has no contexts`, {hint: 'create them with `cimops context add`'})
  const siteEnv = Object.fromEntries(Object.entries(env).filter(([variable]) => !SITE_ENV.has(variable)))
  return Promise.all(chosen.map((name) => resolveContext({context: name, timeout}, siteEnv, config)))
}

/**
 * Resolves the effective settings with precedence flag > env > context > built-in default, per setting.
 * A natscli context (from any layer) supplies a whole NATS identity; a URL or creds given at a higher layer override just that field.
 */
export async function resolveContext(flags: ConnectionFlags, env: Env = process.env, loaded?: LoadedConfig): Promise<ResolvedContext> {
  const config = loaded ?? (await loadConfig())
  const {name} = selectContextName(flags, env, config)
  const ctx: ContextConfig = name ? config.config.contexts[name] : {}
  const configDir = dirname(config.path)

  let nats: NatsSettings = {servers: [DEFAULTS.natsUrl]}
  let natsSource: SettingSource = 'default'
  // Where the servers came from, for an error that names it; [origin, from the config file].
  let serversFrom: [string, boolean] = ['the default', false]

  const contextNatsContext = ctx.nats?.natsContext ?? ctx.natsContext
  if (contextNatsContext) {
    nats = (await loadNatsContext(contextNatsContext)).settings
    natsSource = 'natscli-context'
    serversFrom = [`natscli context ${contextNatsContext}`, true]
  }
  if (ctx.nats) {
    nats = mergeNats(nats, natsFromConfig(ctx.nats, configDir))
    if (ctx.nats.servers) {
      natsSource = 'context'
      serversFrom = [`context ${name} in ${config.path}`, true]
    }
  }
  const envNatsContext = env[CONNECTION_ENV.natsContext]
  if (envNatsContext && !flags.natsContext) {
    nats = (await loadNatsContext(envNatsContext)).settings
    natsSource = 'env'
    serversFrom = [`natscli context ${envNatsContext} (NATS_CONTEXT)`, true]
  }
  const envNatsUrl = env[CONNECTION_ENV.natsUrl]
  if (envNatsUrl) {
    nats = {...nats, servers: splitServers(envNatsUrl)}
    natsSource = 'env'
    serversFrom = ['NATS_URL', false]
  }
  const envNatsCreds = env[CONNECTION_ENV.natsCreds]
  if (envNatsCreds) nats = {...nats, creds: expandPath(envNatsCreds)}
  // natscli's variables: how `runbook run` hands credentials to its steps without putting them in NATS_URL.
  if (env.NATS_USER) nats = {...nats, user: env.NATS_USER, password: env.NATS_PASSWORD, token: undefined}
  if (env.NATS_TOKEN) nats = {...nats, token: env.NATS_TOKEN, user: undefined, password: undefined}
  if (flags.natsContext) {
    nats = (await loadNatsContext(flags.natsContext)).settings
    natsSource = 'flag'
    serversFrom = [`natscli context ${flags.natsContext} (--nats-context)`, true]
  }
  if (flags.natsUrl) {
    nats = {...nats, servers: splitServers(flags.natsUrl)}
    natsSource = 'flag'
    serversFrom = ['--nats-url', false]
  }
  if (flags.natsCreds) nats = {...nats, creds: expandPath(flags.natsCreds)}
  nats = withUrlCredentials(nats)
  if (nats.servers.length === 0) throw new UsageError('no NATS server given', 'the server list is empty', {hint: 'use --nats-url nats://host:4222'})
  assertDialableServers(nats.servers, ...serversFrom)

  const prometheus = pickUrl(flags.prometheusUrl, env[CONNECTION_ENV.prometheusUrl], ctx.prometheus?.url, DEFAULTS.prometheusUrl, 'prometheus')
  const alertmanager = pickUrl(flags.alertmanagerUrl, env[CONNECTION_ENV.alertmanagerUrl], ctx.alertmanager?.url, DEFAULTS.alertmanagerUrl, 'alertmanager')
  if (!flags.timeout && ctx.timeout === 0) {
    throw new ConfigError(`invalid config file ${config.path}`, `contexts.${name}.timeout: must be greater than zero`, {hint: 'fix the file, or pass --timeout'})
  }
  const timeoutMs = flags.timeout ? networkTimeout(flags.timeout) : ctx.timeout === undefined ? DEFAULTS.timeoutMs : ctx.timeout * 1000

  const thresholds = {...DEFAULTS.thresholds, ...ctx.thresholds}
  if (name) checkThresholdOrder(thresholds, `contexts.${name}.thresholds`, config.path)

  registerSecret(nats.password)
  registerSecret(nats.token)

  return {
    name,
    nats,
    prometheus: {url: prometheus.url, bearerTokenFile: optionalPath(ctx.prometheus?.bearerTokenFile, configDir)},
    alertmanager: {url: alertmanager.url, bearerTokenFile: optionalPath(ctx.alertmanager?.bearerTokenFile, configDir)},
    ...(ctx.monitor ? {monitor: {url: ctx.monitor.url}} : {}),
    streams: {...DEFAULTS.streams, ...ctx.streams},
    thresholds,
    thresholdSources: thresholdSources(ctx.thresholds),
    mounts: ctx.mounts ?? [...DEFAULTS.mounts],
    scoreWeights: {...DEFAULTS.scoreWeights, ...ctx.scoreWeights},
    timeoutMs,
    notifiers: notifiersFromConfig(ctx.notifiers, configDir),
    ...(ctx.gpu ? {gpu: ctx.gpu} : {}),
    sources: {nats: natsSource, prometheus: prometheus.source, alertmanager: alertmanager.source},
  }
}

function thresholdSources(set: ContextConfig['thresholds']): ResolvedContext['thresholdSources'] {
  const keys = Object.keys(DEFAULTS.thresholds) as Array<keyof Thresholds>
  return Object.fromEntries(keys.map((key) => [key, set?.[key] === undefined ? 'default' : 'context'])) as ResolvedContext['thresholdSources']
}

/** Warning before critical: [warn, crit, which way the value gets worse]. */
const THRESHOLD_PAIRS: Array<[keyof Thresholds, keyof Thresholds, 'up' | 'down']> = [
  ['lagWarn', 'lagCrit', 'up'],
  ['memWarn', 'memCrit', 'up'],
  ['jsWarn', 'jsCrit', 'up'],
  ['loadWarn', 'loadCrit', 'up'],
  ['rpoWarnSeconds', 'rpoCritSeconds', 'up'],
  ['diskFreeWarn', 'diskFreeCrit', 'down'],
]

/** A warning threshold past its critical one: `warn` must be `relation` `crit`. */
export interface MisorderedThresholds {
  warn: keyof Thresholds
  crit: keyof Thresholds
  relation: 'at most' | 'at least'
}

/** The first warning/critical pair in the wrong order, if any: a value must cross warning before critical. */
export function misorderedThresholds(thresholds: Thresholds): MisorderedThresholds | undefined {
  for (const [warn, crit, worse] of THRESHOLD_PAIRS) {
    if (worse === 'up' ? thresholds[warn] > thresholds[crit] : thresholds[warn] < thresholds[crit]) return {warn, crit, relation: worse === 'up' ? 'at most' : 'at least'}
  }
  return undefined
}

/** A threshold with its unit, as messages show it: `2m`, `90%`, `10% free`, `1.5 per core`. */
export function formatThreshold(key: keyof Thresholds, value: number): string {
  if (key === 'lagWarn' || key === 'lagCrit' || key === 'stallAfter' || key === 'rpoWarnSeconds' || key === 'rpoCritSeconds') return formatDuration(value * 1000)
  if (key === 'diskFreeWarn' || key === 'diskFreeCrit') return `${value}% free`
  if (key === 'loadWarn' || key === 'loadCrit') return `${value} per core`
  return `${value}%`
}

/** The flag that sets a threshold: lagWarn -> --lag-warn, rpoWarnSeconds -> --rpo-warn. */
export function thresholdFlag(key: keyof Thresholds): string {
  return `--${key.replace(/Seconds$/, '').replaceAll(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`
}

/** Thresholds given as a command's flags win over the context's (source 'flag'); a warning past its critical is a usage error. */
export function withThresholdFlags(ctx: ResolvedContext, overrides: Partial<Thresholds>): ResolvedContext {
  const given = Object.entries(overrides).filter(([, value]) => value !== undefined)
  const thresholds = {...ctx.thresholds, ...Object.fromEntries(given)}
  const thresholdSources = {...ctx.thresholdSources, ...Object.fromEntries(given.map(([key]) => [key, 'flag' as const]))}
  const wrong = misorderedThresholds(thresholds)
  if (wrong) {
    const {warn, crit, relation} = wrong
    throw new UsageError(
      `inconsistent ${thresholdFlag(warn)}/${thresholdFlag(crit)}`,
      `warning ${formatThreshold(warn, thresholds[warn])} must be ${relation} critical ${formatThreshold(crit, thresholds[crit])}`,
    )
  }
  return {...ctx, thresholds, thresholdSources}
}

/** The context's thresholds (over the defaults) must be ordered; a flag that breaks the order is the command's usage error. */
function checkThresholdOrder(thresholds: Thresholds, key: string, file: string): void {
  const wrong = misorderedThresholds(thresholds)
  if (!wrong) return
  const {warn, crit, relation} = wrong
  throw new ConfigError(`invalid config file ${file}`, `${key}.${warn} ${formatThreshold(warn, thresholds[warn])} must be ${relation} ${key}.${crit} ${formatThreshold(crit, thresholds[crit])}`, {
    hint: 'fix the file; a key not set takes its default (see `cimops context show`)',
  })
}

function natsFromConfig(nats: NonNullable<ContextConfig['nats']>, configDir: string): Partial<NatsSettings> {
  const path = (value?: string) => optionalPath(value, configDir)
  return {
    servers: nats.servers ? splitServers(nats.servers) : undefined,
    creds: path(nats.creds),
    nkey: path(nats.nkey),
    user: nats.user,
    password: nats.password,
    token: nats.token,
    tls: nats.tls ? {certFile: path(nats.tls.cert), keyFile: path(nats.tls.key), caFile: path(nats.tls.ca), handshakeFirst: nats.tls.handshakeFirst} : undefined,
    jsDomain: nats.jsDomain,
    inboxPrefix: nats.inboxPrefix,
  }
}

function notifiersFromConfig(notifiers: ContextConfig['notifiers'], configDir: string): NotifierSettings {
  const out: NotifierSettings = {}
  if (notifiers?.pagerduty) out.pagerduty = withoutUndefined({routingKeyFile: expandPath(notifiers.pagerduty.routingKeyFile, configDir), url: notifiers.pagerduty.url})
  if (notifiers?.slack) out.slack = withoutUndefined({webhookUrlFile: expandPath(notifiers.slack.webhookUrlFile, configDir), url: notifiers.slack.url})
  return out
}

function mergeNats(base: NatsSettings, override: Partial<NatsSettings>): NatsSettings {
  const merged: NatsSettings = {...base}
  for (const [key, value] of Object.entries(override)) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value
  }
  return merged
}

function pickUrl(flag: string | undefined, env: string | undefined, context: string | undefined, fallback: string, system: string): {url: string; source: SettingSource} {
  const [url, source]: [string, SettingSource] = flag ? [flag, 'flag'] : env ? [env, 'env'] : context ? [context, 'context'] : [fallback, 'default']
  if (!/^https?:\/\/[^/\s]+/.test(url)) {
    throw new UsageError(`invalid ${system} URL "${url}"`, 'expected http://host:port or https://host:port', {hint: `check --${system}-url`})
  }
  return {url: url.replace(/\/+$/, ''), source}
}

function networkTimeout(value: string): number {
  const ms = parseDuration(value, '--timeout', {max: MAX_NETWORK_TIMEOUT_MS})
  if (ms <= 0) throw new UsageError(`invalid --timeout "${value}"`, 'must be greater than zero')
  return ms
}

function optionalPath(value: string | undefined, base: string): string | undefined {
  return value ? expandPath(value, base) : undefined
}
