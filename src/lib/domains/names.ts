/**
 * What a CIM domain is, by name: one subject token, seen in the events stream's subjects `cim.<domain>.>`
 * and in its projections, durable consumers named `<domain>-<projection>`. Pure, no I/O.
 */
import type {ConsumerBrief} from '../adapters/nats/consumer-control.js'

export type {ConsumerBrief} from '../adapters/nats/consumer-control.js'

const DOMAIN = /^[A-Za-z0-9_-]+$/

export function isValidDomain(domain: string): boolean {
  return DOMAIN.test(domain)
}

/** The subject filter of every event of the domain. */
export function domainFilter(domain: string): string {
  return `cim.${domain}.>`
}

/**
 * The domain's projections: durable consumers named `<domain>-<projection>` (CIM convention), or whose
 * filter subjects all lie under `cim.<domain>.`. Without a domain, every durable consumer.
 */
export function domainConsumers<T extends Pick<ConsumerBrief, 'name' | 'durable' | 'filterSubjects'>>(consumers: readonly T[], domain: string | null): T[] {
  return consumers
    .filter((c) => c.durable)
    .filter((c) => {
      if (domain === null) return true
      if (c.name.startsWith(`${domain}-`)) return true
      return c.filterSubjects.length > 0 && c.filterSubjects.every((s) => s === `cim.${domain}.>` || s.startsWith(`cim.${domain}.`))
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** `cim.<domain>.…` -> domain; undefined for other subjects and the ops log's `cim.ops.…`. */
export function domainOf(subject: string): string | undefined {
  const parts = subject.split('.')
  return parts[0] === 'cim' && parts.length > 2 && parts[1] !== 'ops' ? parts[1] : undefined
}
