/**
 * Whether a replicated stream can still take writes, judged from its leader's view of the other replicas.
 * A leader that lost its quorum keeps answering stream info as leader until nats-server notices (its raft
 * checks every 10 s for 10 s of silence: up to 20 s), so the leader's own word is not enough; how long ago
 * it last heard from each replica is.
 */
import type {StreamSummary} from '../adapters/nats/jetstream.js'

/** A leader hears from each follower about every second (raft heartbeats, idle or not); silence this long means it is gone. */
export const REPLICA_SILENT_SECONDS = 5

/** Why the stream cannot be written to by a quorum of its replicas; undefined when it can, or when it is not replicated. */
export function quorumLoss(stream: StreamSummary, silentAfterSeconds = REPLICA_SILENT_SECONDS): string | undefined {
  const {cluster} = stream
  if (stream.replicas <= 1 || !cluster) return undefined
  if (!cluster.leader) return `stream ${stream.name} has no leader`
  const lost = cluster.replicas.filter((replica) => !replica.leader && (replica.offline || replica.activeSeconds >= silentAfterSeconds))
  const heard = cluster.replicas.length - lost.length
  const quorum = Math.floor(stream.replicas / 2) + 1
  if (heard >= quorum) return undefined
  const silence = lost.map((replica) => `${replica.name} ${replica.offline ? 'offline' : `silent for ${Math.round(replica.activeSeconds)}s`}`)
  return `stream ${stream.name} lost its quorum: ${heard} of ${stream.replicas} replicas answer its leader ${cluster.leader} (${silence.join(', ')})`
}
