/**
 * What keeps the collector answering under a flood: it turns work away quickly, with a time to
 * come back, rather than queueing without bound.
 */

/** Events waiting for their commit past which new batches get 503: about 10 MB held, a second or two of writing. */
export const MAX_PENDING_EVENTS = 10_000

/**
 * How late the event loop may run before new batches get 503. SQLite writes block the loop, so
 * a collector past what it can write shows it first as lag: requests wait unseen in the socket
 * queue while the loop is busy. Past this, answering at once beats answering late.
 */
export const MAX_LOOP_LAG_MS = 300

/**
 * The event loop's lag: how late a timer due every `intervalMs` fires, decaying by half each
 * tick, so one long write shows for a few ticks and is then forgotten.
 */
export function loopLag(intervalMs = 20): () => number {
  let expected = performance.now() + intervalMs
  let lag = 0
  setInterval(() => {
    const now = performance.now()
    lag = Math.max(now - expected, lag / 2)
    expected = now + intervalMs
  }, intervalMs).unref()
  return () => Math.max(lag, performance.now() - expected)
}

export interface RateLimits {
  /** Requests a second from one client address to /e and /v1 (0: no limit); bursts of ten times that. */
  perAddress: number
  /** Events a second one site may send (0: no limit); bursts of ten times that. */
  perSite: number
}

export const DEFAULT_RATE_LIMITS: RateLimits = { perAddress: 100, perSite: 5000 }

/**
 * Token buckets by key: each key may take `perSecond` on average and `10 × perSecond` at once.
 * Keys idle for a minute are forgotten, and so is everything if the map grows past `maxKeys`:
 * client addresses are kept only for this and only this long.
 */
export function tokenBuckets(perSecond: number, maxKeys = 100_000, now = () => Date.now()) {
  const burst = perSecond * 10
  const buckets = new Map<string, { tokens: number; at: number }>()
  let swept = now()
  return {
    /** Takes `count` tokens; returns 0 if allowed, else the seconds to wait before trying again. */
    take(key: string, wanted = 1): number {
      if (perSecond <= 0) return 0
      // A batch larger than the burst is let through once the bucket is full, rather than never.
      const count = Math.min(wanted, burst)
      const time = now()
      if (time - swept > 60_000 || buckets.size > maxKeys) {
        for (const [k, bucket] of buckets) if (time - bucket.at > 60_000 || buckets.size > maxKeys) buckets.delete(k)
        swept = time
      }
      const bucket = buckets.get(key) ?? { tokens: burst, at: time }
      bucket.tokens = Math.min(burst, bucket.tokens + ((time - bucket.at) / 1000) * perSecond)
      bucket.at = time
      buckets.set(key, bucket)
      if (bucket.tokens >= count) {
        bucket.tokens -= count
        return 0
      }
      return Math.max(1, Math.ceil((count - bucket.tokens) / perSecond))
    },
  }
}
