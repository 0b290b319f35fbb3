/** Runs `work` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      signal?.throwIfAborted()
      const index = next++
      results[index] = await work(items[index], index)
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, worker))
  return results
}

/** Requests in flight per report: enough to hide the round trip, few enough not to flood one stream leader. */
export const REQUESTS_IN_FLIGHT = 48
