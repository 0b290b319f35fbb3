import {createHash} from 'node:crypto'

/** A CIM domain event (DESIGN.md "CIM conventions") with the subject it is published on. */
export interface SeedEvent {
  subject: string
  body: {
    id: string
    type: string
    domain: string
    aggregateType: string
    aggregateId: string
    occurredAt: string
    correlationId: string
    causationId?: string
    data: Record<string, unknown>
  }
}

export const SEED_DOMAINS = ['graph', 'workflow', 'agent', 'identity', 'document'] as const

/** Step of an aggregate's history: its event type and payload. */
interface Step {
  type: string
  data: Record<string, unknown>
}

interface AggregateKind {
  domain: (typeof SEED_DOMAINS)[number]
  aggregateType: string
  count: number
  history: (index: number, random: Random) => Step[]
}

type Random = () => number

/** The seeded events span this window before `now`, so lag computed from occurredAt is measurable. */
const WINDOW_START_MS = 3 * 60 * 60 * 1000
const WINDOW_END_MS = 10 * 60 * 1000

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
const between = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1))
const times = <T>(n: number, make: (i: number) => T): T[] => Array.from({length: n}, (_, i) => make(i))

const AGGREGATE_KINDS: AggregateKind[] = [
  {
    domain: 'graph',
    aggregateType: 'node',
    count: 24,
    history: (i, random) => [
      {type: 'NodeAdded', data: {label: `concept-${i + 1}`, kind: pick(random, ['concept', 'entity', 'document', 'agent'])}},
      ...times(between(random, 1, 3), (v) => ({type: 'NodeUpdated', data: {field: 'label', version: v + 2}})),
      ...(i % 6 === 5 ? [{type: 'NodeRemoved', data: {reason: 'merged'}}] : []),
    ],
  },
  {
    domain: 'graph',
    aggregateType: 'edge',
    count: 30,
    history: (i, random) => [
      {
        type: 'EdgeConnected',
        data: {
          source: aggregateId('graph', 'node', between(random, 0, 23)),
          target: aggregateId('graph', 'node', between(random, 0, 23)),
          relation: pick(random, ['relates-to', 'depends-on', 'part-of', 'derived-from']),
        },
      },
      ...(i % 5 === 4 ? [{type: 'EdgeDisconnected', data: {reason: 'superseded'}}] : []),
    ],
  },
  {
    domain: 'workflow',
    aggregateType: 'workflow',
    count: 20,
    history: (i, random) => {
      const name = pick(random, ['ingest-document', 'train-embedding', 'nightly-reindex', 'onboard-person'])
      const steps = between(random, 2, 5)
      const failed = i % 7 === 6
      return [
        {type: 'WorkflowStarted', data: {name, steps}},
        ...times(steps, (s) => ({type: 'StepCompleted', data: {step: s + 1, durationMs: between(random, 40, 9000)}})),
        failed
          ? {type: 'WorkflowFailed', data: {step: steps, error: 'upstream timeout'}}
          : {type: 'WorkflowCompleted', data: {durationMs: between(random, 1000, 60_000)}},
      ]
    },
  },
  {
    domain: 'agent',
    aggregateType: 'agent',
    count: 10,
    history: (i, random) => {
      const tasks = between(random, 2, 5)
      return [
        {type: 'AgentSpawned', data: {model: pick(random, ['llama-3-8b', 'mistral-7b', 'qwen-14b']), gpu: `gpu-node-${(i % 3) + 1}`}},
        ...times(tasks, (t) => ({type: 'TaskAssigned', data: {task: `task-${i + 1}-${t + 1}`}})),
        ...times(tasks, (t) => ({type: 'TaskCompleted', data: {task: `task-${i + 1}-${t + 1}`, tokens: between(random, 200, 8000)}})),
        ...(i % 3 === 2 ? [{type: 'AgentTerminated', data: {reason: 'idle'}}] : []),
      ]
    },
  },
  {
    domain: 'identity',
    aggregateType: 'person',
    count: 25,
    history: (i, random) => [
      {type: 'PersonRegistered', data: {name: `Person ${i + 1}`, email: `person${i + 1}@example.org`}},
      {type: 'EmailVerified', data: {email: `person${i + 1}@example.org`}},
      ...times(between(random, 0, 2), () => ({type: 'RoleGranted', data: {role: pick(random, ['operator', 'analyst', 'admin'])}})),
    ],
  },
  {
    domain: 'identity',
    aggregateType: 'organization',
    count: 4,
    history: (i, random) => [
      {type: 'OrganizationCreated', data: {name: `Organization ${i + 1}`}},
      ...times(between(random, 3, 7), () => ({
        type: 'MemberAdded',
        data: {person: aggregateId('identity', 'person', between(random, 0, 24))},
      })),
    ],
  },
  {
    domain: 'document',
    aggregateType: 'document',
    count: 12,
    history: (i, random) => [
      {type: 'DocumentCreated', data: {title: `Document ${i + 1}`, mimeType: pick(random, ['text/markdown', 'application/pdf'])}},
      ...times(between(random, 1, 3), (v) => ({type: 'DocumentVersioned', data: {version: v + 2, sizeBytes: between(random, 2000, 900_000)}})),
      ...(i % 2 === 0 ? [{type: 'DocumentPublished', data: {channel: 'internal'}}] : []),
    ],
  },
]

/**
 * The seed data set, oldest first. Deterministic apart from `now`: ids, subjects, payloads and
 * order are always the same, so a second seed can recognise what is already stored.
 */
export function buildSeedEvents(now: Date): SeedEvent[] {
  const random = mulberry32(0x5eed)
  const windowStart = now.getTime() - WINDOW_START_MS
  const windowLength = WINDOW_START_MS - WINDOW_END_MS
  const events: Array<SeedEvent & {at: number}> = []

  for (const kind of AGGREGATE_KINDS) {
    for (let index = 0; index < kind.count; index++) {
      const id = aggregateId(kind.domain, kind.aggregateType, index)
      const steps = kind.history(index, random)
      // A history starts somewhere in the window and its events follow 5s-2min apart.
      let at = windowStart + Math.floor(random() * windowLength * 0.8)
      let previous: string | undefined
      let correlationId: string | undefined
      steps.forEach((step, position) => {
        const eventId = uuidFrom(`${kind.domain}.${kind.aggregateType}.${index}.${position}`)
        correlationId ??= eventId
        events.push({
          at,
          subject: `cim.${kind.domain}.${kind.aggregateType}.${id}.${step.type}`,
          body: {
            id: eventId,
            type: step.type,
            domain: kind.domain,
            aggregateType: kind.aggregateType,
            aggregateId: id,
            occurredAt: new Date(at).toISOString(),
            correlationId,
            ...(previous === undefined ? {} : {causationId: previous}),
            data: step.data,
          },
        })
        previous = eventId
        at += between(random, 5_000, 120_000)
      })
    }
  }
  events.sort((a, b) => a.at - b.at || a.body.id.localeCompare(b.body.id))
  return events.map(({at: _at, ...event}) => event)
}

function aggregateId(domain: string, aggregateType: string, index: number): string {
  return uuidFrom(`${domain}.${aggregateType}.${index}`)
}

/** Name-based UUID (version 5 layout over SHA-1): stable across runs and machines. */
function uuidFrom(name: string): string {
  const hex = createHash('sha1').update(`cimops-sandbox-seed:${name}`).digest('hex')
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`
}

/** Small seeded PRNG: the same sequence on every run, unlike Math.random. */
function mulberry32(seed: number): Random {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
