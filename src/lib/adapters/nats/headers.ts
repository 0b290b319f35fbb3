/** JetStream's publish headers: the server drops a message id it stored within the duplicate window, and checks expectations when it stores. */
export const MSG_ID_HEADER = 'Nats-Msg-Id'
const EXPECTATION_PREFIX = 'nats-expected-'

/** A `Nats-Expected-*` header (any case): the server checks it once, when the message is first stored. */
export function isExpectationHeader(key: string): boolean {
  return key.toLowerCase().startsWith(EXPECTATION_PREFIX)
}

/** The server refuses the publish unless this stream stores its subject. */
export function expectStreamHeader(stream: string): [string, string[]] {
  return ['Nats-Expected-Stream', [stream]]
}
