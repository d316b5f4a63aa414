import { request } from 'node:http'
import { ulid } from 'ulid'
import { afterEach, describe, expect, it } from 'vitest'
import { tokenBuckets } from '../../collector/ingest/admission'
import { batch, CHROME_UA, collectorWithSite, pageview } from './helpers'

describe('token buckets', () => {
  it('lets a burst of ten seconds through, then the rate, and says how long to wait', () => {
    let now = 0
    const buckets = tokenBuckets(2, 100, () => now)
    for (let i = 0; i < 20; i++) expect(buckets.take('a')).toBe(0)
    expect(buckets.take('a')).toBe(1)
    // Another key has its own bucket.
    expect(buckets.take('b')).toBe(0)
    now += 500 // half a second: one token back
    expect(buckets.take('a')).toBe(0)
    expect(buckets.take('a')).toBe(1)
    // Asking for many at once: the wait is how long they take to come back.
    now += 1000
    expect(buckets.take('a', 12)).toBe(5)
  })

  it('lets a batch larger than the burst through once the bucket is full, rather than never', () => {
    let now = 0
    const buckets = tokenBuckets(2, 100, () => now)
    expect(buckets.take('site', 30)).toBe(0)
    expect(buckets.take('site', 30)).toBe(10)
    now += 10_000
    expect(buckets.take('site', 30)).toBe(0)
  })

  it('takes everything when the rate is 0', () => {
    const buckets = tokenBuckets(0)
    for (let i = 0; i < 1000; i++) expect(buckets.take('a', 100)).toBe(0)
  })

  it('forgets keys idle for a minute', () => {
    let now = 0
    const buckets = tokenBuckets(1, 100, () => now)
    for (let i = 0; i < 10; i++) buckets.take('a')
    expect(buckets.take('a')).toBe(1)
    now += 61_000
    buckets.take('b') // sweeps
    // 'a' starts afresh with a full bucket, not with what it had.
    for (let i = 0; i < 10; i++) expect(buckets.take('a')).toBe(0)
  })
})

/**
 * A POST as a browser's navigator.sendBeacon makes it (Sec-Fetch-Mode: no-cors); Node's fetch
 * always sends its own Sec-Fetch-Mode, so this goes through node:http. Resolves to the status.
 */
const sendBeacon = (url: string, origin: string, body: string) =>
  new Promise<number>((resolve, reject) => {
    const sent = request(url, { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'Sec-Fetch-Mode': 'no-cors', Origin: origin, 'User-Agent': CHROME_UA } }, (response) => {
      response.resume()
      resolve(response.statusCode!)
    })
    sent.on('error', reject)
    sent.end(body)
  })

describe('admission over HTTP', () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>> | undefined
  afterEach(() => c?.close())

  it('answers 429 with Retry-After to an address past its rate, and takes it again later', async () => {
    c = await collectorWithSite('example.com', { limits: { perAddress: 1, perSite: 0 } })
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) statuses.push((await c.post(batch(c.site.id, [pageview()]))).status)
    // A burst of ten, then refused.
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200))
    const refused = await c.post(batch(c.site.id, [pageview()]))
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await refused.json()).error).toMatch(/too many requests/)
    // The Segment API shares the limit.
    const segment = await fetch(`${c.url}/v1/track`, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from(c.writeKey + ':').toString('base64')}` }, body: JSON.stringify({ userId: 'u', event: 'E' }) })
    expect(segment.status).toBe(429)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await c.post(batch(c.site.id, [pageview()]))).status).toBe(200)
  })

  it('answers 429 to a site sending more events than its limit, storing none of that batch', async () => {
    c = await collectorWithSite('example.com', { limits: { perAddress: 0, perSite: 5 } })
    const events = Array.from({ length: 60 }, () => pageview())
    const first = await c.post(batch(c.site.id, events.slice(0, 50)))
    expect(first.status).toBe(200)
    const second = await c.post(batch(c.site.id, events.slice(50)))
    expect(second.status).toBe(429)
    expect((await second.json()).error).toMatch(/more events than its limit/)
    expect((await c.events()).length).toBe(50)
  })

  it('turns batches away with 503 and Retry-After while too many wait for a commit, keeps every one it acknowledged, and recovers', async () => {
    c = await collectorWithSite('example.com', { maxLoopLagMs: 5, limits: { perAddress: 0, perSite: 0 } })
    const sent = Array.from({ length: 200 }, () => [pageview(), pageview(), pageview()])
    const answers = await Promise.all(sent.map(async (events) => ({ events, response: await c!.post(batch(c!.site.id, events)) })))
    const statuses = answers.map((a) => a.response.status)
    expect(statuses).toContain(503)
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true)
    const busy = answers.find((a) => a.response.status === 503)!.response
    expect(busy.headers.get('retry-after')).toBe('1')
    const acknowledged = answers.filter((a) => a.response.status === 200).flatMap((a) => a.events.map((e) => e.id))
    const stored = new Set((await c.events()).map((e) => e.id))
    for (const id of acknowledged) expect(stored.has(id)).toBe(true)
    // The load has fallen: after the Retry-After it asked for, it takes batches again by itself.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect((await c.post(batch(c.site.id, [pageview({ id: ulid() })]))).status).toBe(200)
  })

  it('takes a beacon while its event loop lags, since a beacon cannot retry; a batch that can retry gets 503', async () => {
    c = await collectorWithSite('example.com', { maxLoopLagMs: 50, limits: { perAddress: 0, perSite: 0 } })
    const [kept, retried] = [pageview(), pageview()]
    // A long write, as the collector's own SQLite commits are: the loop runs 300 ms late.
    const until = performance.now() + 300
    while (performance.now() < until) {}
    const [beacon, fetched] = await Promise.all([sendBeacon(`${c.url}/e`, 'https://www.example.com', JSON.stringify(batch(c.site.id, [kept]))), c.post(batch(c.site.id, [retried]))])
    expect(fetched.status).toBe(503)
    expect(beacon).toBe(200)
    expect((await c.events()).map((e) => e.id)).toEqual([kept.id])
  })
})
