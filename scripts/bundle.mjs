#!/usr/bin/env node
// Bundles the CLI (issue 22, startup speed): Node spends most of a short command's life resolving, reading
// and compiling the ~1,000 files that oclif, nats.js, zod and cimops itself are made of. esbuild joins them
// into one CommonJS file beside the tsc output, dist/bundle/cimops.cjs, which bin/run.js loads through V8's
// code cache. It exports oclif's `execute` and COMMANDS (oclif's explicit command discovery, see
// package.json), whose getters evaluate a command's module, and what it imports, only when oclif asks for
// that command. A module imported lazily (`await import('./x.js')`) is likewise evaluated on first use.
// Left out of the bundle, and loaded from node_modules when used: packages that are large, load data files
// or are rarely needed on a command's hot path (ink, react, systeminformation, axios, execa), and what oclif
// only needs for TypeScript sources (typescript, ts-node).
// Also writes dist/bundle/build-id, the bundle's content hash, which keys bin/run.js' code cache (npm
// installs every file with the same mtime, so neither the file's time nor its size names a build), and
// dist/bundle/command-ids.json, from which bin/run.js tells which command's cache to read.
// Usage: bundle.mjs [distDir] (default: this repository's dist/, which tsc has just written).
import {createHash} from 'node:crypto'
import {mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, relative, resolve, sep} from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const dist = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist')
const out = join(dist, 'bundle')
const bundleFile = join(out, 'cimops.cjs')
const external = ['ink', 'react', 'react/*', 'systeminformation', 'axios', 'execa', 'typescript', 'ts-node']

/**
 * ink has top-level await, so CommonJS can reach it only through import(), never require(). A module that
 * imports it statically (the ink views under lib/ui) stays outside the bundle, as tsc wrote it, and is loaded
 * with import() from where the bundle asks for it. Such a module must import no cimops module: the bundle
 * holds its own copy of each, and two copies of a module are two states.
 */
const esmOnly = ['ink']
const keptOutside = new Set(
  readdirSync(join(dist, 'lib'), {recursive: true})
    .filter((file) => file.endsWith('.js'))
    .map((file) => join(dist, 'lib', file))
    .filter((file) => importsStatically(readFileSync(file, 'utf8'), esmOnly)),
)

function importsStatically(source, packages) {
  return [...source.matchAll(/^import\s[^;]*?from\s+['"]([^'"]+)['"]/gm)].some(([, specifier]) => packages.includes(specifier))
}

const loadedOutside = {
  name: 'loaded-outside',
  setup(pluginBuild) {
    pluginBuild.onResolve({filter: /^\./}, (args) => {
      const file = resolve(args.resolveDir, args.path)
      if (!keptOutside.has(file)) return undefined
      if (args.kind !== 'dynamic-import') throw new Error(`${args.importer} imports ${args.path} statically; it holds ink's views: import() it`)
      if (/^import\s[^;]*?from\s+['"]\./m.test(readFileSync(file, 'utf8'))) throw new Error(`${file} imports a cimops module; see keptOutside`)
      return {path: relative(out, file).split(sep).join('/'), external: true}
    })
  },
}

/** oclif's command ids: commands/alerts/silence/add.js is `alerts:silence:add`. */
const commands = readdirSync(join(dist, 'commands'), {recursive: true})
  .filter((file) => file.endsWith('.js'))
  .map((file) => ({id: file.slice(0, -'.js'.length).split(sep).join(':'), path: `./commands/${file.split(sep).join('/')}`}))
  .sort((a, b) => a.id.localeCompare(b.id))

const entry = [
  "export {execute, runWithStrayArguments} from './cli.js'",
  '/** Each getter evaluates its command module on first use: esbuild bundles a require() of ESM as a lazy init. */',
  'export const COMMANDS = {',
  ...commands.map(({id, path}) => `  get ${JSON.stringify(id)}() { return require(${JSON.stringify(path)}).default },`),
  '}',
  '',
].join('\n')

rmSync(out, {recursive: true, force: true})
const {outputFiles} = await build({
  stdin: {contents: entry, resolveDir: dist, sourcefile: 'bundle-entry.js', loader: 'js'},
  outfile: bundleFile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external,
  plugins: [loadedOutside],
  // One file holds every module, so import.meta.url is the bundle's own URL; core/paths.ts walks up from it.
  define: {'import.meta.url': '__cimopsBundleUrl'},
  banner: {
    js: [
      "const __cimopsBundleUrl = require('node:url').pathToFileURL(__filename).href;",
      // See routeDynamicImports: bin/run.js lends its own import(); a plain require() of the bundle uses the bundle's.
      'const __cimopsImport = module.cimopsImport ?? ((specifier, options) => import(specifier, options));',
    ].join('\n'),
  },
  // Less source to read and parse on every start; identifiers stay, so stack traces keep their names.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  // Written below, once the import() calls are routed and the text is ASCII.
  write: false,
})
const bundled = escapeNonAscii(routeDynamicImports(outputFiles[0].text))
mkdirSync(out, {recursive: true})
writeFileSync(bundleFile, bundled)
const buildId = createHash('sha256').update(bundled).digest('hex').slice(0, 16)
writeFileSync(join(out, 'build-id'), `${buildId}\n`)
// bin/run.js picks a command's code cache before the bundle is compiled, so it reads the ids from here.
writeFileSync(join(out, 'command-ids.json'), `${JSON.stringify(commands.map(({id}) => id))}\n`)

/**
 * V8 drops a script's host-defined options when it compiles the script from a code cache, and with them the
 * hook Node needs for import() (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). So every import() the bundle still
 * makes (Node's modules, ESM-only packages such as ink, oclif's loading of plugins) calls __cimopsImport instead,
 * the banner's function. TypeScript's parser finds them; a textual search could not tell them from strings.
 */
function routeDynamicImports(source) {
  const calls = dynamicImportStarts(source)
  let routed = source
  for (const start of calls.reverse()) routed = `${routed.slice(0, start)}__cimopsImport${routed.slice(start + 'import'.length)}`
  if (dynamicImportStarts(routed).length > 0) throw new Error('bundle: an import() is left besides the banner\'s own')
  return routed
}

/** Where each `import(` keyword starts, in source order, but for the banner's fallback, which must stay. */
function dynamicImportStarts(source) {
  const file = ts.createSourceFile('cimops.cjs', source, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS)
  const starts = []
  const visit = (node) => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) starts.push(node.expression.getStart(file))
    ts.forEachChild(node, visit)
  }
  visit(file)
  const banner = source.indexOf('import(specifier, options)')
  return starts.filter((start) => start !== banner)
}

/**
 * esbuild escapes non-ASCII characters in strings but not in regular expressions (`µs` in a duration pattern,
 * the ANSI pattern's C1 control). Escaped there too, the bundle is ASCII, which bin/run.js reads as latin1:
 * ~10 ms less per start than decoding UTF-8. A `\uXXXX` escape means the same code unit in a string, a template
 * or a regular expression, with or without the u flag; no identifier in esbuild's output holds one.
 */
function escapeNonAscii(source) {
  // eslint-disable-next-line no-control-regex
  return source.replace(/[^\x00-\x7f]/g, (char, at) => {
    // After a backslash the escape would itself be escaped: refuse rather than change a pattern's meaning.
    if (source[at - 1] === '\\') throw new Error(`bundle: a backslash precedes U+${char.charCodeAt(0).toString(16)} at ${at}`)
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
  })
}
