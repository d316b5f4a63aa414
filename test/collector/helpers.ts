import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ulid } from 'ulid'
import type { WireBatch, WireEvent } from '../../shared/wire'
import { startCollector, type CollectorOptions, type RunningCollector } from '../../collector/server'
import { addSite } from '../../collector/sites'
import type { StoredEvent } from '../../collector/store/types'

export const CHROME_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'

/** A collector on a free port with its own SQLite file, and a site for example.com. */
export async function collectorWithSite(domain = 'example.com', options: Partial<CollectorOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-test-'))
  const dbPath = join(dir, 'waymark.db')
  const collector: RunningCollector = await startCollector({
    port: 0,
    host: '127.0.0.1',
    dbPath,
    // Tests that load the store in this process block its event loop on purpose; only the admission tests judge its lag.
    maxLoopLagMs: Infinity,
    ...options,
  })
  const { site, writeKey, readToken, adminToken } = await addSite(collector.store, domain)
  const url = `http://127.0.0.1:${collector.port}`
  return {
    url,
    dbPath,
    site,
    writeKey,
    readToken,
    adminToken,
    collector,
    /** POSTs a body to /e as the snippet would from a page on the site. */
    post: (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${url}/e`, {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: { 'Content-Type': 'text/plain', Origin: `https://www.${domain}`, 'User-Agent': CHROME_UA, ...headers },
      }),
    events: async (visitorId?: string): Promise<StoredEvent[]> => {
      const found: StoredEvent[] = []
      for await (const event of collector.store.queryEvents({ siteId: site.id, visitorId })) found.push(event)
      return found
    },
    async close() {
      await collector.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export function pageview(overrides: Partial<WireEvent> = {}): WireEvent {
  return { id: ulid(), k: 'p', t: Date.now(), u: 'https://www.example.com/', ti: 'Home', ...overrides }
}

/** A visit that enters decision: the pricing page, the demo form sent, and the sign-up identified, a millisecond apart. */
export function demoRequest(origin: string, email: string, traits?: Record<string, unknown>, t = Date.now()): WireEvent[] {
  return [
    pageview({ t: t - 3, u: `${origin}/pricing` }),
    { id: ulid(), k: 'fu', t: t - 2, u: `${origin}/demo`, n: 'demo-request' },
    { id: ulid(), k: 'i', t: t - 1, u: `${origin}/demo`, n: email, ...(traits ? { p: traits } : {}) },
  ] as WireEvent[]
}

export function batch(siteId: string, events: unknown[], overrides: Partial<WireBatch> = {}): WireBatch {
  return { s: siteId, v: ulid(), t: Date.now(), sw: 1440, l: 'en-GB', z: 'Europe/London', e: events as WireEvent[], ...overrides }
}
