/**
 * The cimops commands a runbook step may call, and whether a `cimops …` line parses as one: the
 * command exists, every flag is one of its flags (global flags included), option values are among the
 * allowed ones, required flags and arguments are there and there are not too many arguments.
 * Read from oclif's manifest (oclif.manifest.json, or the loaded config in development).
 */
import {readFile} from 'node:fs/promises'

import {closest} from './attributes.js'
import type {Word} from './shell-words.js'

export interface CatalogFlag {
  name: string
  type: 'boolean' | 'option'
  char?: string
  options?: readonly string[]
  allowNo?: boolean
  required?: boolean
}

export interface CatalogCommand {
  id: string
  flags: Record<string, CatalogFlag>
  args: Array<{name: string; required?: boolean}>
  strict: boolean
}

export interface CommandCatalog {
  commands: Map<string, CatalogCommand>
  /** Topic names (`alerts`, `alerts:silence`): a word sequence that is a topic is not a command yet. */
  topics: Set<string>
}

interface ManifestLike {
  commands: Record<string, {id: string; flags?: Record<string, ManifestFlag>; args?: Record<string, {name: string; required?: boolean}>; strict?: boolean}>
}
interface ManifestFlag {
  name: string
  type: string
  char?: string
  options?: readonly string[]
  allowNo?: boolean
  required?: boolean
}

/** From oclif's manifest or its loaded `config.commands` (the same shape). */
export function catalogFrom(commands: Iterable<ManifestLike['commands'][string]>): CommandCatalog {
  const catalog: CommandCatalog = {commands: new Map(), topics: new Set()}
  for (const command of commands) {
    const flags: Record<string, CatalogFlag> = {}
    for (const [name, flag] of Object.entries(command.flags ?? {})) {
      flags[name] = {
        name,
        type: flag.type === 'boolean' ? 'boolean' : 'option',
        ...(flag.char ? {char: flag.char} : {}),
        ...(flag.options ? {options: flag.options} : {}),
        ...(flag.allowNo ? {allowNo: true} : {}),
        ...(flag.required ? {required: true} : {}),
      }
    }
    const args = Object.values(command.args ?? {}).map((arg) => ({name: arg.name, ...(arg.required ? {required: true} : {})}))
    catalog.commands.set(command.id, {id: command.id, flags, args, strict: command.strict !== false})
    const parts = command.id.split(':')
    for (let i = 1; i < parts.length; i++) catalog.topics.add(parts.slice(0, i).join(':'))
  }
  return catalog
}

export async function catalogFromManifest(path: string): Promise<CommandCatalog> {
  const manifest = JSON.parse(await readFile(path, 'utf8')) as ManifestLike
  return catalogFrom(Object.values(manifest.commands))
}

export type CommandCheck =
  | {ok: true; id: string}
  | {ok: false; kind: 'unknown-command' | 'bad-usage'; id?: string; message: string}

