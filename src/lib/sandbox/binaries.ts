import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import * as z from 'zod'

import {compareVersions, parseServerVersion} from '../core/version.js'
import {runTool} from '../adapters/proc/run.js'
import {ConfigError, DataError} from '../core/errors.js'
import {isExecutableFile, pathDirectories} from '../core/executables.js'
import {cimopsCacheDir, packageRoot} from '../core/paths.js'
import {parseJson} from './state.js'
import {DEFAULT_SERVER_SET, SERVER_SETS, type ServerComponent, type ServerExecutable, type ServerSet} from './types.js'

const SERVER_SET_ENV = 'CIMOPS_SERVERS'

interface ServerBinary {
  /** Debian package that ships it (binary names match the package names). */
  debianPackage: string
  envOverride: string
  /** Names to look for on PATH: Debian's first, then upstream's. */
  names: string[]
  debianPath: string
}

const SERVER_BINARIES: Record<ServerExecutable, ServerBinary> = {
  nats: {
    debianPackage: 'nats-server',
    envOverride: 'CIMOPS_NATS_SERVER_BIN',
    names: ['nats-server'],
    debianPath: '/usr/sbin/nats-server',
  },
  prometheus: {
    debianPackage: 'prometheus',
    envOverride: 'CIMOPS_PROMETHEUS_BIN',
    names: ['prometheus'],
    debianPath: '/usr/bin/prometheus',
  },
  alertmanager: {
    debianPackage: 'prometheus-alertmanager',
    envOverride: 'CIMOPS_ALERTMANAGER_BIN',
    names: ['prometheus-alertmanager', 'alertmanager'],
    debianPath: '/usr/bin/prometheus-alertmanager',
  },
  // Inside the prometheus package in Debian 12 and 13, a package of its own in unstable: the fetch
  // records it under its own name wherever it came from.
  promtool: {
    debianPackage: 'promtool',
    envOverride: 'CIMOPS_PROMTOOL_BIN',
    names: ['promtool'],
    debianPath: '/usr/bin/promtool',
  },
  amtool: {
    debianPackage: 'prometheus-alertmanager',
    envOverride: 'CIMOPS_AMTOOL_BIN',
    names: ['amtool'],
    debianPath: '/usr/bin/amtool',
  },
}


/** What install-servers.sh records of a fetched suite: `<cache>/servers/<suite>.json`. */
const SetRecord = z.object({suite: z.string(), packages: z.record(z.string(), z.string())})

/** The set CIMOPS_SERVERS names; Debian 12's when unset. */
export function serverSetFrom(env: NodeJS.ProcessEnv = process.env): ServerSet {
  const value = env[SERVER_SET_ENV]
  if (!value) return DEFAULT_SERVER_SET
  if (isServerSet(value)) return value
  throw new ConfigError(`unknown server set ${value}`, `${SERVER_SET_ENV} must be one of ${SERVER_SETS.join(', ')}`, {hint: `e.g. ${SERVER_SET_ENV}=unstable`})
}

function isServerSet(value: string): value is ServerSet {
  return (SERVER_SETS as readonly string[]).includes(value)
}

/** Where install-servers.sh unpacks fetched packages, one `<package>-<version>/` each. */
export function serversCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cimopsCacheDir(env), 'servers')
}

/** The command that fetches a set: what a "not fetched" error tells the user to run. */
export function installCommand(set: ServerSet): string {
  const script = join(packageRoot(), 'scripts/install-servers.sh')
  return set === DEFAULT_SERVER_SET ? `sudo bash ${script}` : `bash ${script} ${set}`
}

/**
 * Path of the server executable for a component. The env override wins; else the chosen set's:
 * Debian 12's on PATH or at Debian's path, a fetched suite's in the cache. An override that points
 * nowhere is an error of its own: silently using another binary would hide it.
 */
export function findServerBinary(component: ServerExecutable, env: NodeJS.ProcessEnv = process.env, set: ServerSet = serverSetFrom(env)): string {
  const binary = SERVER_BINARIES[component]
  const override = binaryOverride(component, env)
  if (override) {
    if (isExecutableFile(override)) return override
    throw notInstalled(binary, `${binary.envOverride}=${override} is not an executable file`)
  }
  return set === DEFAULT_SERVER_SET ? findInstalled(binary, env) : findFetched(binary, set, env)
}

/** The executable an env override names for a component (e.g. CIMOPS_PROMTOOL_BIN), undefined without one. */
export function binaryOverride(component: ServerExecutable, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[SERVER_BINARIES[component].envOverride] || undefined
}

function findInstalled(binary: ServerBinary, env: NodeJS.ProcessEnv): string {
  const pathDirs = pathDirectories(env)
  const candidates = [...pathDirs.flatMap((dir) => binary.names.map((name) => join(dir, name))), binary.debianPath]
  const found = candidates.find((candidate) => isExecutableFile(candidate))
  if (found) return found
  throw notInstalled(binary, `searched ${[...new Set(candidates)].join(', ')}`)
}

