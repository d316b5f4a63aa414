import type { WireBatch, WireEvent } from '../shared/wire'

/** Events waiting at most this long before they leave together in one request. */
const BATCH_DELAY_MS = 1000
/** Retries wait twice as long each time, up to this. */
const MAX_RETRY_DELAY_MS = 60_000
/** Events per request: well under the collector's limit and the 64 KB keepalive budget. */
const MAX_BATCH = 50

export type Enqueue = (event: Omit<WireEvent, 'id' | 't'>) => void

/**
 * The one place that sends. Events wait briefly to leave as one batch; when the page is hidden
 * they leave at once with sendBeacon, which survives the page's unload. A failed send (network
 * error, 429 or 5xx) goes back to the head of the queue and is retried with backoff: every event
 * has its own id, so a retry can never be stored twice. A 4xx other than 429 means the collector
 * judged the events and kept the valid ones; resending would change nothing.
 */
export const transport = (
  endpoint: string,
  envelope: Omit<WireBatch, 'e' | 't'>,
  makeId: () => string,
): Enqueue => {
  let queue: WireEvent[] = []
  let timer: ReturnType<typeof setTimeout> | 0 = 0
  let retryDelay = 0

  const schedule = (delay: number) => {
    if (!timer) timer = setTimeout(() => flush(), delay)
  }

  const flush = (leaving?: boolean) => {
    clearTimeout(timer)
    timer = 0
    while (queue.length) {
      const events = queue.splice(0, MAX_BATCH)
      const body = JSON.stringify({ ...envelope, t: Date.now(), e: events })
      if (leaving && navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) continue
      fetch(endpoint, { method: 'POST', body, keepalive: true })
        .then((response) => {
          if (response.status == 429 || response.status > 499) throw 0
          retryDelay = 0
        })
        .catch(() => {
          queue = events.concat(queue)
          retryDelay = Math.min(MAX_RETRY_DELAY_MS, retryDelay * 2 || BATCH_DELAY_MS)
          schedule(retryDelay)
        })
    }
  }

  const hidden = () => document.visibilityState == 'hidden' && flush(true)
  addEventListener('visibilitychange', hidden)
  addEventListener('pagehide', () => flush(true))

  return (event) => {
    queue.push({ id: makeId(), t: Date.now(), ...event } as WireEvent)
    schedule(BATCH_DELAY_MS)
  }
}
