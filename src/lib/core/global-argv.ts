/**
 * The global flags (BaseCommand.baseFlags, and --json) and whether each takes a value; test/unit/core/global-argv
 * keeps the two lists equal. Kept apart from the base command so that bin/run.js can read it without loading oclif.
 */
export const GLOBAL_FLAGS: Readonly<Record<string, 'value' | 'boolean'>> = {
  context: 'value',
  'nats-url': 'value',
  'nats-creds': 'value',
  'nats-context': 'value',
  'prometheus-url': 'value',
  'alertmanager-url': 'value',
  timeout: 'value',
  'no-color': 'boolean',
  verbose: 'boolean',
  json: 'boolean',
}

/**
 * kubectl and natscli take global flags before the command (`cimops --context prod health-check`), but oclif finds the
 * command in the first words. Global flags in front move behind the command's words and arguments (before a `--`),
 * where every command parses them; anything else in front is left for oclif to report.
 */
export function globalFlagsLast(argv: string[]): string[] {
  const moved: string[] = []
  let next = 0
  while (next < argv.length) {
    const match = /^--([^=]+)(=.*)?$/.exec(argv[next])
    const kind = match ? GLOBAL_FLAGS[match[1]] : undefined
    if (kind === undefined) break
    const width = kind === 'value' && match![2] === undefined ? 2 : 1
    if (next + width > argv.length) break
    moved.push(...argv.slice(next, next + width))
    next += width
  }
  if (moved.length === 0) return argv
  const rest = argv.slice(next)
  const end = rest.indexOf('--')
  return end === -1 ? [...rest, ...moved] : [...rest.slice(0, end), ...moved, ...rest.slice(end)]
}
