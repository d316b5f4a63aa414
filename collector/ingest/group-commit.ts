/**
 * Group commit: the writes of all requests that arrive while the event loop is busy go to the
 * store together, as one transaction, and every request waits for that commit. One durable
 * commit per batch of requests, rather than one per request, is what lets the collector
 * acknowledge only after a durable write and still run near the HTTP ceiling.
 */
export interface GroupCommit<T> {
  /** Resolves once the items are durably written; rejects if that write failed. */
  add(items: T[]): Promise<void>
  /** Resolves once everything added so far is written. */
  drain(): Promise<void>
  /** Items waiting for the next commit (for backpressure). */
  readonly pending: number
}

interface Waiter<T> {
  items: T[]
  resolve: () => void
  reject: (error: unknown) => void
}

export function groupCommit<T>(write: (items: T[]) => Promise<void>): GroupCommit<T> {
  let waiting: Waiter<T>[] = []
  let pending = 0
  let scheduled = false
  let writing: Promise<void> = Promise.resolve()

  const commit = async () => {
    scheduled = false
    const batch = waiting
    waiting = []
    pending -= batch.reduce((sum, waiter) => sum + waiter.items.length, 0)
    try {
      await write(batch.flatMap((waiter) => waiter.items))
      for (const waiter of batch) waiter.resolve()
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error)
      // One request's items may be what the store refused: each request is committed on its own
      // then, so the others are not failed with it.
      for (const waiter of batch)
        await write(waiter.items).then(waiter.resolve, waiter.reject)
    }
  }

  const schedule = () => {
    if (scheduled) return
    scheduled = true
    // One write at a time: what arrives during a write waits for the next one, and so grows it.
    writing = writing.then(() => new Promise<void>((done) => setImmediate(() => commit().then(done))))
  }

  return {
    add(items) {
      if (!items.length) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        waiting.push({ items, resolve, reject })
        pending += items.length
        schedule()
      })
    },
    drain: () => writing,
    get pending() {
      return pending
    },
  }
}
