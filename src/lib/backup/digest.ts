import {createHash, type Hash} from 'node:crypto'

/**
 * What a drill and a logical backup compare: message count, sequence range, per-subject counts, and a
 * content digest — sha256 over every message in sequence order, each as
 * u32be(len(subject)) ‖ subject ‖ u32be(len(data)) ‖ data (length prefixes make it unambiguous).
 * Sequence numbers, times and headers are not part of the digest: a logical restore renumbers.
 */
export const DIGEST_ALGORITHM = 'sha256-subject-data' as const

export interface ContentSummary {
  messages: number
  /** 0 when there are no messages. */
  firstSeq: number
  lastSeq: number
  digest: string
  subjects: Map<string, number>
}

export class ContentDigest {
  private readonly hash: Hash = createHash('sha256')
  private readonly prefix = Buffer.alloc(4)
  private readonly encoder = new TextEncoder()
  messages = 0
  firstSeq = 0
  lastSeq = 0
  readonly subjects = new Map<string, number>()

  constructor(private readonly countSubjects = true) {}

  update(subject: string, data: Uint8Array, seq = 0): void {
    const subjectBytes = this.encoder.encode(subject)
    this.prefix.writeUInt32BE(subjectBytes.length)
    this.hash.update(this.prefix)
    this.hash.update(subjectBytes)
    this.prefix.writeUInt32BE(data.length)
    this.hash.update(this.prefix)
    this.hash.update(data)
    if (this.messages === 0) this.firstSeq = seq
    this.lastSeq = seq
    this.messages++
    if (this.countSubjects) this.subjects.set(subject, (this.subjects.get(subject) ?? 0) + 1)
  }

  summary(): ContentSummary {
    return {messages: this.messages, firstSeq: this.firstSeq, lastSeq: this.lastSeq, digest: this.hash.copy().digest('hex'), subjects: this.subjects}
  }
}

export interface SubjectDifference {
  subject: string
  source: number
  restored: number
}

/** Subjects whose counts differ, most different first. */
export function subjectDifferences(source: Map<string, number>, restored: Map<string, number>): SubjectDifference[] {
  const differences: SubjectDifference[] = []
  for (const subject of new Set([...source.keys(), ...restored.keys()])) {
    const a = source.get(subject) ?? 0
    const b = restored.get(subject) ?? 0
    if (a !== b) differences.push({subject, source: a, restored: b})
  }
  return differences.sort((x, y) => Math.abs(y.source - y.restored) - Math.abs(x.source - x.restored) || x.subject.localeCompare(y.subject))
}
