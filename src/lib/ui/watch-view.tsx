import {Box, Text} from 'ink'

/**
 * Live frame of a `--watch` report: a dim header line, the rendered report (already coloured), and
 * when the last refresh failed, that error under the previous report, which stays on screen.
 */
export function WatchView({header, body, error}: {header: string; body?: string; error?: string}) {
  return (
    <Box flexDirection="column">
      <Text dimColor>{header}</Text>
      <Text>{body ?? 'reading…'}</Text>
      {error ? <Text color="red">{`refresh failed: ${error}`}</Text> : null}
    </Box>
  )
}
