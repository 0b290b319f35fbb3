import type {NatsSettings} from './context-types.js'
import {UsageError} from './errors.js'

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
