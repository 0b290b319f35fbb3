import {Box, Static, Text} from 'ink'

/** One line printed once and kept above the live footer: a step header, an output line, a result. */
export interface RunLine {
  id: number
  text: string
  kind: 'header' | 'stdout' | 'stderr' | 'ok' | 'warn' | 'fail' | 'note'
}

export interface RunbookRunViewProps {
  lines: RunLine[]
  /** The live line under the output while a step runs: spinner, step, elapsed time. */
  footer?: string
}

const COLOR: Partial<Record<RunLine['kind'], string>> = {ok: 'green', warn: 'yellow', fail: 'red'}

/**
 * Live view of `runbook run` on a terminal: everything a step prints scrolls by above (ink's Static,
 * written once, never redrawn), and a one-line footer shows which step runs and for how long.
 */
export function RunbookRunView({lines, footer}: RunbookRunViewProps) {
  return (
    <Box flexDirection="column">
      <Static items={lines}>
        {(line) =>
          line.kind === 'stdout' || line.kind === 'stderr' ? (
            <Text key={line.id}>
              <Text dimColor>│ </Text>
              {line.text}
            </Text>
          ) : (
            <Text key={line.id} color={COLOR[line.kind]} dimColor={line.kind === 'note'} bold={line.kind === 'header' && line.text.startsWith('▶')}>
              {line.text}
            </Text>
          )
        }
      </Static>
      {footer ? <Text color="cyan">{footer}</Text> : null}
    </Box>
  )
}
