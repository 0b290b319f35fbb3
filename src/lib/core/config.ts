import {readFile} from 'node:fs/promises'
import * as z from 'zod'

import {writeFileAtomic} from './atomic-write.js'
import {MAX_NETWORK_TIMEOUT_MS, parseDuration} from './duration.js'
import {ConfigError, UsageError} from './errors.js'
import {cimopsConfigFile} from './paths.js'

/** Seconds, written as a duration (`10s`, `2m`) or a number of seconds, at most `max` ms. */
const durationSeconds = (max?: number) =>
  z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
    try {
      return parseDuration(value, 'duration', {max}) / 1000
    } catch (error) {
      ctx.addIssue({code: 'custom', message: error instanceof UsageError ? error.why : 'expected a duration such as 10s, 2m or 1h'})
      return z.NEVER
    }
  })
const DurationSeconds = durationSeconds()

const Percent = z.number().min(0).max(100)

const NatsConfig = z.strictObject({
  servers: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  creds: z.string().optional(),
  nkey: z.string().optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  token: z.string().optional(),
  tls: z
    .strictObject({
      cert: z.string().optional(),
      key: z.string().optional(),
      ca: z.string().optional(),
      handshakeFirst: z.boolean().optional(),
    })
    .optional(),
  jsDomain: z.string().optional(),
  inboxPrefix: z.string().optional(),
  /** A natscli context (name or file) to take the connection settings from. */
  natsContext: z.string().optional(),
})

const HttpService = z.strictObject({
  url: z.url({protocol: /^https?$/}),
  bearerTokenFile: z.string().optional(),
})

/**
 * Direct incident notifiers. Secrets live in files, never in this YAML: the PagerDuty routing key and the
 * Slack webhook URL (its path is the key). `url` overrides where requests go (a proxy, or a test receiver):
 * PagerDuty's Events API v2 endpoint, or the scheme://host[:port] the Slack webhook path is sent to.
 */
const Notifiers = z.strictObject({
  pagerduty: z.strictObject({routingKeyFile: z.string().min(1), url: z.url({protocol: /^https?$/}).optional()}).optional(),
  slack: z.strictObject({webhookUrlFile: z.string().min(1), url: z.url({protocol: /^https?$/}).optional()}).optional(),
})

const XidList = z.array(z.number().int().positive())

/** GPU health thresholds of the context (see src/lib/gpu/thresholds.ts for the defaults). */
const GpuConfig = z.strictObject({
  /** GPUs this host should have: fewer found is CRITICAL. */
  expectedGpus: z.number().int().min(0).optional(),
  /** Absolute temperature, °C, used when the driver reports neither T.Limit headroom nor a slowdown temperature. */
  tempWarn: z.number().optional(),
  tempCrit: z.number().optional(),
  /** T.Limit headroom, °C: at or below. */
  tlimitWarn: z.number().optional(),
  tlimitCrit: z.number().optional(),
  /** Warn this many °C below the driver's slowdown temperature (older drivers report it absolutely). */
  slowdownMargin: z.number().min(0).optional(),
  /** Memory used, percent, that counts as nearly full when allocation failures are reported. */
  memFullPercent: Percent.optional(),
  /** Only Xid events this recent count (0: the whole boot). */
  xidWindow: DurationSeconds.optional(),
  /** Xid severity overrides. */
  xid: z.strictObject({ignore: XidList.optional(), warn: XidList.optional(), drain: XidList.optional()}).optional(),
  /** A node's published GPU health older than this is shown as stale by `gpu nodes`. */
  healthStaleAfter: DurationSeconds.optional(),
})

