#!/usr/bin/env node
// Startup is part of the product. Without loading oclif (~100 ms here):
// - `cimops --version` prints the version from package.json;
// - `cimops --help` piped (not a terminal) prints the root help rendered at build time by scripts/cache-help.js,
//   byte for byte what oclif prints there. On a terminal, oclif renders it for the real width and colours once;
//   later calls replay those bytes from the user's cache, keyed by the build, the width and the colour settings.
// oclif's Node-engine check (which loads semver) is skipped: package.json's engines field already pins Node >= 20.
// Everything else runs from the bundle (dist/bundle, scripts/bundle.mjs): oclif and the commands in a few chunks.
import {mkdirSync, readFileSync, renameSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

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
  const {execute} = await import('../dist/bundle/cli.js')
  const keep = helpFile === undefined ? undefined : captureStdout(helpFile)
  await execute({dir: import.meta.url, args: globalFlagsLast(argv)})
  keep?.()
  // The command has reported its result. Leave now rather than wait on sockets a library failed to
  // close (nats.js leaves the socket of a timed-out connect open), once stdout has been flushed.
  process.stdout.write('', () => process.exit())
}
