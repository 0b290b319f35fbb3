import {Command, Flags, type Interfaces} from '@oclif/core'
import {dirname} from 'node:path'

import {type AuditOptions, loadAuditHook} from './audit-hook.js'
import type {ResolvedContext} from './context-types.js'
import {CONNECTION_ENV, type ConnectionFlags, resolveContext, resolveContexts} from './context.js'
import {type ArgumentSpec, describeFailure, type Failure, missingArguments, usageLine} from './failure.js'
import {ExitCode, InterruptedError, UsageError} from './errors.js'
import {loadNatsSessionOpener, type NatsSession, type NatsSessionOptions} from './nats-session.js'
import {createStyle, type Style} from './output/style.js'
import {redact, redactString} from './redact.js'

export type CmdFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type CmdArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const GLOBAL = 'GLOBAL'

/** Flags of commands that change something: spread into their `flags`. */
export const MUTATING_FLAGS = {
  actor: Flags.string({summary: 'Who is acting, as recorded in the ops log [default: OS user].'}),
}

/** Commands that can run on several sites at once spread these into their `flags`; `fleetContexts()` reads them. */
export const FLEET_FLAGS = {
  // Typed as the global --context it replaces (oclif cannot infer the flags of two types under one name); at run
  // time it is a list, read only by connectionFlags() and fleetContexts().
  context: Flags.string({multiple: true, multipleNonGreedy: true, summary: `cimops context to use; repeat it to run on several sites at once (env ${CONNECTION_ENV.context}).`, helpGroup: GLOBAL}) as unknown as Interfaces.OptionFlag<string | undefined>,
  'all-contexts': Flags.boolean({summary: 'Run on every configured context at once.', helpGroup: GLOBAL, exclusive: ['context']}),
}

/** Flags that name one site's addresses: meaningless for several sites. */
const SITE_FLAGS = ['nats-url', 'nats-creds', 'nats-context', 'prometheus-url', 'alertmanager-url'] as const

