/**
 * Markdown -> Runbook. Headings and fenced code blocks are all the structure a runbook needs: sections
 * come from headings, steps from shell blocks, a step's description from the paragraph right before
 * its block (Runme's rule). Pure: no file system, no YAML loaded until there is front matter.
 */
import {basename, extname} from 'node:path'

import {interpretAttributes, parseAttributes, splitInfoString} from './attributes.js'
import {describeIssues, FrontMatterSchema, splitFrontMatter} from './front-matter.js'
import {type ParsedRunbook, type Runbook, type RunbookProblem, type RunbookSection, type RunbookStep, SHELL_LANGUAGES} from './model.js'

type YamlParse = (text: string) => unknown

export interface ParseOptions {
  /** yaml's `parse`, loaded by the caller once for many files. */
  parseYaml: YamlParse
}

export function parseRunbook(path: string, text: string, {parseYaml}: ParseOptions): ParsedRunbook {
  const problems: RunbookProblem[] = []
  const fileId = basename(path, extname(path))
  const problem = (severity: RunbookProblem['severity'], rule: string, message: string, extra: Partial<RunbookProblem> = {}) =>
    problems.push({severity, rule, message, path, ...extra})

  const {yaml, body, bodyLine} = splitFrontMatter(text)
  if (yaml === undefined) return {problems, notRunbook: true}

  let data: unknown
  try {
    data = parseYaml(yaml) ?? {}
  } catch (error) {
    problem('error', 'front-matter', `bad front matter: ${(error as Error).message.split('\n')[0]}`, {line: 1})
    return {problems}
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    problem('error', 'front-matter', 'bad front matter: expected key: value pairs', {line: 1})
    return {problems}
  }
  const parsed = FrontMatterSchema.safeParse(data)
  if (!parsed.success) {
    for (const message of describeIssues(parsed.error)) problem('error', 'front-matter', message, {line: 1})
    return {problems}
  }
  const front = parsed.data
  const id = front.id ?? fileId
  const scan = scanMarkdown(body, bodyLine)
  const h1 = scan.sections.find((section) => section.level === 1)

  const runbook: Runbook = {
    id,
    title: front.title ?? h1?.title ?? id,
    path,
    ...(front.description ? {description: front.description} : scan.firstParagraph ? {description: scan.firstParagraph} : {}),
    alerts: front.alerts ?? [],
    tags: front.tags ?? [],
    params: (front.params ?? []).map((param) => ({...param})),
    ...(front.severity ? {severity: front.severity} : {}),
    ...(front.owner ? {owner: front.owner} : {}),
    ...(front.shell ? {shell: front.shell} : {}),
    ...(front.cwd ? {cwd: front.cwd} : {}),
    sections: scan.sections,
    steps: [],
    body,
    bodyLine,
    declared: {id: front.id !== undefined, title: front.title !== undefined},
  }

  const seenParams = new Set<string>()
  for (const param of runbook.params) {
    if (seenParams.has(param.name)) problem('error', 'params', `parameter "${param.name}" is declared twice`, {line: 1, runbook: id})
    seenParams.add(param.name)
  }

  const usedNames = new Set<string>()
  for (const block of scan.blocks) {
    const {language, attributesText} = splitInfoString(block.info)
    if (!(SHELL_LANGUAGES as readonly string[]).includes(language)) continue
    const index = runbook.steps.length + 1
    const attrs = parseAttributes(attributesText)
    if (attrs.error) problem('error', 'attribute', attrs.error, {line: block.line, runbook: id})
    const {attributes, issues} = interpretAttributes(attrs.values)
    const script = stripPrompts(block.content)
    const explicit = attrs.values.name?.trim()
    let name: string
    let nameSource: RunbookStep['nameSource']
    if (explicit) {
      name = explicit
      nameSource = 'attribute'
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(explicit)) {
        problem('error', 'step-name', `step name "${explicit}" must be letters, digits, '.', '_' and '-' (it is typed on the command line: --step NAME)`, {line: block.line, runbook: id})
      }
      if (usedNames.has(explicit)) problem('error', 'duplicate-step', `step name "${explicit}" is used twice`, {line: block.line, runbook: id, step: explicit})
    } else {
      name = dedupe(inferName(script, index), usedNames)
      nameSource = 'inferred'
    }
    usedNames.add(name)
    for (const issue of issues) problem(issue.severity, 'attribute', issue.message, {line: block.line, runbook: id, step: name})
    if (script.trim() === '') problem('warning', 'empty-step', `step "${name}" has no commands`, {line: block.line, runbook: id, step: name})
    runbook.steps.push({
      index,
      name,
      nameSource,
      language,
      script,
      description: attrs.values.description?.trim() || block.description,
      ...(block.section ? {section: block.section} : {}),
      line: block.line,
      attributes,
      rawAttributes: attrs.values,
    })
  }
  return {runbook, problems}
}

