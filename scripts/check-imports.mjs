#!/usr/bin/env node
// Layering check (issue 16): core and adapters import no capability or command, nothing in src/lib imports a command
// or the commands' shared flags (src/flags), no two src/lib folders import each other (directly or round a circle),
// and only the command layer (commands, flags, core/base-command.ts, core/output/, ui/) imports @oclif/core or chalk.
// Counts static, type-only and dynamic imports alike: each is an arrow. Exit 1 on a finding.
// Usage: check-imports.mjs [root], the root defaulting to this repository (the test points it at fixtures).
import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'

const root = process.argv[2] ? resolve(process.argv[2]) : resolve(dirname(new URL(import.meta.url).pathname), '..')
const files = readdirSync(join(root, 'src'), {recursive: true})
  .filter((f) => /\.tsx?$/.test(f))
  .map((f) => join('src', f))
const folder = (file) => (file.startsWith('src/lib/') ? file.split('/')[2] : file.startsWith('src/commands/') ? 'commands' : file.startsWith('src/flags/') ? 'flags' : undefined)
/** The files of src/lib that may use the CLI framework and terminal styling; services get a Style from core/output. */
const PRESENTATION = /^src\/lib\/(core\/base-command\.ts|core\/output\/|ui\/)/
const edges = new Map() // folder -> Map(folder -> first arrow)
const problems = []
for (const file of files) {
  const text = readFileSync(join(root, file), 'utf8')
  for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts')
    const [from, to] = [folder(file), folder(target)]
    if (!from || !to || from === to) continue
    if ((from === 'core' || from === 'adapters') && to !== 'core' && to !== 'adapters') problems.push(`upward: ${file} -> ${target}`)
    if (file.startsWith('src/lib/') && (to === 'commands' || to === 'flags')) problems.push(`upward: ${file} -> ${target}`)
    if (!edges.has(from)) edges.set(from, new Map())
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${file} -> ${target}`)
  }
  if (!file.startsWith('src/lib/') || PRESENTATION.test(file)) continue
  for (const [, module] of text.matchAll(/(?:from|import)\s*\(?\s*'(@oclif\/core|chalk)(?:\/[^']*)?'/g)) problems.push(`presentation: ${file} imports ${module}`)
}
// A circle between folders: some folder reaches itself again. Report each pair on a circle once, with one arrow each way.
const reach = (start) => {
  const seen = new Set()
  const walk = (f) => edges.get(f)?.forEach((_, to) => !seen.has(to) && (seen.add(to), walk(to)))
  walk(start)
  return seen
}
for (const [from, tos] of edges) for (const [to, arrow] of tos) if (reach(to).has(from)) problems.push(`circle ${from} -> ${to}: ${arrow}`)
for (const p of [...new Set(problems)].sort()) console.log(p)
console.log(problems.length === 0 ? 'imports: layering ok, no circles' : `imports: ${new Set(problems).size} finding(s)`)
process.exitCode = problems.length === 0 ? 0 : 1
