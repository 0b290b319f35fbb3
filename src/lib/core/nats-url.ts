import type {NatsSettings} from './context-types.js'
import {ConfigError, UsageError} from './errors.js'

/** `scheme://userinfo@` at the start of a server URL; greedy, so a password holding `@` is taken whole. */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)@/i

type UrlCredentials = Pick<NatsSettings, 'user' | 'password' | 'token'>

/**
 * nats.js ignores `nats://user:pass@host` and `nats://token@host`: the credentials are taken out of the
 * server URLs into the settings here. As in natscli (nats.go), credentials in the URL win over those of
 * the other kind from lower layers; creds and nkey files are left as they are.
 */
export function withUrlCredentials(settings: NatsSettings): NatsSettings {
  let found: UrlCredentials | undefined
  const servers = settings.servers.map((server) => {
    const match = USERINFO.exec(server)
    if (!match) return server
    const credentials = parseUserinfo(match[2])
    if (found && (found.user !== credentials.user || found.password !== credentials.password || found.token !== credentials.token)) {
      throw new UsageError('conflicting NATS credentials', 'the server URLs carry different credentials, and one connection uses one identity', {
        hint: 'give the same user:password or token in every URL, or put them in a natscli context',
      })
    }
    found = credentials
    return (match[1] ?? '') + server.slice(match[0].length)
  })
  if (!found) return settings
  const {user: _user, password: _password, token: _token, ...rest} = settings
  return {...rest, servers, ...found}
}

/** `user:password` is a user and password; a bare `token` is a token (natscli's reading). Percent-encoding is undone. */
function parseUserinfo(userinfo: string): UrlCredentials {
  const colon = userinfo.indexOf(':')
  if (colon < 0) return {token: decode(userinfo)}
  return {user: decode(userinfo.slice(0, colon)), password: decode(userinfo.slice(colon + 1))}
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * A server nats.js can dial: `host[:port]`, or with a scheme (nats://, tls://, ws://...), a port from 1 to 65535.
 * Checked where the servers are chosen, so a typo is one line naming it and where it came from, not an
 * "Invalid URL" from inside every check. `origin` says where, e.g. `--nats-url` or `context prod in <file>`.
 */
export function assertDialableServers(servers: string[], origin: string, fromConfig: boolean): void {
  for (const server of servers) {
    const why = undialable(server)
    if (!why) continue
    const what = `invalid NATS server "${server}"`
    const hint = 'give nats://host:port, e.g. nats://127.0.0.1:4222'
    throw fromConfig ? new ConfigError(what, `${why}; it comes from ${origin}`, {hint}) : new UsageError(what, `${why}; it comes from ${origin}`, {hint})
  }
}

function undialable(server: string): string | undefined {
  let url: URL
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `nats://${server}`)
  } catch {
    return 'not a URL: a bad host, or a port outside 1-65535'
  }
  if (url.hostname === '') return 'it names no host'
  if (url.port === '0') return 'port 0 cannot be dialled'
  return undefined
}
