import {type ContextConfigInput, ContextConfig, isValidContextName, type LoadedConfig, loadConfig, saveConfig} from '../core/config.js'
import {ConfigError, UsageError} from '../core/errors.js'
import {loadNatsContext, selectedNatsContext, splitServers} from '../core/natscli-context.js'
import {assertDialableServers} from '../core/nats-url.js'
import {withoutUndefined} from '../core/objects.js'
import {redactString} from '../core/redact.js'

/** Context management: the pure side of `cimops context ...`. */

export interface ContextSummary {
  name: string
  current: boolean
  description?: string
  nats: string
  prometheus?: string
  alertmanager?: string
}

export interface ContextListResult {
  file: string
  current?: string
  contexts: ContextSummary[]
}

export async function listContexts(loaded?: LoadedConfig): Promise<ContextListResult> {
  const {path, config} = loaded ?? (await loadConfig())
  const current = config['current-context']
  return {
    file: path,
    current,
    contexts: Object.entries(config.contexts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, ctx]) => ({
        name,
        current: name === current,
        description: ctx.description,
        nats: describeNats(ctx),
        prometheus: ctx.prometheus?.url,
        alertmanager: ctx.alertmanager?.url,
      })),
  }
}

function describeNats(ctx: ContextConfig): string {
  const natsContext = ctx.nats?.natsContext ?? ctx.natsContext
  const servers = ctx.nats?.servers
  if (servers) return redactString(Array.isArray(servers) ? servers.join(',') : servers)
  return natsContext ? `natscli context ${natsContext}` : '(default)'
}

export interface SaveContextOptions {
  /** Make it the current context. */
  use?: boolean
  /** Replace an existing context of that name. */
  replace?: boolean
}

export interface SaveContextResult {
  file: string
  name: string
  created: boolean
  current: boolean
  context: ContextConfigInput
}

/** Adds or replaces a context; the written document is validated first so a bad value never lands on disk. */
export async function saveContext(name: string, context: ContextConfigInput, options: SaveContextOptions = {}, loaded?: LoadedConfig): Promise<SaveContextResult> {
  if (!isValidContextName(name)) {
    throw new UsageError(`invalid context name "${name}"`, 'use letters, digits, "-", "_" and "."')
  }
  const config = loaded ?? (await loadConfig())
  const exists = Boolean(config.raw.contexts?.[name])
  if (exists && !options.replace) {
    throw new UsageError(`context "${name}" already exists`, `it is defined in ${config.path}`, {hint: 'pass --force to replace it'})
  }
  const validated = ContextConfig.safeParse(context)
  if (!validated.success) {
    const issue = validated.error.issues[0]
    throw new UsageError(`invalid value for context "${name}"`, `${issue.path.join('.')}: ${issue.message}`)
  }
  // Refused here rather than by the schema: a file an older cimops wrote still loads, and fails only where used.
  if (validated.data.timeout === 0) throw new UsageError(`invalid value for context "${name}"`, 'timeout: must be greater than zero')
  const servers = validated.data.nats?.servers
  if (servers !== undefined) assertDialableServers(splitServers(servers), `context ${name}`, false)
  config.raw.contexts = {...config.raw.contexts, [name]: context}
  if (options.use || !config.raw['current-context']) config.raw['current-context'] = name
  await saveConfig(config)
  return {file: config.path, name, created: !exists, current: config.raw['current-context'] === name, context}
}

export async function useContext(name: string, loaded?: LoadedConfig): Promise<{file: string; current: string; previous?: string}> {
  const config = loaded ?? (await loadConfig())
  if (!config.config.contexts[name]) {
    const known = Object.keys(config.config.contexts)
    throw new ConfigError(`unknown context "${name}"`, known.length > 0 ? `known contexts: ${known.join(', ')}` : `${config.path} has no contexts`, {
      hint: 'create it with `cimops context add`',
    })
  }
  const previous = config.raw['current-context']
  config.raw['current-context'] = name
  await saveConfig(config)
  return {file: config.path, current: name, previous}
}

/** Turns a natscli context into a cimops context, copying its connection settings. */
export async function importNatsContext(
  nameOrFile: string | undefined,
  options: SaveContextOptions & {as?: string} = {},
): Promise<SaveContextResult & {natsContext: string; natsContextFile: string}> {
  const source = nameOrFile ?? (await selectedNatsContext())
  if (!source) {
    throw new UsageError('no NATS context given', 'natscli has no selected context', {hint: 'name one: `cimops context import-nats NAME`'})
  }
  const natsContext = await loadNatsContext(source)
  const s = natsContext.settings
  const context: ContextConfigInput = {
    ...(natsContext.description ? {description: natsContext.description} : {}),
    nats: withoutUndefined({
      servers: s.servers,
      creds: s.creds,
      nkey: s.nkey,
      user: s.user,
      password: s.password,
      token: s.token,
      tls: s.tls ? withoutUndefined({cert: s.tls.certFile, key: s.tls.keyFile, ca: s.tls.caFile, handshakeFirst: s.tls.handshakeFirst}) : undefined,
      jsDomain: s.jsDomain,
      inboxPrefix: s.inboxPrefix,
    }),
  }
  const saved = await saveContext(options.as ?? natsContext.name, context, options)
  return {...saved, natsContext: natsContext.name, natsContextFile: natsContext.file}
}
