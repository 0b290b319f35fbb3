/**
 * Secrets never reach output, errors, JSON or audit events (DESIGN.md "Safety").
 * Two layers: values registered at runtime (the password or token of the resolved context)
 * are replaced wherever they appear, and well-known secret shapes are masked by pattern.
 */

export const MASK = '***'

const SECRET_KEY = /^(pass(word)?|token|secret|seed|nkey|auth(orization)?|bearer(_?token)?|api[-_]?key|routing[-_]?key|webhook(_?url)?|private[-_]?key|jwt|credentials?_?data)$/i

const PATTERNS: Array<[RegExp, string | ((match: string, ...groups: string[]) => string)]> = [
  // user:password@ in any URL; a bare nats://token@host is a token, mask it too
  [/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+):([^\s/@]+)@/gi, (_m, scheme: string, user: string) => `${scheme}${user}:${MASK}@`],
  [/\b((?:nats|tls|ws|wss):\/\/)([^\s/@:]+)@/gi, (_m, scheme: string) => `${scheme}${MASK}@`],
  // NKey seeds (S + key type + base32) and NATS/JWT tokens
  [/\bS[ONACU][A-Z2-7]{56}\b/g, MASK],
  [/\beyJ[\w-]+\.[\w-]+\.[\w-]+/g, MASK],
  [/-----BEGIN [A-Z ]*(JWT|NKEY SEED|PRIVATE KEY)-----[\s\S]*?-----END [A-Z ]*-----/g, MASK],
  [/\b(Bearer|Basic)\s+[\w.~+/=-]+/g, (_m, kind: string) => `${kind} ${MASK}`],
  // secrets in query strings or key=value text
  [/((?:^|[?&;\s])(?:token|password|pass|secret|api[-_]?key|key|routing_key|auth)=)[^\s&;]+/gi, (_m, prefix: string) => `${prefix}${MASK}`],
  // chat webhooks carry their key in the path
  [/(https:\/\/hooks\.slack\.com\/services\/)[^\s"']+/g, (_m, prefix: string) => `${prefix}${MASK}`],
]

const registered = new Set<string>()

/** Remember a secret value so it is masked wherever it shows up later. Short values are ignored to avoid masking common words. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) registered.add(value)
}

export function clearRegisteredSecrets(): void {
  registered.clear()
}

export function redactString(text: string): string {
  let out = text
  for (const secret of registered) out = out.split(secret).join(MASK)
  for (const [pattern, replacement] of PATTERNS) {
    out = out.replace(pattern, replacement as string)
  }
  return out
}

/** Deep copy with secret-named keys masked and every string passed through redactString. */
export function redact<T>(value: T): T {
  return redactValue(value, new Set()) as T
}

function redactValue(value: unknown, seen: Set<object>): unknown {
  if (typeof value === 'string') return redactString(value)
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Date) return value
  // Only the ancestors count: an object shared by two branches is copied twice, not taken for a cycle.
  if (seen.has(value)) return '[circular]'
  seen.add(value)
  try {
    if (Array.isArray(value)) return value.map((item) => redactValue(item, seen))
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) && item !== undefined && item !== null && item !== '' ? MASK : redactValue(item, seen)
    }
    return out
  } finally {
    seen.delete(value)
  }
}
