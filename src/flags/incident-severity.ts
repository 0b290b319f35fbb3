import {Flags} from '@oclif/core'

import {UsageError} from '../lib/core/errors.js'
import {ALERT_SEVERITY_ALIASES, SEVERITIES, type Severity} from '../lib/incident/model.js'

export interface SeverityChoice {
  severity: Severity
  /** The Alertmanager word given, when it was one: the command says how it mapped. */
  alias?: keyof typeof ALERT_SEVERITY_ALIASES
}

const MAPPING = Object.entries(ALERT_SEVERITY_ALIASES)
  .map(([alias, severity]) => `${alias} = ${severity}`)
  .join(', ')

/** What --severity takes, for its summary. */
export const SEVERITY_CHOICES = `critical, major or minor; Alertmanager's words are read as the same rank (${MAPPING})`

/** --severity of `incident declare` and `incident note`: critical, major, minor, or Alertmanager's warning and info. */
export const severityFlag = Flags.custom<SeverityChoice>({
  helpValue: 'critical|major|minor',
  parse: async (text) => parseSeverity(text),
})

export function parseSeverity(text: string): SeverityChoice {
  const word = text.trim().toLowerCase()
  if ((SEVERITIES as readonly string[]).includes(word)) return {severity: word as Severity}
  if (word in ALERT_SEVERITY_ALIASES) {
    const alias = word as keyof typeof ALERT_SEVERITY_ALIASES
    return {severity: ALERT_SEVERITY_ALIASES[alias], alias}
  }
  throw new UsageError(`invalid --severity "${text}"`, `expected one of ${SEVERITIES.join(', ')}, or Alertmanager's ${Object.keys(ALERT_SEVERITY_ALIASES).join(', ')} (${MAPPING})`)
}

/** The line that says how an Alertmanager word was read. */
export function severityAliasNote(choice: SeverityChoice | undefined): string | undefined {
  return choice?.alias ? `cimops: note: --severity ${choice.alias} (Alertmanager's word) is the incident severity ${choice.severity}` : undefined
}
