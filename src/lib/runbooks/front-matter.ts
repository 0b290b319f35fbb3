/**
 * Runbook front matter: YAML between `---` lines at the top of the file, validated with zod.
 * Lenient where Runme is (a string where a list is expected, id and title optional), strict about
 * what could make a run go wrong (unknown keys, bad parameter names, patterns that do not compile).
 */
import * as z from 'zod'

import {RESERVED_PARAM_NAMES, SHELLS} from './model.js'

/** `---` … `---` (or `...`) at the very start. */
export const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n?(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/

const stringList = (what: string) =>
  z
    .union([z.string(), z.array(z.string())], {error: `front matter "${what}" must be a list of ${what === 'alerts' ? 'alert names' : 'strings'}`})
    .transform((value) => (typeof value === 'string' ? [value] : value))

const compiles = (pattern: string) => {
  try {
    new RegExp(pattern, 'u')
    return true
  } catch {
    return false
  }
}

export const ParamSchema = z
  .strictObject({
    name: z
      .string({error: 'a parameter needs a name'})
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {error: 'a parameter name must be an environment variable name: letters, digits and _, not starting with a digit'})
      .refine((name) => !RESERVED_PARAM_NAMES.test(name.toUpperCase()), {
        error: (issue) => `parameter name "${String(issue.input)}" is reserved: steps and the programs they run (cimops, nats, the shell) read it from the environment`,
      }),
    description: z.string().optional(),
    default: z
      .union([z.string(), z.number(), z.boolean()], {error: 'a default must be a string, number or boolean'})
      .transform(String)
      .optional(),
    required: z.boolean({error: '"required" must be true or false'}).default(false),
    pattern: z.string().refine(compiles, {error: 'the pattern is not a valid regular expression'}).optional(),
    secret: z.boolean({error: '"secret" must be true or false'}).default(false),
  })
  .refine((param) => !(param.secret && param.default !== undefined), {
    error: 'a secret parameter cannot have a default: the file is not a secret store',
    path: ['default'],
  })
  .refine((param) => param.default === undefined || param.pattern === undefined || fullMatch(param.pattern, param.default), {
    error: 'the default does not match the pattern',
    path: ['default'],
  })

export const FrontMatterSchema = z.strictObject({
  id: z
    .string({error: '"id" must be a string'})
    .regex(/^[a-z0-9][a-z0-9-]*$/, {error: '"id" must be lowercase letters, digits and dashes, e.g. high-event-lag'})
    .optional(),
  title: z.string({error: '"title" must be a string'}).min(1).optional(),
  description: z.string().optional(),
  alerts: stringList('alerts').optional(),
  tags: stringList('tags').optional(),
  params: z.array(ParamSchema, {error: 'front matter "params" must be a list of {name, description, default, required, pattern, secret}'}).optional(),
  severity: z.string().optional(),
  owner: z.string().optional(),
  /** Runme document options. */
  shell: z.enum(SHELLS, {error: `"shell" must be one of ${SHELLS.join(', ')}`}).optional(),
  cwd: z.string().optional(),
  skipPrompts: z.boolean().optional(),
  runme: z.record(z.string(), z.unknown()).optional(),
})

export type FrontMatter = z.infer<typeof FrontMatterSchema>

/** Does the whole value match the pattern (anchored like Rundeck's option regex)? */
export function fullMatch(pattern: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u').test(value)
  } catch {
    return false
  }
}

export interface FrontMatterSplit {
  /** The YAML text, or undefined when the file has none. */
  yaml?: string
  body: string
  /** 1-based line where the body starts. */
  bodyLine: number
}

export function splitFrontMatter(text: string): FrontMatterSplit {
  const source = text.replace(/^\uFEFF/, '')
  const match = FRONT_MATTER.exec(source)
  if (!match) return {body: source, bodyLine: 1}
  const consumed = match[0]
  const bodyLine = consumed.split('\n').length - (consumed.endsWith('\n') ? 0 : 1)
  return {yaml: match[1], body: source.slice(consumed.length), bodyLine: consumed.endsWith('\n') ? bodyLine : bodyLine + 1}
}

/** One line per zod issue: `params.0.name: a parameter name must be …`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = issue.path.length > 0 && !issue.message.startsWith('front matter') ? `${issue.path.join('.')}: ` : ''
    if (issue.code === 'unrecognized_keys') {
      const what = issue.path[0] === 'params' ? 'parameter key' : 'front matter key'
      return `${where}unknown ${what}${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`
    }
    return `${where}${issue.message}`
  })
}
