/**
 * Label names outside the classic charset (`service.name`, `föö`) exist only on Alertmanager 0.27+ and
 * Prometheus 3; older servers refuse a matcher on one with a bare "bad matcher format" or a PromQL
 * parse error. When a request with such a name is refused, these turn the refusal into one line naming
 * the version needed, asking the server's version only then (the happy path costs no extra request).
 */
import type {AlertmanagerClient} from '../adapters/alertmanager/client.js'
import {ApiError, UsageError} from '../core/errors.js'
import {compareVersions, parseServerVersion, type ServerVersion} from '../core/version.js'
import type {Matcher} from './matchers.js'

/** The label names every Alertmanager and Prometheus accepts (a `:` is for metric names only). */
const CLASSIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

const SINCE = {Alertmanager: [0, 27, 0], Prometheus: [3, 0, 0]} satisfies Record<string, ServerVersion>

export interface VersionedServer {
  kind: keyof typeof SINCE
  baseUrl: string
  version(): Promise<string>
}

export function alertmanagerServer(alertmanager: AlertmanagerClient): VersionedServer {
  return {kind: 'Alertmanager', baseUrl: alertmanager.baseUrl, version: async () => (await alertmanager.status()).versionInfo.version}
}

/** The matcher names that need Alertmanager 0.27+ / Prometheus 3. */
export function utf8Names(matchers: readonly Matcher[]): string[] {
  return [...new Set(matchers.map((matcher) => matcher.name).filter((name) => !CLASSIC_NAME.test(name)))]
}

/**
 * Runs `request`; if the server refuses it (HTTP 400) while the matchers hold a UTF-8 name and the
 * server is older than the version that reads them, the refusal becomes a usage error saying so.
 */
export async function withUtf8Names<T>(server: VersionedServer, matchers: readonly Matcher[], request: () => Promise<T>): Promise<T> {
  try {
    return await request()
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 400 || utf8Names(matchers).length === 0) throw error
    refuseUtf8Names(server, await server.version().catch(() => ''), matchers, error)
    throw error
  }
}

/** Throws the usage error when the matchers hold a UTF-8 name and `version` is known to be too old for it. */
export function refuseUtf8Names(server: Pick<VersionedServer, 'kind' | 'baseUrl'>, version: string, matchers: readonly Matcher[], cause?: unknown): void {
  const names = utf8Names(matchers)
  const parsed = parseServerVersion(version)
  const since = SINCE[server.kind]
  if (names.length === 0 || (parsed && compareVersions(parsed, since) >= 0)) return
  throw new UsageError(
    `the label name ${names.join(', ')} needs ${server.kind} ${since.join('.')} or newer`,
    `the one at ${server.baseUrl} is ${version || 'of an unknown version'}, which reads only names of letters, digits and _ (and cannot hold a label named so)`,
    {hint: 'match a label with a classic name instead, or point --context at a newer server', cause},
  )
}
