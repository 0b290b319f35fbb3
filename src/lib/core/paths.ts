import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, isAbsolute, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * The directory of cimops' package.json: runbooks/, deploy/, scripts/ and bin/ lie there. Found by walking
 * up, because this code runs from src/ (tests), dist/lib/ (tsc) and dist/bundle/ (the bundled CLI) alike.
 */
export function packageRoot(): string {
  packageRootFound ??= findPackageRoot(dirname(fileURLToPath(import.meta.url)))
  return packageRootFound
}

let packageRootFound: string | undefined

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'runbooks'))) return dir
    if (dirname(dir) === dir) throw new Error(`cimops' package directory is not above ${from}`)
  }
}

/** `~/x` -> `$HOME/x`; relative paths resolve against `base` (the directory of the file that named them). */
export function expandPath(path: string, base?: string): string {
  if (path === '~') return homedir()
  if (path.startsWith('~/')) return join(homedir(), path.slice(2))
  if (isAbsolute(path) || !base) return path
  return resolve(base, path)
}

function xdgConfigHome(): string {
  const xdg = process.env.XDG_CONFIG_HOME
  return xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.config')
}

/** cimops's config file; CIMOPS_CONFIG overrides it (handy for cron jobs and tests). */
export function cimopsConfigFile(): string {
  return process.env.CIMOPS_CONFIG ? expandPath(process.env.CIMOPS_CONFIG) : join(xdgConfigHome(), 'cimops', 'config.yaml')
}

/** Data (sandbox state, spools) lives under XDG_DATA_HOME/cimops; CIMOPS_DATA_DIR overrides it. */
export function cimopsDataDir(): string {
  if (process.env.CIMOPS_DATA_DIR) return expandPath(process.env.CIMOPS_DATA_DIR)
  const xdg = process.env.XDG_DATA_HOME
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'share'), 'cimops')
}

/** Downloads cimops keeps for reuse (the fetched server sets) live under XDG_CACHE_HOME/cimops. */
export function cimopsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'cimops')
}

/** natscli keeps its contexts in ~/.config/nats/context/<name>.json and the selected one in context.txt. */
export function natsContextDir(): string {
  return join(xdgConfigHome(), 'nats', 'context')
}

export function natsSelectedContextFile(): string {
  return join(xdgConfigHome(), 'nats', 'context.txt')
}
