/**
 * Grafana assets as files, checked without a Grafana: provisioning YAML (datasources, dashboard
 * providers) and dashboard JSON (uid, title, panels with targets, datasource references, template
 * variables), and every PromQL query a dashboard holds, with Grafana's variables substituted.
 */
import {substituteGrafanaVariables} from './promql.js'

export interface DashboardQuery {
  /** `panel "Event rate by domain" (id 2), target A`, `variable domain`, `annotation Firing alerts`. */
  where: string
  /** As written in the dashboard. */
  expr: string
  /** With Grafana's variables replaced, as Prometheus would parse it. */
  prepared: string
}

export interface DashboardFile {
  uid?: string
  title?: string
  panels: number
  /** Structural problems: the dashboard would not load, or a panel would stay empty. */
  problems: string[]
  queries: DashboardQuery[]
}

export interface ProvisionedDatasource {
  name: string
  uid?: string
  type: string
}

export interface ProvisioningFile {
  problems: string[]
  datasources: ProvisionedDatasource[]
  /** Dashboard providers: their names and the paths they read. */
  providers: Array<{name: string; path?: string}>
}

/** Panels that show no query results, so need no targets. */
const NO_QUERY_PANELS = new Set(['row', 'text', 'news', 'dashlist', 'alertlist', 'annolist', 'welcome'])
/** Datasource uids Grafana itself provides. */
const BUILTIN_DATASOURCES = new Set(['-- Grafana --', 'grafana', '-- Mixed --', '-- Dashboard --'])
/** Variables Grafana defines on every dashboard. */
const BUILTIN_VARIABLE = /^__/
const UID = /^[a-zA-Z0-9_-]{1,40}$/
const VARIABLE_REF = /\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]/g

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.trim() !== ''

/** `$x` / `${x}` / `${x:fmt}` / `[[x]]` -> `x`; undefined for anything else. */
function variableName(text: string): string | undefined {
  const match = /^(?:\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\])$/.exec(text)
  return match ? (match[1] ?? match[2] ?? match[3]) : undefined
}

function variablesIn(expr: string): string[] {
  return [...expr.matchAll(VARIABLE_REF)].map((m) => m[1] ?? m[2] ?? m[3])
}

/**
 * One provisioning file (grafana/provisioning/datasources/*.yml or dashboards/*.yml): Grafana reads
 * `apiVersion: 1` with a `datasources` or `providers` list.
 */
export function readProvisioning(text: string, parseYaml: (text: string) => unknown): ProvisioningFile {
  const result: ProvisioningFile = {problems: [], datasources: [], providers: []}
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (error) {
    result.problems.push(`not valid YAML: ${(error as Error).message.split('\n')[0]}`)
    return result
  }
  if (!isObject(doc)) {
    result.problems.push('expected a mapping with apiVersion and datasources or providers')
    return result
  }
  if (doc.apiVersion !== 1) result.problems.push(`apiVersion is ${JSON.stringify(doc.apiVersion)}, Grafana expects 1`)
  if (doc.datasources === undefined && doc.providers === undefined && doc.deleteDatasources === undefined) {
    result.problems.push('has neither datasources nor providers')
  }
  if (doc.datasources !== undefined) {
    if (!Array.isArray(doc.datasources)) result.problems.push('datasources is not a list')
    for (const [i, ds] of (Array.isArray(doc.datasources) ? doc.datasources : []).entries()) {
      if (!isObject(ds) || !nonEmptyString(ds.name) || !nonEmptyString(ds.type)) {
        result.problems.push(`datasources[${i}] needs a name and a type`)
        continue
      }
      if (ds.uid !== undefined && !(typeof ds.uid === 'string' && UID.test(ds.uid))) result.problems.push(`datasource ${ds.name}: uid ${JSON.stringify(ds.uid)} is not 1-40 letters, digits, - or _`)
      if (ds.type === 'prometheus' && !nonEmptyString(ds.url)) result.problems.push(`datasource ${ds.name}: no url`)
      result.datasources.push({name: ds.name, type: ds.type, ...(typeof ds.uid === 'string' ? {uid: ds.uid} : {})})
    }
  }
  if (doc.providers !== undefined) {
    if (!Array.isArray(doc.providers)) result.problems.push('providers is not a list')
    for (const [i, provider] of (Array.isArray(doc.providers) ? doc.providers : []).entries()) {
      if (!isObject(provider) || !nonEmptyString(provider.name)) {
        result.problems.push(`providers[${i}] needs a name`)
        continue
      }
      const type = provider.type ?? 'file'
      const path = isObject(provider.options) ? provider.options.path : undefined
      if (type === 'file' && !nonEmptyString(path)) result.problems.push(`provider ${provider.name}: a file provider needs options.path (the directory of the dashboard JSON files)`)
      result.providers.push({name: provider.name, ...(typeof path === 'string' ? {path} : {})})
    }
  }
  return result
}

