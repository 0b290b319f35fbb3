import {readFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import * as z from 'zod'

import type {NatsSettings} from './context-types.js'
import {ConfigError} from './errors.js'
import {withoutUndefined} from './objects.js'
import {expandPath, natsContextDir, natsSelectedContextFile} from './paths.js'

/** The fields cimops uses from a natscli context file (natscli `natscontext` package). */
const NatsCliContext = z.looseObject({
  description: z.string().optional(),
  url: z.string().optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  token: z.string().optional(),
  creds: z.string().optional(),
  nkey: z.string().optional(),
  cert: z.string().optional(),
  key: z.string().optional(),
  ca: z.string().optional(),
  tls_first: z.boolean().optional(),
  jetstream_domain: z.string().optional(),
  inbox_prefix: z.string().optional(),
})

export interface LoadedNatsContext {
  name: string
  file: string
  description?: string
  settings: NatsSettings
}

/** A value that contains a path separator or ends in .json is a file, otherwise a context name. */
export function natsContextFile(nameOrFile: string): string {
  return nameOrFile.includes('/') || nameOrFile.endsWith('.json') ? expandPath(nameOrFile) : join(natsContextDir(), `${nameOrFile}.json`)
}

/** The context natscli has selected (`nats context select`), if any. */
export async function selectedNatsContext(): Promise<string | undefined> {
  try {
    const name = (await readFile(natsSelectedContextFile(), 'utf8')).trim()
    return name || undefined
  } catch {
    return undefined
  }
}

export async function loadNatsContext(nameOrFile: string): Promise<LoadedNatsContext> {
  const file = natsContextFile(nameOrFile)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
    throw new ConfigError(`cannot read NATS context "${nameOrFile}"`, missing ? `${file} does not exist` : (error as Error).message, {
      hint: `list natscli contexts in ${natsContextDir()}, or pass a file path to --nats-context`,
    })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // Not the parser's message: it quotes the start of the file, which may be anything (`--nats-context /etc/passwd`).
    throw new ConfigError(`invalid NATS context file ${file}`, 'not valid JSON', {hint: 'fix it with `nats context edit`, or check the name given to --nats-context'})
  }
  const parsed = NatsCliContext.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ConfigError(`invalid NATS context file ${file}`, `${issue.path.join('.')}: ${issue.message}`, {hint: 'fix it with `nats context edit`'})
  }
  const ctx = parsed.data
  const base = dirname(file)
  const path = (value?: string) => (value ? expandPath(value, base) : undefined)
  const tls =
    ctx.cert || ctx.key || ctx.ca || ctx.tls_first
      ? {certFile: path(ctx.cert), keyFile: path(ctx.key), caFile: path(ctx.ca), handshakeFirst: ctx.tls_first || undefined}
      : undefined
  const name = file.endsWith('.json') ? file.slice(base.length + 1, -'.json'.length) : nameOrFile
  return {
    name,
    file,
    description: ctx.description || undefined,
    settings: withoutUndefined({
      servers: splitServers(ctx.url || 'nats://127.0.0.1:4222'),
      user: ctx.user || undefined,
      password: ctx.password || undefined,
      token: ctx.token || undefined,
      creds: path(ctx.creds),
      nkey: path(ctx.nkey),
      tls,
      jsDomain: ctx.jetstream_domain || undefined,
      inboxPrefix: ctx.inbox_prefix || undefined,
      natsContext: name,
    }),
  }
}

/** natscli and NATS_URL accept a comma-separated server list. */
export function splitServers(value: string | string[]): string[] {
  const list = Array.isArray(value) ? value : value.split(',')
  return list.map((s) => s.trim()).filter(Boolean)
}
