import type { Context } from 'hono'
import { Hono } from 'hono'
import { CONTENT_TYPES } from './export/formats'
import { exportFileName, exportRows, parseExport } from './export/export'
import { NotFound } from './reports'
import { ReportFailed, type ReportRunner } from './reports/threads'
import { personRef, RequestError } from './request-params'
import type { FindSiteBySecret } from './sites'
import type { WaymarkConfig } from './stages/config'
import type { Site, Store } from './store/types'

type Access = { site: Site } | { status: 401 | 403 | 404; error: string }

const TOKEN_NAMES = { readToken: ['read token', 'rt_'], adminToken: ['admin token', 'at_'] } as const

/** The site a request may act on: its token's, which must be the one it names in `site=` if it names one. */
async function access(store: Store, findBySecret: FindSiteBySecret, c: Context, kind: 'readToken' | 'adminToken'): Promise<Access> {
  const [name, prefix] = TOKEN_NAMES[kind]
  const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('Authorization') ?? '')?.[1]
  if (!token) return { status: 401, error: `send the site's ${name} as Authorization: Bearer ${prefix}… (waymark site add prints it)` }
  const site = await findBySecret(token, kind)
  if (!site) return { status: 401, error: `this ${name} opens no site: check it, or add a site with waymark site add` }
  const named = c.req.query('site')
  if (named !== undefined && named !== site.id) {
    const exists = await store.findSite(named)
    return exists ? { status: 403, error: `this ${name} is for another site than ${named}` } : { status: 404, error: `no site ${named}` }
  }
  return { site }
}

/** Turns a thrown request error into its answer; anything else is the collector's fault, and goes up. */
function answerError(c: Context, error: unknown) {
  if (error instanceof NotFound) return c.json({ error: error.message }, 404)
  if (error instanceof RequestError) return c.json({ error: error.message }, 400)
  if (error instanceof ReportFailed) return c.json({ error: error.message }, 503)
  throw error
}

/** Pulls the next chunk only when the client has taken the last one; a client that goes away stops the query. */
function streamOf(chunks: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(controller) {
      const { value, done } = await chunks.next()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    async cancel() {
      await chunks.return(undefined)
    },
  })
}

/** Exports and reports for analysts and marketers behind a site's read token; erasure behind its admin token. */
export function readApi(store: Store, config: WaymarkConfig, findBySecret: FindSiteBySecret, reports: ReportRunner) {
  const api = new Hono<{ Variables: { site: Site } }>()
  const guard = (kind: 'readToken' | 'adminToken') => async (c: Context, next: () => Promise<void>) => {
    c.header('Cache-Control', 'private, no-store')
    const granted = await access(store, findBySecret, c, kind)
    if ('error' in granted) {
      if (granted.status === 401) c.header('WWW-Authenticate', 'Bearer realm="waymark"')
      return c.json({ error: granted.error }, granted.status)
    }
    c.set('site', granted.site)
    await next()
  }
  api.use('/export/*', guard('readToken'))
  api.use('/reports/*', guard('readToken'))
  api.use('/people', guard('adminToken'))
  api.use('/site', guard('readToken'))

  // What the dashboard needs to draw its pickers: the site the token opens, and the journeys.
  api.get('/site', (c) => {
    const site = c.get('site')
    return c.json({ id: site.id, domain: site.domain, journeys: config.journeys.map((j) => ({ name: j.name, stages: j.stages.map((s) => s.name) })) })
  })

  // Erasure: DELETE /api/people?email=… (or userId=, person=).
  api.delete('/people', async (c) => {
    const ref = personRef(c.req.query())
    if (!ref) return c.json({ error: 'say whom to erase: email=, userId= or person=' }, 400)
    const erased = await store.erasePerson(c.get('site').id, ref)
    return erased ? c.json({ erased }) : c.json({ error: `no person with ${Object.entries(ref)[0].join(' ')} on this site` }, 404)
  })

  api.get('/export/:dataset', (c) => {
    const site = c.get('site')
    try {
      const request = parseExport(site.id, config, { ...c.req.query(), dataset: c.req.param('dataset') })
      c.header('Content-Type', CONTENT_TYPES[request.format])
      c.header('Content-Disposition', `attachment; filename="${exportFileName(request)}"`)
      return c.body(streamOf(exportRows(store, request)))
    } catch (error) {
      return answerError(c, error)
    }
  })

  api.get('/reports/:report', async (c) => {
    const site = c.get('site')
    try {
      return c.body(await reports.run(site.id, c.req.param('report'), c.req.query()), 200, { 'Content-Type': 'application/json' })
    } catch (error) {
      return answerError(c, error)
    }
  })
  return api
}
