import type { Context, Next } from 'hono'
import { Hono } from 'hono'
import { readApi } from './api'
import { reportsHere, type ReportRunner } from './reports/threads'
import { LIMITS } from '../shared/limits'
import { BodyTooLarge, incomingOf, privacySignal, readBody } from './body'
import { DEFAULT_RATE_LIMITS, loopLag, MAX_LOOP_LAG_MS, MAX_PENDING_EVENTS, tokenBuckets, type RateLimits } from './ingest/admission'
import type { GroupCommit } from './ingest/group-commit'
import { ingestBatch } from './ingest/ingest'
import { segmentApi } from './segment/routes'
import { cachedSiteLookup, siteBySecret } from './sites'
import type { DashboardAsset, SnippetAsset } from './snippet-asset'
import type { WaymarkConfig } from './stages/config'
import { NotSupportedByStore, QueuedInStore, type Store, type StoredEvent } from './store/types'

export interface AppParts {
  store: Store
  commits: GroupCommit<StoredEvent>
  snippet: SnippetAsset
  /** The dashboard at /; none, none served. */
  dashboard?: DashboardAsset
  /** The journeys exports and reports speak of. */
  config: WaymarkConfig
  limits?: RateLimits
  /** Behind a reverse proxy: take the client's address from X-Forwarded-For. */
  trustProxy?: boolean
  /** Events waiting for a commit past which batches get 503 (default MAX_PENDING_EVENTS). */
  maxPendingEvents?: number
  /** Event-loop lag past which batches get 503 (default MAX_LOOP_LAG_MS). */
  maxLoopLagMs?: number
  /** Set once the collector is stopping: it then takes no new request. */
  lifecycle?: { stopping: boolean }
  /** Acknowledge bots' events without storing them (default: store them, out of sessions and journeys). */
  dropBots?: boolean
  /** Where reports run (default: in this process; the collector gives a SQLite file's reports threads of their own). */
  reports?: ReportRunner
}

/** The client's address, for rate limiting only: it is never stored. */
function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    // The proxy appends the address it saw: the last entry. Those before it are whatever the client sent.
    const forwarded = c.req.header('X-Forwarded-For')?.split(',').at(-1)?.trim()
    if (forwarded) return forwarded
  }
  return incomingOf(c)?.socket.remoteAddress ?? ''
}

/** Turns a request away before reading it: its body is drained, so the connection can go on. */
function turnAway(c: Context, status: 429 | 503, retryAfter: number, error: string) {
  incomingOf(c)?.resume()
  c.header('Retry-After', String(retryAfter))
  c.header('Access-Control-Allow-Origin', '*')
  return c.json({ error }, status)
}