function findFetched(binary: ServerBinary, set: ServerSet, env: NodeJS.ProcessEnv): string {
  const cacheDir = serversCacheDir(env)
  const version = readSetRecord(set, cacheDir).packages[binary.debianPackage]
  if (!version) throw notFetched(set, `${set}.json in ${cacheDir} names no ${binary.debianPackage}`)
  const path = join(cacheDir, `${binary.debianPackage}-${version}`, binary.debianPath)
  if (isExecutableFile(path)) return path
  throw notFetched(set, `${path} is missing`)
}

function readSetRecord(set: ServerSet, cacheDir: string): z.infer<typeof SetRecord> {
  const file = join(cacheDir, `${set}.json`)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw notFetched(set, (error as NodeJS.ErrnoException).code === 'ENOENT' ? `no ${file}` : `cannot read ${file}: ${(error as Error).message}`)
  }
  const parsed = SetRecord.safeParse(parseJson(text))
  if (!parsed.success) throw notFetched(set, `${file} is not a record of install-servers.sh`)
  return parsed.data
}

function notInstalled(binary: ServerBinary, why: string): ConfigError {
  return new ConfigError(`${binary.names[0]} is not installed`, why, {
    hint: `install the Debian package ${binary.debianPackage}, e.g. sudo bash scripts/install-servers.sh`,
  })
}

function notFetched(set: ServerSet, why: string): ConfigError {
  return new ConfigError(`the ${set} servers are not fetched`, why, {hint: installCommand(set)})
}

/** A server binary answers --version at once; this bounds a wrapper that does not. */
const VERSION_TIMEOUT_MS = 2000

/**
 * The release a server binary reports (`--version`): `2.15.1`, `3.5.3`, Debian's `+ds` left out;
 * undefined when it does not say.
 */
export async function serverBinaryVersion(path: string): Promise<string | undefined> {
  try {
    const {stdout, stderr} = await runTool(path, ['--version'], {timeoutMs: VERSION_TIMEOUT_MS})
    return /\bv?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)/.exec(`${stdout}\n${stderr}`)?.[1]
  } catch {
    return undefined
  }
}

/** The binaries a set runs and the version each reports, for "which servers ran" lines. */
export async function serverSetVersions(env: NodeJS.ProcessEnv = process.env): Promise<{set: ServerSet; versions: Partial<Record<ServerComponent, string>>}> {
  const set = serverSetFrom(env)
  const components: ServerComponent[] = ['nats', 'prometheus', 'alertmanager']
  const entries = await Promise.all(components.map(async (component) => [component, await serverBinaryVersion(findServerBinary(component, env, set))] as const))
  return {set, versions: Object.fromEntries(entries.filter(([, version]) => version !== undefined))}
}

export interface NatsServerBinary {
  path: string
  /** What it reports (`--version`). */
  version: string
}

/**
 * A nats-server at least `minVersion` (any when undefined), for a throwaway server that must read what
 * a server of that version wrote (verify --deep, drill): the chosen set's own when new enough, else
 * the newest of those installed and cached. None new enough is bad data for this machine: a
 * DataError (65) naming the version needed and the command that fetches newer servers.
 */
export async function natsServerAtLeast(minVersion: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<NatsServerBinary> {
  const needed = parseServerVersion(minVersion)
  const newEnough = (version: string) => needed === undefined || compareVersions(parseServerVersion(version) ?? [0, 0, 0], needed) >= 0
  let own: string | undefined
  let ownError: unknown
  try {
    own = findServerBinary('nats', env)
  } catch (error) {
    // The set may not be fetched here; the installed and cached servers may still do.
    ownError = error
  }
  const ownVersion = own ? await serverBinaryVersion(own) : undefined
  if (own && ownVersion && newEnough(ownVersion)) return {path: own, version: ownVersion}

  const found = await natsServersHere(env)
  const chosen = found.find((server) => newEnough(server.version))
  if (chosen) return chosen
  if (needed === undefined) throw ownError ?? notInstalled(SERVER_BINARIES.nats, 'found no nats-server installed or cached')
  const newest = found[0] ? `the newest here is ${found[0].version}` : 'none is installed or cached here'
  throw new DataError(`no nats-server ${minVersion} or newer to restore into`, `nats-server ${minVersion} wrote the set, and older servers may not read it; ${newest}`, {
    hint: `fetch newer servers: ${installCommand('unstable')}`,
  })
}

/** Every nats-server on PATH, at Debian's path and in the servers cache, with its version; newest first. */
async function natsServersHere(env: NodeJS.ProcessEnv): Promise<NatsServerBinary[]> {
  const binary = SERVER_BINARIES.nats
  const cacheDir = serversCacheDir(env)
  const cached = readdirSafe(cacheDir)
    .filter((entry) => entry.startsWith(`${binary.debianPackage}-`))
    .map((entry) => join(cacheDir, entry, binary.debianPath))
  const paths = [...new Set([...pathDirectories(env).flatMap((dir) => binary.names.map((name) => join(dir, name))), binary.debianPath, ...cached])].filter((path) => isExecutableFile(path))
  const versions = await Promise.all(paths.map(async (path) => ({path, version: await serverBinaryVersion(path)})))
  return versions
    .filter((server): server is NatsServerBinary => server.version !== undefined && parseServerVersion(server.version) !== undefined)
    .sort((a, b) => compareVersions(parseServerVersion(b.version)!, parseServerVersion(a.version)!))
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}
