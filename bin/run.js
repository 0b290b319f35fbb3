#!/usr/bin/env node
// Startup is part of the product. Without loading oclif (~100 ms here):
// - `cimops --version` prints the version from package.json;
// - `cimops --help` piped (not a terminal) prints the root help rendered at build time by scripts/cache-help.js,
//   byte for byte what oclif prints there. On a terminal, oclif renders it for the real width and colours once;
//   later calls replay those bytes from the user's cache, keyed by the build, the width and the colour settings.
// oclif's Node-engine check (which loads semver) is skipped: package.json's engines field already pins Node >= 20.
// Everything else runs from the bundle (dist/bundle/cimops.cjs, scripts/bundle.mjs): oclif and the commands in
// one file, compiled through V8's code cache (loadBundle below).
import {closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import Module, {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {Script} from 'node:vm'

const argv = process.argv.slice(2)
const only = argv.length === 1 ? argv[0] : undefined
const rootHelpAsked = only === '--help' || only === 'help' || only === '-h'
const builtHelp = new URL('../dist/root-help.txt', import.meta.url)

function rootHelpFromCache() {
  if (process.stdout.isTTY || process.env.CIMOPS_NO_HELP_CACHE || process.env.OCLIF_COLUMNS) return undefined
  if (!rootHelpAsked) return undefined
  try {
    return readFileSync(builtHelp, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * Where oclif's terminal rendering of the root help is kept: one file per build, width and colour
 * environment, so a wider window, NO_COLOR or a rebuild renders afresh. undefined: render, keep nothing.
 */
async function terminalHelpFile() {
  if (!process.stdout.isTTY || !rootHelpAsked || process.env.CIMOPS_NO_HELP_CACHE) return undefined
  try {
    const {createHash} = await import('node:crypto')
    const {cimopsCacheDir} = await import('../dist/lib/core/paths.js')
    // What oclif's colour and width detection read; the rest of the environment cannot change the help.
    const settings = Object.entries(process.env).filter(([name]) => /COLOR|TERM|^CI$|^CI_|^OCLIF_|^GITHUB_ACTIONS$|^TF_BUILD$/.test(name)).sort()
    const key = createHash('sha256').update(JSON.stringify([statSync(builtHelp).mtimeMs, process.stdout.columns, settings])).digest('hex').slice(0, 16)
    return join(cimopsCacheDir(), 'help', `root-${key}.txt`)
  } catch {
    return undefined
  }
}

/** Tees what the command writes to stdout; `keep` stores it atomically, and only when the command succeeded. */
function captureStdout(file) {
  const chunks = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = (chunk, ...rest) => {
    chunks.push(Buffer.from(chunk))
    return write(chunk, ...rest)
  }
  return function keep() {
    process.stdout.write = write
    if (process.exitCode) return
    try {
      mkdirSync(dirname(file), {recursive: true})
      writeFileSync(`${file}.${process.pid}`, Buffer.concat(chunks))
      renameSync(`${file}.${process.pid}`, file)
    } catch {
      // An unwritable cache only costs the next call its speed.
    }
  }
}

const cachedHelp = rootHelpFromCache()
const helpFile = await terminalHelpFile()
const keptHelp = helpFile === undefined ? undefined : readKept(helpFile)

function readKept(file) {
  try {
    return readFileSync(file)
  } catch {
    return undefined
  }
}

if (only === '--version' || only === '-v' || only === 'version') {
  const {version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`cimops/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else if (cachedHelp !== undefined) {
  process.stdout.write(cachedHelp)
} else if (keptHelp !== undefined) {
  process.stdout.write(keptHelp)
} else {
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
  // `cimops --context prod health-check`: global flags may come first, as with kubectl and natscli.
  const {globalFlagsLast} = await import('../dist/lib/core/global-argv.js')
  const args = globalFlagsLast(argv)
  const command = ownCommand(args)
  const bundle = await loadBundle(command)
  const keep = helpFile === undefined ? undefined : captureStdout(helpFile)
  await bundle.exports.execute(command === undefined ? {dir: import.meta.url, args} : {args, loadOptions: withoutPlugins()})
  keep?.()
  bundle.saveCodeCache()
  // The command has reported its result. Leave now rather than wait on sockets a library failed to
  // close (nats.js leaves the socket of a timed-out connect open), once stdout has been flushed.
  process.stdout.write('', () => process.exit())
}

/** The cimops command the arguments name (`stream:info`): the longest run of leading words that is one. */
function ownCommand(args) {
  try {
    const ids = new Set(JSON.parse(readFileSync(new URL('../dist/bundle/command-ids.json', import.meta.url), 'utf8')))
    const flagAt = args.findIndex((arg) => arg.startsWith('-'))
    const words = (flagAt === -1 ? args : args.slice(0, flagAt)).slice(0, 3)
    return words.map((_, end) => words.slice(0, words.length - end).join(':')).find((id) => ids.has(id))
  } catch {
    return undefined
  }
}

/**
 * oclif's options for running one of cimops' own commands. Its plugins (help, autocomplete, not-found) add the
 * `help` and `autocomplete` commands and the typo suggestion, none of which such a run uses; loading them costs
 * every start ~10 ms (issue 22). Any other run (`help`, a topic, a typo) loads them as package.json lists them.
 * A word after a command that takes no arguments reaches oclif as part of a command name (`health-check:nats`);
 * the bundle's runWithStrayArguments then has that command refuse it, as every command refuses an extra argument.
 */
function withoutPlugins() {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const strayArguments = {target: pjson.oclif.commands.target, identifier: 'runWithStrayArguments'}
  return {root, pjson: {...pjson, oclif: {...pjson.oclif, plugins: [], hooks: {...pjson.oclif.hooks, command_not_found: strayArguments}}}}
}

/**
 * Loads dist/bundle/cimops.cjs as Node's CommonJS loader would, but compiled from V8's code cache when one is
 * kept: parsing and compiling the bundle's ~2.4 MB cost a short command about a quarter of its life (issue 22).
 * A cache is what V8 serialised after an earlier run of the same command from the same build, so it holds the
 * functions that command ran. It lives under XDG_CACHE_HOME/cimops/v8/<build>/<command>.bin; <build> names the
 * bundle's content (dist/bundle/build-id), its mtime, Node's version and arch, and Node's binary (its size and
 * mtime). V8 itself refuses a cache made by another V8 or with other flags; the bundle is then compiled from
 * source and the cache written anew. CIMOPS_NO_CODE_CACHE=1 neither reads nor writes one.
 */
async function loadBundle(command) {
  const file = fileURLToPath(new URL('../dist/bundle/cimops.cjs', import.meta.url))
  // The build keeps the bundle ASCII (scripts/bundle.mjs), so latin1 reads it exactly, and faster than UTF-8.
  const source = readFileSync(file, 'latin1')
  const cacheFile = await codeCacheFile(file, command)
  const cachedData = cacheFile === undefined ? undefined : readKept(cacheFile)
  const script = new Script(Module.wrap(source), {filename: file, cachedData})
  // Registered before it runs, so that oclif's require() of its command target returns this very module.
  const module = new Module(file)
  module.filename = file
  module.paths = Module._nodeModulePaths(dirname(file))
  Module._cache[file] = module
  // Code compiled from a cache cannot call import() itself (scripts/bundle.mjs routes it here). Packages resolve
  // from this file as from the bundle, both in this package; a relative path (ink's views) from the bundle.
  const bundleUrl = pathToFileURL(file)
  module.cimopsImport = (specifier, options) => import(specifier.startsWith('.') ? new URL(specifier, bundleUrl).href : specifier, options)
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file))
  module.loaded = true
  const stale = cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected)
  return {
    exports: module.exports,
    saveCodeCache() {
      if (stale) writeCodeCache(cacheFile, script)
    },
  }
}

async function codeCacheFile(bundleFile, command) {
  if (process.env.CIMOPS_NO_CODE_CACHE) return undefined
  try {
    const buildId = readFileSync(join(dirname(bundleFile), 'build-id'), 'utf8').trim()
    const {cimopsCacheDir} = await import('../dist/lib/core/paths.js')
    // Node's own binary too: two builds of one Node version (a distribution's, nodejs.org's) may differ in V8.
    const node = statSync(process.execPath)
    const build = `${buildId}-${Math.trunc(statSync(bundleFile).mtimeMs)}-${process.version}-${process.arch}-${node.size}-${Math.trunc(node.mtimeMs)}`
    return join(cimopsCacheDir(), 'v8', build, `${command?.replaceAll(':', '-') ?? 'other'}.bin`)
  } catch {
    return undefined
  }
}

/** Written atomically once the command is done; a build unused for a week is removed then. Failures only cost speed. */
function writeCodeCache(file, script) {
  const temp = `${file}.${process.pid}`
  try {
    mkdirSync(dirname(file), {recursive: true, mode: 0o700})
    // Opened before V8 serialises (~20 ms): a directory that takes no file costs nothing more.
    const fd = openSync(temp, 'w')
    try {
      writeFileSync(fd, script.createCachedData())
    } finally {
      closeSync(fd)
    }
    renameSync(temp, file)
    removeBuildsUnusedForAWeek(dirname(file))
  } catch {
    // An unwritable or full cache directory: the next start compiles again. A half-written file is not left.
    try {
      rmSync(temp, {force: true})
    } catch {
      // Not even removable (the cache path runs through a file): there is nothing to remove.
    }
  }
}

function removeBuildsUnusedForAWeek(current) {
  const weekAgo = Date.now() - 7 * 24 * 3600 * 1000
  for (const build of readdirSync(dirname(current))) {
    const dir = join(dirname(current), build)
    if (dir !== current && statSync(dir).mtimeMs < weekAgo) rmSync(dir, {recursive: true, force: true})
  }
}
