/**
 * The examples a user copies: from README.md (fenced blocks: `$ cimops ...` lines, or every command line of
 * a block without prompts; inline `cimops ...` spans) and from every command's `--help` (oclif.manifest.json).
 */

export interface Example {
  /** The shell text as documented, `cimops` being the CLI on PATH. */
  command: string
  /** Where it is documented: `README.md:123`, `cimops replay --help`. */
  sources: string[]
  /** The exit code its documented output shows (`# exit 64` under it), when it shows one. */
  expectedExit?: number
}

const INVOKES_CIMOPS = /(^|[\s;&|(=])cimops\s/
/** Inline spans that are synopses, not commands: alternatives, `...`, `[optional]`, a placeholder word. */
const SYNOPSIS = /\s\|\s|\.\.\.|\[|\b(NAME|ID|DIR|FILE|PATH|MATCHER|DURATION)\b/

export function readmeExamples(markdown: string): Example[] {
  const lines = markdown.split('\n')
  const examples: Example[] = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('```')) {
      const start = i + 1
      let end = start
      while (end < lines.length && !lines[end].startsWith('```')) end++
      examples.push(...blockExamples(lines.slice(start, end), start + 1))
      i = end
    } else if (!lines[i].startsWith('#')) {
      for (const match of lines[i].matchAll(/`(cimops [^`]+)`/g)) {
        if (!SYNOPSIS.test(match[1])) examples.push({command: match[1], sources: [`README.md:${i + 1}`]})
      }
    }
  }
  return examples
}

/** A fenced block: its `$ ` lines when it has prompts (the rest is output), else every command line. */
function blockExamples(block: string[], firstLine: number): Example[] {
  const prompted = block.some((line) => line.startsWith('$ '))
  const examples: Example[] = []
  for (let i = 0; i < block.length; i++) {
    if (prompted && !block[i].startsWith('$ ')) continue
    const at = i
    let text = prompted ? block[i].slice(2) : block[i]
    while (text.endsWith('\\') && i + 1 < block.length) text = `${text.slice(0, -1).trimEnd()} ${block[++i].trim()}`
    text = text.replace(/\s+#\s.*$/, '').trim()
    if (!INVOKES_CIMOPS.test(text) || text.startsWith('#')) continue
    const example: Example = {command: text, sources: [`README.md:${firstLine + at}`]}
    if (prompted) {
      let next = i + 1
      while (next < block.length && !block[next].startsWith('$ ')) {
        const exit = /^# exit (\d+)$/.exec(block[next])
        if (exit) example.expectedExit = Number(exit[1])
        next++
      }
    }
    examples.push(example)
  }
  return examples
}

interface Manifest {
  commands: Record<string, {examples?: Array<string | {command: string}>}>
}

export function helpExamples(manifest: Manifest): Example[] {
  return Object.entries(manifest.commands).flatMap(([id, command]) =>
    (command.examples ?? [])
      .map((example) => (typeof example === 'string' ? example : example.command).replaceAll('<%= config.bin %>', 'cimops'))
      .map((text) => text.replace(/\s+#\s.*$/, '').trim())
      .filter((text) => INVOKES_CIMOPS.test(text))
      .map((text) => ({command: text, sources: [`cimops ${id.replaceAll(':', ' ')} --help`]})),
  )
}

/** One entry per distinct command, with every place that documents it. */
export function distinctExamples(examples: Example[]): Example[] {
  const byCommand = new Map<string, Example>()
  for (const example of examples) {
    const seen = byCommand.get(example.command)
    if (seen) {
      seen.sources.push(...example.sources)
      seen.expectedExit ??= example.expectedExit
    } else byCommand.set(example.command, {...example, sources: [...example.sources]})
  }
  return [...byCommand.values()]
}
