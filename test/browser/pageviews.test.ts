import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ULID_PATTERN } from '../../shared/limits'
import { launchChromium } from './chromium'
import { freePort, servePages, startWaymark, waymark } from './processes'

interface Row {
  id: string
  visitor_id: string
  kind: string
  path: string
  url: string
  title: string
  referrer: string | null
  utm_source: string | null
  utm_medium: string | null
  utm_campaign: string | null
  gclid: string | null
  browser: string
  is_bot: number
}

const dir = mkdtempSync(join(tmpdir(), 'waymark-browser-'))
const db = join(dir, 'waymark.db')
let browser: Browser
let collector: Awaited<ReturnType<typeof startWaymark>>
let site: Awaited<ReturnType<typeof servePages>>
let tag: string

beforeAll(async () => {
  const port = await freePort()
  // Exactly what the README tells a site owner to do: add the site, start the collector, paste the tag.
  const added = await waymark('site', 'add', 'localhost', '--db', db, '--port', String(port))
  tag = added.match(/<script[^>]*><\/script>/)![0]
  collector = await startWaymark(['--port', String(port), '--db', db])
  const page = (title: string, body: string) =>
    `<!doctype html><html><head><title>${title}</title>${tag}</head><body>${body}</body></html>`
  site = await servePages({
    '/': page('Home', '<a id="to-pricing" href="/pricing">Pricing</a>'),
    '/pricing': page(
      'Pricing',
      `<button id="enterprise" onclick="history.pushState({}, '', '/pricing/enterprise'); document.title = 'Enterprise'">Enterprise</button>`,
    ),
  })
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await collector?.stop()
  site?.server.close()
  rmSync(dir, { recursive: true, force: true })
})

const pageviews = () => {
  const connection = new Database(db, { readonly: true })
  try {
    return connection.prepare("SELECT * FROM events WHERE kind = 'pageview' ORDER BY occurred_at, id").all() as Row[]
  } finally {
    connection.close()
  }
}

async function waitForRows(count: number, timeoutMs = 15_000): Promise<Row[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const rows = pageviews()
    if (rows.length >= count || Date.now() > deadline) return rows
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('A pasted tag in a real browser', () => {
  it('records the landing page, a followed link and a pushState navigation in SQLite', async () => {
    expect(tag).toMatch(/^<script defer src="http:\/\/localhost:\d+\/w\.js" data-site="[a-z2-7]{12}"><\/script>$/)
    const context = await browser.newContext()
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))

    await page.goto(`${site.url}/?utm_source=newsletter&utm_medium=email&utm_campaign=spring-launch&gclid=abc123`, {
      referer: 'https://www.google.com/',
    })
    await page.waitForFunction(() => typeof (window as { waymark?: unknown }).waymark === 'function')
    await page.click('#to-pricing')
    await page.waitForURL(`${site.url}/pricing`)
    await page.waitForFunction(() => typeof (window as { waymark?: unknown }).waymark === 'function')
    await page.click('#enterprise')
    // Leaving the site: the page hides, and what is left in the queue goes with sendBeacon.
    await page.goto('about:blank')

    const rows = await waitForRows(3)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(pageviews()).toHaveLength(3) // nothing counted twice, however the batches left
    expect(errors).toEqual([])

    expect(rows.map((row) => row.path)).toEqual(['/', '/pricing', '/pricing/enterprise'])
    const [landing, pricing, enterprise] = rows
    expect(landing).toMatchObject({
      referrer: 'https://www.google.com/',
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: 'spring-launch',
      gclid: 'abc123',
      title: 'Home',
      browser: 'Chrome',
      is_bot: 0,
    })
    // The followed link's referrer is the site itself: not an external referrer, so not kept.
    expect(pricing).toMatchObject({ referrer: null, utm_source: null, title: 'Pricing' })
    expect(enterprise).toMatchObject({ referrer: null, url: `${site.url}/pricing/enterprise` })

    const visitors = new Set(rows.map((row) => row.visitor_id))
    expect(visitors.size).toBe(1)
    const [visitor] = visitors
    expect(visitor).toMatch(ULID_PATTERN)
    // The same visitor id the page keeps in its own first-party storage.
    await page.goto(`${site.url}/pricing`)
    expect(await page.evaluate(() => localStorage.getItem('waymark_vid'))).toBe(visitor)
    await context.close()
  })

  it('serves the snippet compressed, with caching headers and an ETag', async () => {
    const src = tag.match(/src="([^"]+)"/)![1]
    const response = await fetch(src, { headers: { 'Accept-Encoding': 'gzip' } })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-encoding')).toBe('gzip')
    expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/)
    const etag = response.headers.get('etag')!
    expect(etag).toMatch(/^".+"$/)
    const again = await fetch(src, { headers: { 'If-None-Match': etag } })
    expect(again.status).toBe(304)
  })
})
