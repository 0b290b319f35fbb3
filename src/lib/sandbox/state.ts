import {readdir, readFile, rm, rmdir} from 'node:fs/promises'
import {join} from 'node:path'
import * as z from 'zod'
import {writeFileAtomic} from '../core/atomic-write.js'
import {DataError} from '../core/errors.js'
import {SANDBOX_SITES, SERVER_SETS, type SandboxState} from './types.js'

const STATE_FILE = 'state.json'
/** Everything the sandbox may create in its state dir; `down` removes only these. */
const SANDBOX_ENTRIES = new Set(['nats-1', 'nats-2', 'nats-3', 'dr-nats-1', 'dr-nats-2', 'dr-nats-3', 'prometheus', 'alertmanager', 'monitor'])

const processSchema = z.object({
  name: z.string(),
  component: z.enum(['nats', 'prometheus', 'alertmanager', 'monitor']),
  pid: z.number().int().positive(),
  url: z.string(),
  port: z.number().int(),
  version: z.string().optional(),
  monitorUrl: z.string().optional(),
  clusterPort: z.number().int().optional(),
  site: z.enum([SANDBOX_SITES.primary, SANDBOX_SITES.dr]).optional(),
  leafnodePort: z.number().int().optional(),
  serverId: z.string().optional(),
  configFile: z.string(),
  dataDir: z.string(),
  logFile: z.string(),
  argv: z.array(z.string()).min(1),
})

const stateSchema = z.object({
  version: z.literal(1),
  stateDir: z.string(),
  startedAt: z.string(),
  cluster: z.union([z.literal(1), z.literal(3)]),
  sites: z.union([z.literal(1), z.literal(2)]).optional(),
  servers: z.enum(SERVER_SETS).optional(),
  jetstream: z.boolean(),
  processes: z.array(processSchema),
  natsServers: z.array(z.string()),
  drNatsServers: z.array(z.string()).optional(),
  prometheusUrl: z.string().optional(),
  alertmanagerUrl: z.string().optional(),
  eventMonitorUrl: z.string().optional(),
}) satisfies z.ZodType<SandboxState>

export function defaultSandboxDir(dataDir: string): string {
  return join(dataDir, 'sandbox')
}

/** The recorded sandbox, or undefined when none was started here. */
export async function readSandboxState(stateDir: string): Promise<SandboxState | undefined> {
  const file = join(stateDir, STATE_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const parsed = stateSchema.safeParse(parseJson(text))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new DataError(`cannot read sandbox state ${file}`, `${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}`, {
      hint: `stop any servers it started by hand, then remove ${stateDir}`,
    })
  }
  return parsed.data
}

/** JSON, or undefined for text that is not: the schema check then says what is wrong. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Atomic: a reader never sees a half-written file. */
export async function writeSandboxState(state: SandboxState): Promise<void> {
  await writeFileAtomic(join(state.stateDir, STATE_FILE), JSON.stringify(state, null, 2) + '\n')
}

/**
 * Remove what the sandbox created, then the directory itself if nothing else is left in it:
 * the state dir may be user-chosen, so unknown files are never deleted.
 */
export async function removeSandboxFiles(stateDir: string): Promise<void> {
  let entries: string[]
  try {
    entries = await readdir(stateDir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  const ours = entries.filter((entry) => SANDBOX_ENTRIES.has(entry) || entry.startsWith(STATE_FILE) || entry.startsWith(`.${STATE_FILE}`))
  await Promise.all(ours.map((entry) => rm(join(stateDir, entry), {recursive: true, force: true})))
  if (ours.length === entries.length) await rmdir(stateDir)
}