/** Checks the words after `cimops`. Dynamic words ($X) are taken as valid values. */
export function checkCimopsCommand(catalog: CommandCatalog, words: Word[]): CommandCheck {
  const display = `cimops ${words.map((w) => w.text).join(' ')}`.trim()
  if (words.length === 0) return {ok: false, kind: 'unknown-command', message: '`cimops` without a command'}
  if (words.length === 1 && ['--help', '-h', 'help', '--version', '-v', 'version'].includes(words[0].text)) return {ok: true, id: words[0].text}

  // Longest run of leading plain words that names a command.
  let id: string | undefined
  let used = 0
  for (let n = Math.min(words.length, 4); n >= 1; n--) {
    const head = words.slice(0, n)
    if (head.some((w) => w.dynamic || w.text.startsWith('-'))) continue
    const candidate = head.map((w) => w.text).join(':')
    if (catalog.commands.has(candidate)) {
      id = candidate
      used = n
      break
    }
  }
  if (!id) {
    // The words meant as the command: through the topics, then one more (a verb-looking word after an unknown first one).
    const typed: string[] = []
    for (const word of words) {
      if (word.dynamic || word.text.startsWith('-')) break
      typed.push(word.text)
      if (!catalog.topics.has(typed.join(':'))) {
        if (typed.length > 1 || !/^[a-z][a-z-]*$/.test(words[1]?.text ?? '') || words[1]?.dynamic) break
      }
      if (typed.length >= 3) break
    }
    const asTopic = typed.join(':')
    const near = closest(asTopic, [...catalog.commands.keys()])
    const what = catalog.topics.has(typed[0] ?? '') ? `"${typed.join(' ')}" is not a command of topic ${typed[0]}` : `"${typed.join(' ')}" is not a cimops command`
    return {ok: false, kind: 'unknown-command', message: `${what}${near ? ` (did you mean \`cimops ${near.replaceAll(':', ' ')}\`?)` : ''}: ${display}`}
  }
  const command = catalog.commands.get(id)!
  const name = id.replaceAll(':', ' ')
  const bad = (message: string): CommandCheck => ({ok: false, kind: 'bad-usage', id, message: `cimops ${name}: ${message}`})
  const byChar = new Map(Object.values(command.flags).filter((f) => f.char).map((f) => [f.char!, f]))
  const positional: Word[] = []
  const given = new Set<string>()
  const rest = words.slice(used)
  let help = false

  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]
    if (word.text === '--') {
      positional.push(...rest.slice(i + 1))
      break
    }
    if (word.text === '--help' || word.text === '-h') {
      help = true
      continue
    }
    if (word.text.startsWith('--') && !word.dynamic) {
      const [flagName, inline] = splitOnce(word.text.slice(2), '=')
      let flag = command.flags[flagName]
      if (!flag && flagName.startsWith('no-')) {
        const negated = command.flags[flagName.slice(3)]
        if (negated?.allowNo) flag = negated
      }
      if (!flag && flagName.startsWith('no-') && command.flags[flagName.slice(3)]) return bad(`unknown flag --${flagName} (--${flagName.slice(3)} cannot be negated)`)
      if (!flag) {
        const near = closest(flagName, Object.keys(command.flags))
        return bad(`unknown flag --${flagName}${near ? ` (did you mean --${near}?)` : ''}`)
      }
      given.add(flag.name)
      if (flag.type === 'boolean') {
        if (inline !== undefined) return bad(`--${flagName} takes no value`)
        continue
      }
      let value: Word | undefined = inline === undefined ? undefined : {text: inline, dynamic: word.dynamic}
      if (value === undefined) {
        value = rest[i + 1]
        i++
        if (value === undefined) return bad(`--${flagName} needs a value`)
      }
      const problem = checkValue(flag, value)
      if (problem) return bad(problem)
      continue
    }
    if (/^-[A-Za-z]/.test(word.text) && !word.dynamic) {
      const flag = byChar.get(word.text[1])
      if (!flag) return bad(`unknown flag ${word.text.slice(0, 2)}`)
      given.add(flag.name)
      if (flag.type === 'boolean') {
        if (word.text.length > 2) return bad(`${word.text.slice(0, 2)} takes no value`)
        continue
      }
      let value: Word | undefined = word.text.length > 2 ? {text: word.text.slice(2).replace(/^=/, ''), dynamic: false} : rest[i + 1]
      if (word.text.length === 2) i++
      if (value === undefined) return bad(`${word.text} needs a value`)
      const problem = checkValue(flag, value)
      if (problem) return bad(problem)
      continue
    }
    positional.push(word)
  }
  if (help) return {ok: true, id}
  // A dynamic word may expand to several arguments or to none: only count fixed ones against the limit.
  const fixed = positional.filter((w) => !w.dynamic)
  if (command.strict && fixed.length > command.args.length) {
    const extra = positional.slice(command.args.length).map((w) => w.text)
    return bad(`unexpected argument${extra.length > 1 ? 's' : ''} ${extra.join(' ')} (takes ${command.args.length === 0 ? 'none' : command.args.map((a) => a.name.toUpperCase()).join(' ')})`)
  }
  const missingArg = command.args.find((arg, index) => arg.required && positional[index] === undefined)
  if (missingArg) return bad(`missing argument ${missingArg.name.toUpperCase()}`)
  const missingFlag = Object.values(command.flags).find((flag) => flag.required && !given.has(flag.name))
  if (missingFlag) return bad(`missing required flag --${missingFlag.name}`)
  return {ok: true, id}
}

function checkValue(flag: CatalogFlag, value: Word): string | undefined {
  if (value.dynamic || !flag.options) return undefined
  if (flag.options.includes(value.text)) return undefined
  return `--${flag.name} must be one of ${flag.options.join(', ')}, not "${value.text}"`
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator)
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)]
}