interface Block {
  info: string
  content: string
  line: number
  description: string
  section?: string
}

interface Scan {
  sections: RunbookSection[]
  blocks: Block[]
  /** The first paragraph of the body, a fallback description. */
  firstParagraph?: string
}

/** Headings, fenced blocks (``` or ~~~, CommonMark rules for opening and closing) and paragraphs. */
export function scanMarkdown(body: string, firstLine = 1): Scan {
  const lines = body.split(/\r?\n/)
  const sections: RunbookSection[] = []
  const blocks: Block[] = []
  let paragraph: string[] = []
  /** The paragraph just finished, until something else than blank lines comes. */
  let previousParagraph = ''
  let firstParagraph: string | undefined
  let section: string | undefined

  const endParagraph = () => {
    if (paragraph.length === 0) return
    const text = paragraph.join(' ').replaceAll(/\s+/g, ' ').trim()
    previousParagraph = text
    firstParagraph ??= text
    paragraph = []
  }

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const fence = /^( {0,3})(`{3,}|~{3,})(.*)$/.exec(line)
    if (fence && !(fence[2][0] === '`' && fence[3].includes('`'))) {
      endParagraph()
      const [, indent, marker, info] = fence
      const content: string[] = []
      let j = i + 1
      const close = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`)
      for (; j < lines.length && !close.test(lines[j]); j++) content.push(stripIndent(lines[j], indent.length))
      blocks.push({info, content: content.join('\n'), line: firstLine + i, description: previousParagraph, ...(section ? {section} : {})})
      previousParagraph = ''
      i = j
      continue
    }
    const heading = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line)
    if (heading) {
      endParagraph()
      previousParagraph = ''
      const title = heading[2].trim()
      sections.push({title, level: heading[1].length, line: firstLine + i})
      if (heading[1].length >= 2) section = title
      continue
    }
    if (line.trim() === '') {
      endParagraph()
      continue
    }
    paragraph.push(line.trim())
  }
  endParagraph()
  return {sections, blocks, ...(firstParagraph ? {firstParagraph} : {})}
}

function stripIndent(line: string, width: number): string {
  let removed = 0
  while (removed < width && line[removed] === ' ') removed++
  return line.slice(removed)
}

/** Leading `$ ` prompts are not part of the command (Runme strips them too). */
function stripPrompts(script: string): string {
  return script
    .split('\n')
    .map((line) => line.replace(/^(\s*)\$ /, '$1'))
    .join('\n')
    .replace(/\s+$/, '')
}

/**
 * Runme's name inference: the first command line (not a comment), the text before `=` if it is an
 * assignment, its first two words, lowercased, non-alphanumerics as dashes, at most 32 characters.
 */
export function inferName(script: string, index: number): string {
  const first = script
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line !== '' && !line.startsWith('#'))
  if (!first) return `step-${index}`
  const head = first.includes('=') && /^[A-Za-z_][A-Za-z0-9_]*=/.test(first) ? first.slice(0, first.indexOf('=')) : first
  const words = head.split(/\s+/).slice(0, 2).join(' ')
  const name = words
    .toLowerCase()
    .replaceAll(/[^a-z0-9]+/g, '-')
    .replaceAll(/^-+|-+$/g, '')
    .slice(0, 32)
    .replace(/-+$/, '')
  return name || `step-${index}`
}

function dedupe(name: string, used: Set<string>): string {
  if (!used.has(name)) return name
  let n = 2
  while (used.has(`${name}-${n}`)) n++
  return `${name}-${n}`
}
