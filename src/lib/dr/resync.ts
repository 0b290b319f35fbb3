/**
 * `cimops dr resync`: how the old primary comes back as the mirror of the new one without losing the events only it
 * holds. NATS cannot turn a diverged stream back into a mirror (a mirror only asks for sequences after its own last
 * one), so the old site is re-seeded: export what only it holds, delete its stream, create it again as a mirror of
 * the new primary, wait until it has caught up (reference/nats-sites-dr.md §3.4). This command reads both sites,
 * works out which events only the old site holds and whether an export file holds them, and prints that procedure
 * as exact commands for these contexts and streams. It changes nothing.
 */
import {stripUserinfo} from '../adapters/redact.js'
import type {JetStreamEndpoint} from '../adapters/nats/promotion.js'
import type {StreamSummary} from '../adapters/nats/jetstream.js'
import type {NatsSession} from '../adapters/nats/session.js'
import type {ResolvedContext} from '../core/context-types.js'
import {DataError, NotFoundError, UsageError} from '../core/errors.js'

export interface ResyncStep {
  what: string
  /** The command to run, when there is one; absent for a check the operator makes. */
  command?: string
  /** Already done, as far as cimops can tell (the export, with --exported-to). */
  done?: boolean
}

export interface ResyncResult {
  /** The old primary's stream, at `oldContext`. */
  stream: string
  oldContext: string
  fromContext: string
  /** The promoted stream at the new primary. */
  promotedStream: string
  /** The new primary's JetStream domain: the new mirror reaches it through `$JS.<domain>.API`. */
  newPrimaryDomain?: string
  oldSite: {firstSeq: number; lastSeq: number; messages: number; subjects: string[]; fenced: boolean}
  /** The last sequence both streams hold alike (same subject and time); 0 when none matches. */
  commonUpTo: number
  /** The events only the old site holds, by its sequences (`events` at most: deleted ones are counted); absent when it holds none the new primary lacks. */
  onlyAtOldSite?: {fromSeq: number; toSeq: number; events: number}
  /** The export given with --exported-to, checked to hold those events. */
  exported?: {file: string; events: number}
  steps: ResyncStep[]
  warnings: string[]
  /** Always false: the procedure is printed, not run. */
  changed: false
}

export interface ResyncOptions {
  stream: string
  /** The old primary: the command's context and session. */
  oldContext: string
  nats: NatsSession
  /** The new primary, where the promoted stream lives. */
  from: {context: string; session: NatsSession}
  /** --promoted-stream [default: the stream there marked as promoted from `stream`]. */
  promotedStream?: string
  /** --exported-to: a replay file said to hold the events only the old site has. */
  exportedTo?: string
  /** Where the printed export step writes [default: <STREAM>-only-at-<context>.jsonl.gz]. */
  exportFile?: string
}

/**
 * The largest sequence in [low, high] at which `same` holds, given that it holds up to some point and not after
 * (a common prefix): binary search, so a long stream costs a few dozen reads. `low - 1` when it never holds.
 */
export async function lastCommonSeq(low: number, high: number, same: (seq: number) => Promise<boolean>): Promise<number> {
  let found = low - 1
  let lo = low
  let hi = high
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2)
    if (await same(mid)) {
      found = mid
      lo = mid + 1
    } else {
      hi = mid - 1
    }
  }
  return found
}

