import {Box, Text} from 'ink'

/** Live frame of `health-check --watch`: a header line and the rendered report (already coloured). */
export function HealthWatchView({report, header}: {report?: string; header: string}) {
  return (
    <Box flexDirection="column">
      <Text dimColor>{header}</Text>
      <Text>{report ?? 'checking…'}</Text>
    </Box>
  )
}
