/**
 * Addresses that are safe to show: errors, JSON and audit events must never carry the
 * `user:password@` part of a URL (DESIGN.md "Safety").
 */
export function stripUserinfo(address: string): string {
  // Not parsed with URL: NATS accepts bare `host:port` and `user:pass@host:port`, which URL rejects or misreads.
  // Greedy up to the last `@` of the authority, so a password containing `@` goes too.
  return address.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/?#]*@/i, '$1')
}

/** Several server URLs as one address, e.g. `nats://n1:4222,nats://n2:4222`. */
export function joinAddresses(addresses: readonly string[]): string {
  return addresses.map(stripUserinfo).join(',')
}
