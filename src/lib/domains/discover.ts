/**
 * Which domains exist on the events stream: subjects `cim.<domain>.>` holding messages (per-subject info,
 * when the stream has few enough subjects to list), the stream's own configured subjects, and its durable
 * consumers `<domain>-<projection>`. Used by `domain health` and by `emergency stop|resume` to refuse a typo.
 */
import type {StreamSummary} from '../adapters/nats/jetstream.js'
import {type ConsumerBrief, domainOf, isValidDomain} from './names.js'

/** Per-subject info of every subject is read only for streams with at most this many (a subject per aggregate adds up). */
export const MAX_SUBJECTS_LISTED = 10_000

/** Domains in the stream's subjects and stored subjects (when not too many to list), and in its consumers' names; sorted. */
export async function knownDomains(
  summary: Pick<StreamSummary, 'subjects' | 'subjectCount'>,
  consumers: ReadonlyArray<Pick<ConsumerBrief, 'name' | 'durable'>>,
  subjectsMatching: (filter: string) => Promise<{subjects: Record<string, number>} | undefined>,
): Promise<string[]> {
  const domains = new Set<string>()
  const add = (subject: string) => {
    const domain = domainOf(subject)
    if (domain !== undefined && isValidDomain(domain)) domains.add(domain)
  }
  summary.subjects.forEach(add)
  if ((summary.subjectCount ?? 0) <= MAX_SUBJECTS_LISTED) Object.keys((await subjectsMatching('cim.*.>'))?.subjects ?? {}).forEach(add)
  for (const consumer of consumers) {
    const dash = consumer.name.indexOf('-')
    if (consumer.durable && dash > 0) domains.add(consumer.name.slice(0, dash))
  }
  return [...domains].sort()
}
