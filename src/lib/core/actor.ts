import {hostname, userInfo} from 'node:os'

/** Who acts, as recorded in ops events, incidents, silences and gpu node state. */
export interface Actor {
  user: string
  host: string
}

/** Who acts: `--actor` or the OS user, on this host. */
export function resolveActor(actor?: string): Actor {
  return {user: actor?.trim() || osUser(), host: hostname()}
}

/** `who` as shown and as recorded in `by` fields: user@host, or an --actor given as is. */
export function actorName(actor: Actor | string): string {
  return typeof actor === 'string' ? actor : `${actor.user}@${actor.host}`
}

/** The OS user; userInfo() throws for a uid without a passwd entry (containers), hence the environment. */
export function osUser(): string {
  try {
    return userInfo().username
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? process.env.USERNAME ?? 'unknown'
  }
}