/** The procedure, as exact commands for these contexts, streams and servers. */
export function resyncSteps(input: {
  stream: string
  oldContext: string
  fromContext: string
  promotedStream: string
  newPrimaryDomain?: string
  oldServer: string
  oldSite: Pick<ResyncResult['oldSite'], 'fenced' | 'subjects'>
  onlyAtOldSite?: ResyncResult['onlyAtOldSite']
  exported?: ResyncResult['exported']
  exportFile: string
  replicas: number
}): ResyncStep[] {
  const {stream, oldContext, fromContext, promotedStream, oldServer} = input
  const nats = `nats --server ${oldServer}`
  const steps: ResyncStep[] = []
  if (!input.oldSite.fenced) {
    steps.push({
      what: `Fence the old primary first: ${stream} still takes CIM events (${input.oldSite.subjects.join(', ') || 'no subjects'}), the promoted stream too: keep its site isolated until it is fenced`,
      command: `${nats} stream edit ${stream} --subjects 'cimops.fenced.${stream}.>' -f`,
    })
  }
  if (input.onlyAtOldSite) {
    const {fromSeq, toSeq, events} = input.onlyAtOldSite
    steps.push({
      what: `Export the ${events} event${events === 1 ? '' : 's'} only the old site holds (sequences ${fromSeq}-${toSeq}); check the file with --exported-to before going on`,
      command: `cimops replay --context ${oldContext} --stream ${stream} --from-seq ${fromSeq} --to-file ${input.exportFile}`,
      ...(input.exported ? {done: true} : {}),
    })
  }
  steps.push({what: `Back up the old stream, as evidence of what the old site held`, command: `cimops backup create --context ${oldContext} --stream ${stream}`})
  steps.push({what: `Delete the old stream at the old site (NATS cannot make a diverged stream a mirror again)`, command: `${nats} stream rm ${stream} -f`})
  const mirror = {name: stream, storage: 'file', num_replicas: input.replicas, mirror: {name: promotedStream, ...(input.newPrimaryDomain ? {external: {api: `$JS.${input.newPrimaryDomain}.API`}} : {})}}
  steps.push({
    what: `Create ${stream} at the old site again, as a mirror of ${promotedStream} at the new primary`,
    command: `echo '${JSON.stringify(mirror)}' > ${stream}-mirror.json && ${nats} stream add --config ${stream}-mirror.json`,
  })
  steps.push({
    what: `Wait until the mirror holds every event of ${promotedStream} (same last sequence on both)`,
    command: `cimops stream info ${stream} --context ${oldContext} && cimops stream info ${promotedStream} --context ${fromContext}`,
  })
  if (input.onlyAtOldSite) {
    steps.push({
      what: `Decide with the domain owners which exported events belong in the new primary, and republish those there (each keeps its event id, so a repeat is dropped within the duplicate window)`,
      command: `cimops replay --context ${fromContext} --from-file ${input.exportFile} --to-stream ${promotedStream} --dry-run`,
    })
  }
  steps.push({what: `Fail back later, in a planned window, by promoting the old site's mirror`, command: `cimops dr promote ${stream} --context ${oldContext} --dry-run`})
  return steps
}