/**
 * Every cimops command extends this: global flags and their precedence, --json with the exit code kept,
 * typed errors rendered as one line (or `{"error": ...}`), secrets redacted, Ctrl-C -> 130.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true

  static baseFlags = {
    context: Flags.string({summary: `cimops context to use (env ${CONNECTION_ENV.context}).`, helpGroup: GLOBAL}),
    'nats-url': Flags.string({summary: `NATS server URL(s), comma-separated (env ${CONNECTION_ENV.natsUrl}).`, helpGroup: GLOBAL}),
    'nats-creds': Flags.string({summary: `NATS credentials file (env ${CONNECTION_ENV.natsCreds}).`, helpGroup: GLOBAL}),
    'nats-context': Flags.string({summary: `natscli context name or file (env ${CONNECTION_ENV.natsContext}).`, helpGroup: GLOBAL}),
    'prometheus-url': Flags.string({summary: `Prometheus base URL (env ${CONNECTION_ENV.prometheusUrl}).`, helpGroup: GLOBAL}),
    'alertmanager-url': Flags.string({summary: `Alertmanager base URL (env ${CONNECTION_ENV.alertmanagerUrl}).`, helpGroup: GLOBAL}),
    timeout: Flags.string({summary: 'Timeout per network call, e.g. 5s or 500ms [default: 5s].', helpGroup: GLOBAL}),
    'no-color': Flags.boolean({summary: 'Plain text without colours (also NO_COLOR).', helpGroup: GLOBAL}),
    verbose: Flags.boolean({summary: 'More detail; stack traces on errors.', helpGroup: GLOBAL}),
  }

  /** Check commands report Nagios codes; when they cannot run at all they exit 3 (UNKNOWN). */
  static isCheck = false

  /** Commands that change something publish an audit event to the ops log (`cim.ops.audit.<command>`), unless --dry-run. */
  static audited = false

  protected flags!: CmdFlags<T>
  protected args!: CmdArgs<T>
  protected style!: Style
  /** Aborted on Ctrl-C / SIGTERM; pass it to services so they stop cleanly. */
  protected readonly abort = new AbortController()
  private resolvedContext?: Promise<ResolvedContext>
  private heldNats?: Promise<NatsSession>
  /** Sessions on other sites' contexts (natsAt), closed with the command's own. */
  private readonly otherNats: Array<Promise<NatsSession>> = []
  /** An error line has been printed, so an interrupt needs no second message. */
  private reported = false
  /** Still parsing argv: any error from oclif now is a usage error. */
  private parsing = true
  private readonly startedAt = new Date()
  private failureLine?: string
  private readonly onSignal = () => this.interrupt()
  /** How long an interrupted command may take to stop cleanly before it exits anyway; one that must put things back raises it. */
  protected interruptGraceMs = 3000

  get signal(): AbortSignal {
    return this.abort.signal
  }

  async init(): Promise<void> {
    process.on('SIGINT', this.onSignal)
    process.on('SIGTERM', this.onSignal)
    await super.init()
    this.style = createStyle({noColor: process.argv.includes('--no-color')})
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as unknown as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as CmdFlags<T>
    this.args = args as CmdArgs<T>
    this.parsing = false
    this.style = createStyle({noColor: this.flags['no-color']})
  }

  /** The effective connection settings (flag > env > context > default), resolved once. */
  protected context(): Promise<ResolvedContext> {
    this.resolvedContext ??= resolveContext(this.connectionFlags())
    return this.resolvedContext
  }

  /**
   * The command's NATS session on its context, as natscli holds one connection per command: opened on first use (the
   * options of the first call count), handed to services, and closed when the command ends, before the audit event.
   */
  protected nats(options: NatsSessionOptions = {}): Promise<NatsSession> {
    this.heldNats ??= this.context().then((ctx) => this.openNats(ctx, options))
    return this.heldNats
  }

  /**
   * Another site's context, for a command that reads at one site and writes at another: resolved as `--context NAME`
   * alone would be (its own addresses and timeout, --timeout over both); the environment's addresses belong to the
   * command's own site.
   */
  protected async otherContext(name: string): Promise<ResolvedContext> {
    const [ctx] = await resolveContexts([name], this.flags.timeout)
    return ctx
  }

  /** A NATS session on another site's context (otherContext), held and closed like the command's own. */
  protected natsAt(ctx: ResolvedContext, options: NatsSessionOptions = {}): Promise<NatsSession> {
    const session = this.openNats(ctx, options)
    this.otherNats.push(session)
    return session
  }

  private async openNats(ctx: ResolvedContext, options: NatsSessionOptions): Promise<NatsSession> {
    const open = await loadNatsSessionOpener()
    return open(ctx.nats, {timeoutMs: ctx.timeoutMs, name: options.name ?? `cimops-${(this.id ?? 'command').replaceAll(':', '-')}`, reconnect: options.reconnect})
  }

  /**
   * The sites of a fleet run (FLEET_FLAGS): several contexts from a repeated --context or --all-contexts, or
   * undefined for one site, which runs exactly as without FLEET_FLAGS.
   */
  protected async fleetContexts(): Promise<ResolvedContext[] | undefined> {
    const f = this.flags as {context?: string | string[]; 'all-contexts'?: boolean} & Record<string, unknown>
    const names = Array.isArray(f.context) ? f.context : []
    if (!f['all-contexts'] && new Set(names).size < 2) return undefined
    const siteFlag = SITE_FLAGS.find((flag) => f[flag] !== undefined)
    if (siteFlag) throw new UsageError(`--${siteFlag} with several contexts`, 'it names one site; each context brings its own addresses')
    return resolveContexts(f['all-contexts'] ? 'all' : names, this.flags.timeout)
  }

  protected connectionFlags(): ConnectionFlags {
    const f = this.flags
    // A fleet command's repeatable --context, given once.
    const context = (f as {context?: string | string[]}).context
    return {
      context: Array.isArray(context) ? context[0] : context,
      natsUrl: f['nats-url'],
      natsCreds: f['nats-creds'],
      natsContext: f['nats-context'],
      prometheusUrl: f['prometheus-url'],
      alertmanagerUrl: f['alertmanager-url'],
      timeout: f.timeout,
    }
  }

  /** Result text on stdout (suppressed under --json), secrets masked. */
  protected print(text: string): void {
    if (!this.jsonEnabled()) this.log(redactString(text))
  }

  /** Progress and notes on stderr, so stdout stays clean for the result. */
  protected note(text: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${redactString(text)}\n`)
  }

  /** A warning on stderr, also under --json: it is about the input, and scripts see stdout only. */
  protected warning(text: string): void {
    process.stderr.write(`cimops: warning: ${redactString(text)}\n`)
  }

  /**
   * Width for tables: the terminal's, else COLUMNS when set, else unlimited (a pipe or a file keeps every character).
   * A terminal of 0 columns (a pseudo-terminal nobody sized: `script`, some CI runners) does not know its width.
   */
  protected get width(): number | undefined {
    if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns
    const columns = Number(process.env.COLUMNS)
    return Number.isInteger(columns) && columns > 0 ? columns : undefined
  }

  /** For arguments oclif cannot require itself (a required one after an optional one): the same error as oclif's. */
  protected missingArgument(...names: string[]): UsageError {
    const args = this.ctor.args as Record<string, Omit<ArgumentSpec, 'name'>>
    return missingArguments(names.map((name) => ({...args[name], name})), this.usage())
  }

  private usage(): string {
    const {args, flags, usage} = this.ctor
    return usageLine(this.config.bin, this.id ?? '', {args, flags, usage})
  }

  protected toSuccessJson(result: unknown): unknown {
    return redact(result)
  }

  protected async catch(error: Error): Promise<void> {
    const failure: Failure = describeFailure(error, {isCheck: (this.ctor as unknown as typeof BaseCommand).isCheck, command: this.id ?? '', parsing: this.parsing, usage: this.usage()})
    if (failure.silent) {
      process.exitCode = failure.exit
      return
    }
    process.exitCode = failure.exit
    this.reported = true
    this.failureLine = failure.line
    if (this.jsonEnabled()) {
      this.logJson({error: redact({code: failure.code, message: failure.message, exit: failure.exit, hint: failure.hint})})
    } else {
      process.stderr.write(`cimops: ${redactString(failure.line)}\n`)
    }
    if (this.flags?.verbose && error.stack) process.stderr.write(`${redactString(error.stack)}\n`)
  }

  protected async finally(error: Error | undefined): Promise<void> {
    process.off('SIGINT', this.onSignal)
    process.off('SIGTERM', this.onSignal)
    await super.finally(error)
    await this.closeNats(error)
    await this.recordAudit()
    // Interrupted work may leave sockets waiting on timeouts; the result is reported, so leave now.
    if (this.abort.signal.aborted) setTimeout(() => process.exit(130), 50).unref()
  }

  /** Drained after success, so that what the command published is flushed; a drain that fails fails the command, as it would have inside it. */
  private async closeNats(error: Error | undefined): Promise<void> {
    const sessions = await Promise.all([this.heldNats, ...this.otherNats].map((session) => session?.catch(() => undefined)))
    await Promise.all(sessions.map((session) => session?.close({drain: error === undefined}).catch((failure: Error) => this.catch(failure))))
  }

  /**
   * The audit event of a mutating command; when the ops log cannot take it now, it is spooled for this environment
   * and the user told; when no ops log ever can, the user is told that instead. Not for --dry-run or bad usage:
   * nothing was attempted.
   */
  private async recordAudit(): Promise<void> {
    const ctor = this.ctor as unknown as typeof BaseCommand
    const flags = this.flags as Record<string, unknown> | undefined
    if (!ctor.audited || this.parsing || flags?.['dry-run'] === true || process.exitCode === ExitCode.USAGE) return
    const auditCommand = await loadAuditHook()
    const run = {
      command: this.id ?? 'unknown',
      argv: this.argv,
      startedAt: this.startedAt,
      finishedAt: new Date(),
      exitCode: typeof process.exitCode === 'number' ? process.exitCode : 0,
      error: this.failureLine,
      actor: typeof flags?.actor === 'string' ? flags.actor : undefined,
    }
    const ctx = await this.context().catch(() => undefined)
    const result = await auditCommand(run, ctx, this.auditOptions())
    const say = (line: string) => process.stderr.write(`cimops: ${redactString(line)}\n`)
    if (result.quarantined.length > 0) {
      const n = result.quarantined.length
      say(`${n} unreadable audit spool file${n === 1 ? '' : 's'} moved to ${dirname(result.quarantined[0])}: never written to an ops log (inspect, then delete them)`)
    }
    if (result.published) return
    if (result.spooledTo) say(`audit event not written to the ops log: ${result.error} (spooled to ${result.spooledTo}; ${result.hint})`)
    // Said once: a command that failed for this very reason has printed it already.
    else if (result.hint) {
      if (!this.failureLine?.includes(result.error!)) say(`audit event not recorded: ${result.error} (${result.hint})`)
    }
    else say(`audit event lost: ${result.error} (the event: ${JSON.stringify(result.event)})`)
  }

  /** Where this run's audit event may be written; restore narrows it, since its backup set may hold the ops log. */
  protected auditOptions(): AuditOptions {
    return {}
  }

  private interrupt(): void {
    if (this.abort.signal.aborted) process.exit(130) // second Ctrl-C: stop now
    this.abort.abort(new InterruptedError())
    process.exitCode = 130
    // Give the command a moment to stop cleanly and report; then leave regardless.
    setTimeout(() => {
      if (!this.reported) process.stderr.write('cimops: interrupted: stopped by signal\n')
      process.exit(130)
    }, this.interruptGraceMs).unref()
  }

}
