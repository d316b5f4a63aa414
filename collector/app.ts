import { Hono } from 'hono'
import { readApi } from './api'
import { LIMITS } from '../shared/limits'
import { BodyTooLarge, readBody } from './body'
import type { GroupCommit } from './ingest/group-commit'
import { ingestBatch } from './ingest/ingest'
import { segmentApi } from './segment/routes'
import { cachedSiteLookup, siteBySecret } from './sites'
import type { SnippetAsset } from './snippet-asset'
import type { WaymarkConfig } from './stages/config'
import type { Store, StoredEvent } from './store/types'

export interface AppParts {
  store: Store
  commits: GroupCommit<StoredEvent>
  snippet: SnippetAsset
  /** The journeys exports and reports speak of. */
  config: WaymarkConfig
}

/** The collector's routes. Each one hands the request to a function that knows nothing of HTTP. */
export function createApp({ store, commits, snippet, config }: AppParts): Hono {
  const app = new Hono()
  const findSite = cachedSiteLookup(store)

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
      receivedAt: Date.now(),
    })
    return 'error' in outcome ? c.json({ error: outcome.error }, outcome.status) : c.json(outcome.reply, outcome.status)
  })

  app.route('/api', readApi(store, config))
  app.route('/v1', segmentApi(commits, findSite, siteBySecret(store)))

  app.get('/healthz', (c) => c.text('ok'))
  app.get('/readyz', async (c) =>
    (await store.writable()) ? c.text('ready') : c.text('the database is not writable', 503),
  )

  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404))
  app.onError((error, c) => {
    console.error('waymark: request failed:', error)
    c.header('Retry-After', '1')
    return c.json({ error: 'the collector could not handle this request now; retry shortly' }, 503)
  })
  return app
}
