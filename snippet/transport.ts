import type { WireBatch, WireEvent } from '../shared/wire'
import { here } from './location'

/** Events waiting at most this long before they leave together in one request. */
const BATCH_DELAY_MS = 1000
/** Retries wait twice as long each time, up to this. */
const MAX_RETRY_DELAY_MS = 60_000
/** Events per request: well under the collector's limit and the 64 KB keepalive budget. */
const MAX_BATCH = 50

export type Envelope = Omit<WireBatch, 'e' | 't'>
export type Enqueue = (event: Omit<WireEvent, 'id' | 't' | 'u'> & { u?: string }) => void
export interface Transport {
  enqueue: Enqueue
  /** Sends everything waiting now; `leaving` when the page is hiding, so sendBeacon carries it. */
  flush: (leaving?: boolean) => void
}

/**
 * The one place that sends. Events wait briefly to leave as one batch. A batch takes the
 * envelope (visitor id and context) of the moment it is formed, so a later reset never
 * re-labels it. A failed send (network error, 429 or 5xx) is kept and resent with backoff, with
 * a fresh send time for the clock-skew correction; every event has its own id, so a resend is
 * never stored twice. A 4xx other than 429 means the collector judged the events and kept the
 * valid ones: resending would change nothing.
 */
export const transport = (endpoint: string, envelope: Envelope, makeId: () => string): Transport => {
  let queue: WireEvent[] = []
  let failed: WireBatch[] = []
  let timer: ReturnType<typeof setTimeout> | 0 = 0
  let retryDelay = 0

  const schedule = (delay: number) => {
    if (!timer) timer = setTimeout(flush, delay)
  }

  const post = (batch: WireBatch, leaving?: boolean) => {
    batch.t = Date.now()
    const body = JSON.stringify(batch)
    if (leaving && navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) return
    fetch(endpoint, { method: 'POST', body, keepalive: true })
      .then((response) => {
        if (response.status == 429 || response.status > 499) throw 0
        retryDelay = 0
      })
      .catch(() => {
        failed.push(batch)
        schedule((retryDelay = Math.min(MAX_RETRY_DELAY_MS, retryDelay * 2 || BATCH_DELAY_MS)))
      })
  }

  const flush = (leaving?: boolean) => {
    clearTimeout(timer)
    timer = 0
    failed.splice(0).forEach((batch) => post(batch, leaving))
    while (queue.length) post({ ...envelope, e: queue.splice(0, MAX_BATCH) } as WireBatch, leaving)
  }

  return {
    enqueue: (event) => {
      queue.push({ id: makeId(), t: Date.now(), u: here(), ...event } as WireEvent)
      schedule(BATCH_DELAY_MS)
    },
    flush,
  }
}
