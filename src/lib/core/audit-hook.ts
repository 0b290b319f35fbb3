import type {ResolvedContext} from './context-types.js'

/**
 * The base command's audit hook. Core defines what it hands over and what it gets back; the implementation is
 * loaded only when a mutating command finishes, so core depends on no capability and startup loads none.
 */

/** Where this run's audit event may be written. */
export interface AuditOptions {
  /** Create the ops log's stream when no stream captures cim.ops.> (default true; restore does not: the set may hold it). */
  createOpsLog?: boolean
  /** Streams the event must not be written to now (restore: those of the set it has not restored). */
  avoidStreams?: readonly string[]
}

/** The finished command run, as the base command saw it. */
export interface CommandRun {
  command: string
  argv: string[]
  startedAt: Date
  finishedAt: Date
  exitCode: number
  error?: string
  actor?: string
}

export interface AuditReport {
  /** The event as it was recorded (or meant to be), for the message when it is lost. */
  event: unknown
  published: boolean
  spooledTo?: string
  error?: string
  hint?: string
  quarantined: string[]
}

export type AuditHook = (run: CommandRun, ctx: ResolvedContext | undefined, options: AuditOptions) => Promise<AuditReport>

let hookLoader: (() => Promise<AuditHook>) | undefined

/** Given by the CLI's entry (src/cli.ts), so that core carries no import of audit/. */
export function provideAuditHook(load: () => Promise<AuditHook>): void {
  hookLoader = load
}

export async function loadAuditHook(): Promise<AuditHook> {
  if (!hookLoader) throw new Error('no audit hook was provided: commands run through src/cli.ts')
  return hookLoader()
}
