// One server for the intake bench, in its own process so the load generator has the other core.
//   bare:      a Hono handler that reads the body and answers 204 (at /e and /v1/batch): the HTTP ceiling on this machine.
//   collector: the real collector on a fresh SQLite file, with one site for localhost.
// Prints {"port", "siteId", "writeKey", "dbPath"} on its first line once listening.
import { serve } from '@hono/node-server'
import { Hono, type Context } from 'hono'
import { mkdtempSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCollector } from '../collector/server'
import { addSite } from '../collector/sites'

const mode = process.argv[2]
if (mode === 'bare') {
  const app = new Hono()
  const answer = async (c: Context) => {
    await c.req.text()
    return c.body(null, 204)
  }
  app.post('/e', answer)
  app.post('/v1/batch', answer)
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
    console.log(JSON.stringify({ port: (server.address() as AddressInfo).port })),
  )
} else if (mode === 'collector') {
  const dbPath = join(mkdtempSync(join(tmpdir(), 'waymark-bench-')), 'waymark.db')
  const collector = await startCollector({ port: 0, host: '127.0.0.1', dbPath, limits: { perAddress: 0, perSite: 0 }, maxLoopLagMs: Infinity })
  const { site, writeKey } = await addSite(collector.store, 'localhost')
  console.log(JSON.stringify({ port: collector.port, siteId: site.id, writeKey, dbPath }))
  process.on('SIGTERM', async () => {
    await collector.close()
    process.exit(0)
  })
} else {
  console.error('usage: intake-server.ts bare|collector')
  process.exit(2)
}