export async function planResync(_ctx: ResolvedContext, options: ResyncOptions): Promise<ResyncResult> {
  const promotion = await import('../adapters/nats/promotion.js')
  const {stream} = options
  const endpoint = async (session: NatsSession): Promise<JetStreamEndpoint> => promotion.jetstreamEndpoint((await session.connection()).nc, session.jsApiPrefix, session.timeoutMs)
  const [oldSite, newSite] = await Promise.all([endpoint(options.nats), endpoint(options.from.session)])
  const old = await promotion.streamAt(oldSite, stream)
  if (!old) throw new NotFoundError(`no stream ${stream} at context ${options.oldContext}`, 'nothing to resync', {hint: 'name the old primary\'s stream, with --context pointing at its site'})
  if (old.sources.some((s) => s.kind === 'mirror')) throw new UsageError(`${stream} at context ${options.oldContext} is a mirror already`, 'there is nothing to resync', {hint: '`cimops dr status` shows how far behind it is'})
  const promoted = await findPromoted(promotion, newSite, stream, options)
  const fencedSubjects = await promotion.fencedSubjectsOf(oldSite, stream)

  const same = async (seq: number) => {
    const [a, b] = await Promise.all([promotion.messageAtOrAfter(oldSite, stream, seq), promotion.messageAtOrAfter(newSite, promoted.name, seq)])
    return a !== undefined && b !== undefined && a.seq === b.seq && a.subject === b.subject && a.time.getTime() === b.time.getTime()
  }
  const high = Math.min(old.lastSeq, promoted.lastSeq)
  const commonUpTo = old.messages === 0 ? old.lastSeq : Math.max(0, await lastCommonSeq(Math.max(1, old.firstSeq), high, same))
  const fromSeq = Math.max(commonUpTo + 1, old.firstSeq)
  const first = old.lastSeq >= fromSeq ? await promotion.messageAtOrAfter(oldSite, stream, fromSeq) : undefined
  // Sequences are dense but for deletes, so the span is the count, or slightly more.
  const onlyAtOldSite = first ? {fromSeq: first.seq, toSeq: old.lastSeq, events: Math.min(old.messages, old.lastSeq - first.seq + 1)} : undefined
  const exported = options.exportedTo && onlyAtOldSite ? await checkExport(options.exportedTo, onlyAtOldSite) : undefined

  const warnings = [
    ...(commonUpTo === 0 && old.messages > 0 ? [`no common range with ${promoted.name} by sequence (a promotion by the safest path renumbers): the export covers the whole old stream`] : []),
    ...(fencedSubjects ? [] : [`${stream} at context ${options.oldContext} is not fenced: it still takes CIM events beside ${promoted.name}`]),
  ]
  const newPrimaryDomain = await promotion.jetstreamDomain(newSite)
  const exportFile = options.exportFile ?? `${stream}-only-at-${options.oldContext}.jsonl.gz`
  const oldSiteState = {firstSeq: old.firstSeq, lastSeq: old.lastSeq, messages: old.messages, subjects: fencedSubjects ?? old.subjects, fenced: fencedSubjects !== undefined}
  return {
    stream,
    oldContext: options.oldContext,
    fromContext: options.from.context,
    promotedStream: promoted.name,
    ...(newPrimaryDomain ? {newPrimaryDomain} : {}),
    oldSite: oldSiteState,
    commonUpTo,
    ...(onlyAtOldSite ? {onlyAtOldSite} : {}),
    ...(exported ? {exported} : {}),
    steps: resyncSteps({
      stream,
      oldContext: options.oldContext,
      fromContext: options.from.context,
      promotedStream: promoted.name,
      newPrimaryDomain,
      oldServer: stripUserinfo(options.nats.settings.servers[0] ?? ''),
      oldSite: oldSiteState,
      onlyAtOldSite,
      exported,
      exportFile,
      replicas: old.replicas,
    }),
    warnings,
    changed: false,
  }
}

type PromotionAdapter = typeof import('../adapters/nats/promotion.js')

/** The stream at the new primary marked as promoted from `stream`, or the one --promoted-stream names. */
async function findPromoted(promotion: PromotionAdapter, site: JetStreamEndpoint, stream: string, options: ResyncOptions): Promise<StreamSummary> {
  if (options.promotedStream) {
    const named = await promotion.streamAt(site, options.promotedStream)
    if (!named) throw new NotFoundError(`no stream ${options.promotedStream} at context ${options.from.context}`, 'it cannot be the new primary')
    return named
  }
  const marked = (await promotion.streamsAt(site)).filter((s) => s.promotedFrom?.stream === stream)
  if (marked.length === 1) return marked[0]!
  const why = marked.length === 0 ? `no stream there is marked as promoted from ${stream}` : `several are: ${marked.map((s) => s.name).join(', ')}`
  throw new UsageError(`cannot tell which stream at context ${options.from.context} is the new primary`, why, {hint: 'name it with --promoted-stream'})
}

/** The export must be a whole replay file holding every sequence only the old site has. */
async function checkExport(file: string, only: NonNullable<ResyncResult['onlyAtOldSite']>): Promise<ResyncResult['exported']> {
  const {checkReplayFile, readReplayFile} = await import('../replay/file.js')
  await checkReplayFile(file)
  let events = 0
  let first: number | undefined
  let last = 0
  for await (const event of readReplayFile(file)) {
    if (event.seq < only.fromSeq || event.seq > only.toSeq) continue
    events++
    first ??= event.seq
    last = Math.max(last, event.seq)
  }
  // The file is whole (its end line checked): it holds the range when it starts and ends where the range does.
  if (first !== only.fromSeq || last !== only.toSeq) {
    throw new DataError(`${file} does not hold the events only the old site has`, `it holds ${events} events of sequences ${only.fromSeq}-${only.toSeq}${first === undefined ? '' : `, from ${first} to ${last}`}`, {hint: 'export them with the command this prints without --exported-to'})
  }
  return {file, events}
}