export interface DashboardContext {
  /** Datasources the provisioning files define; literal datasource uids must be one of them (when any are known). */
  datasources: ProvisionedDatasource[]
}

/** One dashboard JSON file: what would keep it from loading, or leave a panel empty, and its queries. */
export function readDashboard(text: string, context: DashboardContext): DashboardFile {
  const result: DashboardFile = {panels: 0, problems: [], queries: []}
  const problem = (message: string) => result.problems.push(message)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    problem(`not valid JSON: ${(error as Error).message}`)
    return result
  }
  if (!isObject(doc)) {
    problem('expected a JSON object (a dashboard model)')
    return result
  }
  // An export wrapped for the HTTP API ({dashboard: {...}, overwrite}) is not what file provisioning reads.
  if (isObject(doc.dashboard) && doc.panels === undefined) problem('this is an API payload ({"dashboard": …}); provisioning reads the dashboard model itself')
  if (nonEmptyString(doc.uid)) {
    result.uid = doc.uid
    if (!UID.test(doc.uid)) problem(`uid "${doc.uid}" is not 1-40 letters, digits, - or _`)
  } else {
    problem('no uid (links like /d/<uid> and provisioning updates need a fixed one)')
  }
  if (nonEmptyString(doc.title)) result.title = doc.title
  else problem('no title')
  if (typeof doc.schemaVersion !== 'number') problem('no schemaVersion')

  // Template variables, and datasource variables among them (`${datasource}` in panels).
  const variables = new Set<string>()
  const datasourceVariables = new Set<string>()
  const templating = isObject(doc.templating) && Array.isArray(doc.templating.list) ? doc.templating.list : []
  if (doc.templating !== undefined && !(isObject(doc.templating) && Array.isArray(doc.templating.list))) problem('templating.list is not a list')
  for (const input of Array.isArray(doc.__inputs) ? doc.__inputs : []) {
    if (isObject(input) && nonEmptyString(input.name) && input.type === 'datasource') datasourceVariables.add(input.name)
  }
  for (const [i, variable] of templating.entries()) {
    if (!isObject(variable) || !nonEmptyString(variable.name)) {
      problem(`templating.list[${i}] has no name`)
      continue
    }
    if (variables.has(variable.name)) problem(`variable ${variable.name} is defined twice`)
    variables.add(variable.name)
    if (variable.type === 'datasource') datasourceVariables.add(variable.name)
  }

  const checkDatasource = (ref: unknown, where: string) => {
    if (ref === undefined || ref === null) return
    const uid = isObject(ref) ? ref.uid : ref
    if (typeof uid !== 'string' || uid === '') {
      problem(`${where}: datasource ${JSON.stringify(ref)} names no uid`)
      return
    }
    const name = variableName(uid)
    if (name !== undefined) {
      if (!datasourceVariables.has(name)) problem(`${where}: datasource ${uid} is not a datasource variable of this dashboard`)
      return
    }
    if (BUILTIN_DATASOURCES.has(uid) || context.datasources.length === 0) return
    if (!context.datasources.some((ds) => ds.uid === uid || ds.name === uid)) {
      problem(`${where}: datasource "${uid}" is not provisioned (${context.datasources.map((ds) => ds.uid ?? ds.name).join(', ')})`)
    }
  }

  const addQuery = (where: string, expr: string) => {
    for (const name of variablesIn(expr)) {
      if (!BUILTIN_VARIABLE.test(name) && !variables.has(name)) problem(`${where}: uses $${name}, which is not a variable of this dashboard`)
    }
    result.queries.push({where, expr, prepared: substituteGrafanaVariables(expr)})
  }

  for (const variable of templating) {
    if (!isObject(variable) || !nonEmptyString(variable.name)) continue
    checkDatasource(variable.datasource, `variable ${variable.name}`)
    if (variable.type !== 'query') continue
    const query = isObject(variable.query) ? variable.query.query : variable.query
    if (!nonEmptyString(query)) {
      problem(`variable ${variable.name}: no query`)
      continue
    }
    const expr = variableQueryExpr(query)
    if (expr !== undefined) addQuery(`variable ${variable.name}`, expr)
  }

  const annotations = isObject(doc.annotations) && Array.isArray(doc.annotations.list) ? doc.annotations.list : []
  for (const annotation of annotations) {
    if (!isObject(annotation)) continue
    const where = `annotation ${nonEmptyString(annotation.name) ? annotation.name : '?'}`
    checkDatasource(annotation.datasource, where)
    const expr = annotation.expr ?? (isObject(annotation.target) ? annotation.target.expr : undefined)
    if (nonEmptyString(expr)) addQuery(where, expr)
  }

  if (!Array.isArray(doc.panels) || doc.panels.length === 0) {
    problem('no panels')
    return result
  }
  const ids = new Set<number>()
  const visit = (panel: unknown, index: string) => {
    if (!isObject(panel)) {
      problem(`panels[${index}] is not an object`)
      return
    }
    result.panels++
    const label = `panel ${nonEmptyString(panel.title) ? `"${panel.title}"` : `[${index}]`}${typeof panel.id === 'number' ? ` (id ${panel.id})` : ''}`
    if (typeof panel.id !== 'number') problem(`${label}: no numeric id`)
    else if (ids.has(panel.id)) problem(`${label}: id ${panel.id} is used by another panel`)
    else ids.add(panel.id)
    if (!nonEmptyString(panel.type)) problem(`${label}: no type`)
    const grid = panel.gridPos
    if (!isObject(grid) || !['h', 'w', 'x', 'y'].every((k) => typeof grid[k] === 'number')) problem(`${label}: no gridPos {h, w, x, y}`)
    else if ((grid.x as number) + (grid.w as number) > 24) problem(`${label}: gridPos x + w is more than 24 columns`)
    checkDatasource(panel.datasource, label)
    if (panel.type === 'row') {
      for (const [i, nested] of (Array.isArray(panel.panels) ? panel.panels : []).entries()) visit(nested, `${index}.${i}`)
      return
    }
    if (NO_QUERY_PANELS.has(String(panel.type))) return
    if (!nonEmptyString(panel.title)) problem(`${label}: no title`)
    const targets = Array.isArray(panel.targets) ? panel.targets : []
    if (targets.length === 0) {
      problem(`${label}: no targets, the panel would stay empty`)
      return
    }
    const refIds = new Set<string>()
    for (const [i, target] of targets.entries()) {
      if (!isObject(target)) {
        problem(`${label}: targets[${i}] is not an object`)
        continue
      }
      const refId = nonEmptyString(target.refId) ? target.refId : undefined
      const where = `${label}, target ${refId ?? i}`
      if (!refId) problem(`${where}: no refId`)
      else if (refIds.has(refId)) problem(`${where}: refId ${refId} is used twice`)
      else refIds.add(refId)
      checkDatasource(target.datasource, where)
      const type = isObject(target.datasource) ? target.datasource.type : isObject(panel.datasource) ? panel.datasource.type : undefined
      if (type !== undefined && type !== 'prometheus') continue
      if (!nonEmptyString(target.expr)) problem(`${where}: no expr`)
      else addQuery(where, target.expr)
    }
  }
  for (const [i, panel] of doc.panels.entries()) visit(panel, String(i))
  return result
}

/**
 * The PromQL inside a Prometheus variable query: `label_values(selector, label)` -> the selector,
 * `query_result(expr)` -> expr; `label_values(label)`, `label_names()`, `metrics(regex)` hold none.
 */
export function variableQueryExpr(query: string): string | undefined {
  const text = query.trim()
  const call = /^(label_values|query_result)\s*\(([\s\S]*)\)$/.exec(text)
  if (!call) return /^(label_names|metrics)\s*\(/.test(text) ? undefined : text
  const body = call[2].trim()
  if (call[1] === 'query_result') return body
  const comma = body.lastIndexOf(',')
  return comma < 0 ? undefined : body.slice(0, comma).trim()
}
