/**
 * Runbook parameters (Rundeck-style options): from `--param NAME=VALUE`, else `CIMOPS_PARAM_<NAME>`
 * in the environment, else the context's value (MONITOR_URL, ...: step-env.ts), else the default, else
 * asked for on a terminal. They reach steps only as
 * environment variables named like the parameter: a value is never spliced into a script.
 */
import {UsageError} from '../core/errors.js'
import {fullMatch} from './front-matter.js'
import type {Runbook, RunbookParam} from './model.js'

export interface ResolvedParam {
  name: string
  value: string
  source: 'flag' | 'env' | 'context' | 'default' | 'prompt' | 'unset'
  secret: boolean
}

/** A secret shorter than this cannot be masked in output without mangling it. */
export const MIN_SECRET_LENGTH = 4

/** `NAME=VALUE` pairs of --param, in order; a repeated name keeps the last value. */
export function parseParamFlags(values: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>()
  for (const item of values) {
    const at = item.indexOf('=')
    if (at <= 0) throw new UsageError(`invalid --param "${item.includes('=') ? item : item.slice(0, 40)}"`, 'expected NAME=VALUE', {hint: 'e.g. --param CONSUMER=workflow-analytics'})
    out.set(item.slice(0, at), item.slice(at + 1))
  }
  return out
}

/** The environment variable that can carry a parameter's value. */
export function paramEnvName(name: string): string {
  return `CIMOPS_PARAM_${name.toUpperCase()}`
}

export interface ResolveOptions {
  given: Map<string, string>
  env?: Record<string, string | undefined>
  /** Values the context supplies for parameters of these names, over their defaults. */
  context?: Record<string, string>
  /** Asks for a missing required value (a terminal); undefined leaves it missing. */
  ask?: (param: RunbookParam) => Promise<string | undefined>
}

export async function resolveParams(runbook: Runbook, {given, env = process.env, context = {}, ask}: ResolveOptions): Promise<ResolvedParam[]> {
  const declared = new Map(runbook.params.map((param) => [param.name, param]))
  const byName = new Map<string, string>()
  for (const [name, value] of given) {
    const param = declared.get(name) ?? runbook.params.find((p) => p.name.toLowerCase() === name.toLowerCase())
    if (!param) {
      const known = runbook.params.map((p) => p.name)
      throw new UsageError(`runbook ${runbook.id} has no parameter "${name}"`, known.length === 0 ? 'it takes none' : `its parameters are ${known.join(', ')}`, {
        hint: `\`cimops runbook show ${runbook.id}\` describes them`,
      })
    }
    byName.set(param.name, value)
  }
  const resolved: ResolvedParam[] = []
  const missing: RunbookParam[] = []
  for (const param of runbook.params) {
    let value: string | undefined
    let source: ResolvedParam['source'] = 'unset'
    if (byName.has(param.name)) [value, source] = [byName.get(param.name), 'flag']
    else if (env[paramEnvName(param.name)] !== undefined) [value, source] = [env[paramEnvName(param.name)], 'env']
    else if (context[param.name] !== undefined) [value, source] = [context[param.name], 'context']
    else if (param.default !== undefined) [value, source] = [param.default, 'default']
    if ((value === undefined || value === '') && param.required && ask) {
      const answer = await ask(param)
      if (answer !== undefined && answer !== '') [value, source] = [answer, 'prompt']
    }
    if ((value === undefined || value === '') && param.required) {
      missing.push(param)
      continue
    }
    resolved.push({name: param.name, value: value ?? '', source, secret: param.secret})
  }
  if (missing.length > 0) {
    const first = missing[0]
    const how = first.secret ? `set ${paramEnvName(first.name)} in the environment (a secret on the command line lands in shell history)` : `pass --param ${first.name}=VALUE`
    throw new UsageError(
      `runbook ${runbook.id} needs ${missing.map((p) => p.name).join(', ')}`,
      missing.map((p) => `${p.name}: ${p.description ?? 'no description'}`).join('; '),
      {hint: how},
    )
  }
  for (const param of resolved) {
    const spec = declared.get(param.name)!
    if (spec.pattern && param.value !== '' && !fullMatch(spec.pattern, param.value)) {
      const shown = param.secret ? 'the value given' : `"${param.value}"`
      throw new UsageError(`invalid value for parameter ${param.name}`, `${shown} does not match ${spec.pattern}`, {hint: spec.description})
    }
    if (param.secret && param.value !== '' && param.value.length < MIN_SECRET_LENGTH) {
      throw new UsageError(`invalid value for parameter ${param.name}`, `a secret must be at least ${MIN_SECRET_LENGTH} characters long to be masked in output`)
    }
  }
  return resolved
}

/** name -> value, secrets masked: what may be shown and recorded. */
export function visibleParams(params: readonly ResolvedParam[]): Record<string, string> {
  return Object.fromEntries(params.map((param) => [param.name, param.secret && param.value !== '' ? '***' : param.value]))
}

/** Replaces every secret value in a text by ***: secret parameters and `others` (the context's own password or token). */
export function secretMasker(params: readonly ResolvedParam[], others: ReadonlyArray<string | undefined> = []): (text: string) => string {
  const values = [...params.filter((param) => param.secret).map((param) => param.value), ...others]
  const secrets = values.filter((value): value is string => value !== undefined && value.length >= MIN_SECRET_LENGTH)
  if (secrets.length === 0) return (text) => text
  secrets.sort((a, b) => b.length - a.length)
  return (text) => secrets.reduce((out, secret) => out.split(secret).join('***'), text)
}
