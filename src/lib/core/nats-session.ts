import type {NatsSettings} from './context-types.js'

/**
 * The NATS session of a command: one connection per NATS context, opened on first use, closed once when the
 * command ends (BaseCommand.nats()); services receive it and never connect themselves. Core declares what the
 * base command needs. The NATS adapter (adapters/nats/session.ts) implements it and declares its nats.js-typed
 * operations onto this interface, so core neither names nor loads nats.js and `cimops --help` stays light.
 */
export interface NatsSession {
  readonly settings: NatsSettings
  /** The server list without credentials: for errors and notes. */
  readonly address: string
  /** Connect timeout, and the default for every request made on the connection. */
  readonly timeoutMs: number
  /**
   * Closes the connection if one was opened; later calls do nothing. `drain`: first flush what was published
   * and let subscriptions finish (after success), as a clean exit should; a failing drain still closes, then throws.
   */
  close(options?: {drain?: boolean}): Promise<void>
}

export interface NatsSessionOptions {
  /** Client name shown by the server (`nats server report connections`). */
  name?: string
  /**
   * Default false: a one-shot command fails fast. true: a few attempts (live views, long waits).
   * 'forever': work that bounds its own waiting (a replay, the monitor).
   */
  reconnect?: boolean | 'forever'
}

export type OpenNatsSession = (settings: NatsSettings, options: NatsSessionOptions & {timeoutMs: number}) => NatsSession

let openerLoader: (() => Promise<OpenNatsSession>) | undefined

/**
 * Given by the CLI's entry (src/cli.ts), the one module that names the adapter: the adapter depends on core,
 * never the other way, and the bundler sees a literal import it can follow.
 */
export function provideNatsSessionOpener(load: () => Promise<OpenNatsSession>): void {
  openerLoader = load
}

/** The adapter's opener, loaded on a command's first use of NATS. */
export async function loadNatsSessionOpener(): Promise<OpenNatsSession> {
  if (!openerLoader) throw new Error('no NATS session opener was provided: commands run through src/cli.ts')
  return openerLoader()
}
