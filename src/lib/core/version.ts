/** Release versions as servers report them (`v2.10.27`, `0.33.1+ds`): major, minor, patch; the rest ignored. */
export type ServerVersion = readonly [major: number, minor: number, patch: number]

/** `2.9.10`, `v2.10.4`, `2.11.0-beta.2` -> [2, 9, 10]; undefined when unreadable. */
export function parseServerVersion(text: string | undefined): ServerVersion | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text?.trim() ?? '')
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined
}

export function compareVersions(a: ServerVersion, b: ServerVersion): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]
}