/** The collector's routes. Each one hands the request to a function that knows nothing of HTTP. */
export function createApp({ store, commits, snippet, dashboard, config, limits = DEFAULT_RATE_LIMITS, trustProxy = false, maxPendingEvents = MAX_PENDING_EVENTS, maxLoopLagMs = MAX_LOOP_LAG_MS, lifecycle = { stopping: false }, dropBots = false, reports = reportsHere(store, config) }: AppParts): Hono {
  const app = new Hono()
  app.use('*', async (c, next) => {
    if (!lifecycle.stopping) return next()
    c.header('Connection', 'close')
    return turnAway(c, 503, 1, 'the collector is stopping; retry in a second')
  })
  const findSite = cachedSiteLookup(store)
  const byAddress = tokenBuckets(limits.perAddress)
  const bySite = tokenBuckets(limits.perSite)
  const lag = loopLag()
  /** How long a site that sent too much should wait (0: go ahead). */
  const siteQuota = (siteId: string, events: number) => bySite.take(siteId, events)

  // Past what the database can write, new batches are turned away at once: memory stays bounded,
  // the snippet and Segment libraries retry after Retry-After, and it recovers by itself.
  // A beacon (the tag's last batch as the page is left) can neither read the answer nor retry, so
  // turned away it is lost: lag alone does not turn one away, only the bound on what waits for a
  // commit. Browsers mark a beacon Sec-Fetch-Mode: no-cors; the tag's own fetch is cors.
  const admit = async (c: Context, next: Next) => {
    if (c.req.method !== 'POST') return next()
    const canRetry = c.req.header('Sec-Fetch-Mode') !== 'no-cors'
    if (commits.pending > maxPendingEvents || (canRetry && lag() > maxLoopLagMs)) return turnAway(c, 503, 1, 'the collector is busy writing; retry in a second')
    const wait = byAddress.take(clientAddress(c, trustProxy))
    if (wait) return turnAway(c, 429, wait, `too many requests from this address; retry in ${wait} s`)
    await next()
  }
  app.use('/e', admit)
  app.use('/v1/*', admit)

  app.get('/w.js', (c) => {
    c.header('Content-Type', 'application/javascript; charset=utf-8')
    // An hour fresh, then revalidated by ETag: a new release reaches every page within the hour.
    c.header('Cache-Control', 'public, max-age=3600, stale-while-revalidate=86400')
    c.header('ETag', snippet.etag)
    c.header('Vary', 'Accept-Encoding')
    c.header('Cross-Origin-Resource-Policy', 'cross-origin')
    if (c.req.header('If-None-Match')?.split(/\s*,\s*/).includes(snippet.etag)) return c.body(null, 304)
    const accepted = c.req.header('Accept-Encoding') ?? ''
    if (/\bbr\b/.test(accepted)) {
      c.header('Content-Encoding', 'br')
      return c.body(new Uint8Array(snippet.brotli))
    }
    if (/\bgzip\b/.test(accepted)) {
      c.header('Content-Encoding', 'gzip')
      return c.body(new Uint8Array(snippet.gzip))
    }
    return c.body(snippet.code)
  })

  // The snippet posts text/plain, a simple request with no preflight; this answers tools that preflight anyway.
  app.options('/e', (c) => {
    c.header('Access-Control-Allow-Origin', '*')
    c.header('Access-Control-Allow-Methods', 'POST')
    c.header('Access-Control-Allow-Headers', 'Content-Type')
    c.header('Access-Control-Max-Age', '86400')
    return c.body(null, 204)
  })

  app.post('/e', async (c) => {
    c.header('Access-Control-Allow-Origin', '*')
    let body: string
    try {
      body = await readBody(c, LIMITS.bodyBytes)
    } catch (error) {
      if (error instanceof BodyTooLarge)
        return c.json({ error: `the body is larger than ${LIMITS.bodyBytes} bytes: send fewer events per batch` }, 413)
      throw error
    }
    const outcome = await ingestBatch(findSite, commits, body, {
      origin: c.req.header('Origin'),
      referer: c.req.header('Referer'),
      userAgent: c.req.header('User-Agent'),
      // The store's clock: on ClickHouse, the one every collector and the processor share.
      receivedAt: store.now(),
      privacySignal: privacySignal(c),
      dropBots,
    }, siteQuota)
    if ('retryAfter' in outcome) c.header('Retry-After', String(outcome.retryAfter))
    return 'error' in outcome ? c.json({ error: outcome.error }, outcome.status) : c.json(outcome.reply, outcome.status)
  })

  if (dashboard) {
    // No secret in a URL: the page asks for the read token and keeps it in the tab's sessionStorage.
    app.get('/', (c) => {
      c.header('Content-Security-Policy', "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
      c.header('X-Content-Type-Options', 'nosniff')
      c.header('Referrer-Policy', 'no-referrer')
      c.header('Cache-Control', 'no-cache')
      return c.html(dashboard.html)
    })
    app.get('/dashboard.js', (c) => {
      c.header('Content-Type', 'application/javascript; charset=utf-8')
      c.header('Cache-Control', 'no-cache')
      c.header('ETag', dashboard.etag)
      if (c.req.header('If-None-Match') === dashboard.etag) return c.body(null, 304)
      return c.body(dashboard.script)
    })
  }

  const findBySecret = siteBySecret(store)
  app.route('/api', readApi(store, config, findBySecret, reports))
  app.route('/v1', segmentApi(commits, findSite, findBySecret, siteQuota, () => store.now()))

  app.get('/healthz', (c) => c.text('ok'))
  app.get('/readyz', async (c) =>
    (await store.writable()) ? c.text('ready') : c.text('the database is not writable', 503),
  )

  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404))
  app.onError((error, c) => {
    if (error instanceof NotSupportedByStore) return c.json({ error: error.message }, 501)
    if (error instanceof QueuedInStore) return c.json({ queued: error.requestId, message: error.message }, 202)
    console.error('waymark: request failed:', error)
    c.header('Retry-After', '1')
    return c.json({ error: 'the collector could not handle this request now; retry shortly' }, 503)
  })
  return app
}
