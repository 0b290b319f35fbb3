/** CIM event subjects: `cim.<domain>.<aggregateType>.<aggregateId>.<eventType>`. Pure, no I/O. */
export interface CimSubject {
  domain: string
  aggregateType: string
  aggregateId: string
  eventType: string
}

export function parseCimSubject(subject: string): CimSubject | undefined {
  const parts = subject.split('.')
  if (parts.length !== 5 || parts[0] !== 'cim' || parts.some((part) => part.length === 0)) return undefined
  const [, domain, aggregateType, aggregateId, eventType] = parts
  return {domain, aggregateType, aggregateId, eventType}
}

/** A projection is a durable consumer on the events stream named `<domain>-<projection>`. */
export function parseProjectionName(name: string): {domain: string; projection: string} | undefined {
  const dash = name.indexOf('-')
  if (dash <= 0 || dash === name.length - 1) return undefined
  return {domain: name.slice(0, dash), projection: name.slice(dash + 1)}
}

/** `host:port`, `[v6]:port` or `:port` (then 127.0.0.1). */
export function parseListen(text: string): {host: string; port: number} | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim())
  if (!match) return undefined
  const port = Number(match[3])
  if (port > 65_535) return undefined
  return {host: match[1] ?? (match[2] || '127.0.0.1'), port}
}