export const ContextConfig = z.strictObject({
  description: z.string().optional(),
  nats: NatsConfig.optional(),
  natsContext: z.string().optional(),
  prometheus: HttpService.optional(),
  alertmanager: HttpService.optional(),
  /** The event monitor (`cimops monitor`): runbook steps get its URL as MONITOR_URL. */
  monitor: z.strictObject({url: z.url({protocol: /^https?$/})}).optional(),
  streams: z.strictObject({events: z.string().min(1).optional(), ops: z.string().min(1).optional()}).optional(),
  thresholds: z
    .strictObject({
      lagWarn: DurationSeconds.optional(),
      lagCrit: DurationSeconds.optional(),
      memWarn: Percent.optional(),
      memCrit: Percent.optional(),
      diskFreeWarn: Percent.optional(),
      diskFreeCrit: Percent.optional(),
      jsWarn: Percent.optional(),
      jsCrit: Percent.optional(),
      loadWarn: z.number().positive().optional(),
      loadCrit: z.number().positive().optional(),
      stallAfter: DurationSeconds.optional(),
      rpoWarnSeconds: DurationSeconds.optional(),
      rpoCritSeconds: DurationSeconds.optional(),
    })
    .optional(),
  /** Mount points watched by the system check's disk-free thresholds. */
  mounts: z.array(z.string().startsWith('/')).min(1).optional(),
  /** Health score weights per group: events, messaging, memory, disk, monitoring, gpu, cpu, replication (default 5). 0 leaves a group out of the score; a check that is not OK still keeps it below 100. */
  scoreWeights: z.partialRecord(z.enum(['events', 'messaging', 'memory', 'disk', 'monitoring', 'gpu', 'cpu', 'replication']), z.number().nonnegative()).optional(),
  timeout: durationSeconds(MAX_NETWORK_TIMEOUT_MS).optional(),
  notifiers: Notifiers.optional(),
  gpu: GpuConfig.optional(),
})
export type ContextConfig = z.infer<typeof ContextConfig>
/** The shape written to disk (durations may still be strings). */
export type ContextConfigInput = z.input<typeof ContextConfig>

const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

export const ConfigFile = z.strictObject({
  'current-context': z.string().optional(),
  contexts: z.record(z.string().regex(CONTEXT_NAME, 'context names use letters, digits, "-", "_" and "."'), ContextConfig).default({}),
})
export type ConfigFile = z.infer<typeof ConfigFile>

export interface LoadedConfig {
  path: string
  exists: boolean
  config: ConfigFile
  /** The document as written, kept so that saving preserves durations as the user wrote them. */
  raw: {'current-context'?: string; contexts: Record<string, ContextConfigInput>}
}

export function isValidContextName(name: string): boolean {
  return CONTEXT_NAME.test(name)
}

export async function loadConfig(path = cimopsConfigFile()): Promise<LoadedConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {path, exists: false, config: {contexts: {}}, raw: {contexts: {}}}
    throw new ConfigError(`cannot read config file ${path}`, (error as Error).message, {hint: 'check its permissions'})
  }
  const {parse} = await import('yaml')
  let document: unknown
  try {
    document = parse(text) ?? {}
  } catch (error) {
    throw new ConfigError(`invalid config file ${path}`, `not valid YAML: ${firstLine((error as Error).message)}`, {
      hint: 'fix the file, or move it away and run `cimops context add`',
    })
  }
  const result = ConfigFile.safeParse(document)
  if (!result.success) {
    const issue = result.error.issues[0]
    const key = issue.path.join('.') || '(top level)'
    throw new ConfigError(`invalid config file ${path}`, `${key}: ${describeIssue(issue)}`, {
      hint: 'fix the file, or see `cimops context add --help` for the format',
    })
  }
  const config = result.data
  const current = config['current-context']
  if (current && !config.contexts[current]) {
    throw new ConfigError(`invalid config file ${path}`, `current-context: "${current}" is not one of the contexts (${Object.keys(config.contexts).join(', ') || 'none'})`, {
      hint: 'run `cimops context use NAME`',
    })
  }
  return {path, exists: true, config, raw: document as LoadedConfig['raw']}
}

export async function saveConfig(loaded: LoadedConfig): Promise<void> {
  const {stringify} = await import('yaml')
  const header = '# cimops contexts — see `cimops context --help`\n'
  // The file may hold credentials (passwords, tokens): keep it private.
  await writeFileAtomic(loaded.path, header + stringify(loaded.raw), 0o600)
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys': {
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
    }
    case 'invalid_type': {
      return `expected ${issue.expected}`
    }
    default: {
      return issue.message
    }
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]
}
