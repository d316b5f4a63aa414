import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ULID_PATTERN } from '../../shared/limits'
import { page, snippetLoaded, trackedSite } from './site'

interface Row {
  visitor_id: string
  path: string
  url: string
  title: string
  referrer: string | null
  utm_source: string | null
  utm_medium: string | null
  utm_campaign: string | null
  gclid: string | null
  timezone: string | null
  browser: string
  is_bot: number
}

let site: Awaited<ReturnType<typeof trackedSite>>
beforeAll(async () => {
  site = await trackedSite((tag) => ({
    '/': page(tag, 'Home', '<a id="to-pricing" href="/pricing">Pricing</a>'),
    '/pricing': page(
      tag,
      'Pricing',
      `<button id="enterprise" onclick="history.pushState({}, '', '/pricing/enterprise'); document.title = 'Enterprise'">Enterprise</button>`,
    ),
  }))
})
afterAll(() => site?.close())

const PAGEVIEWS = "SELECT * FROM events WHERE kind = 'pageview' ORDER BY occurred_at, id"

describe('A pasted tag in a real browser', () => {
  it('records the landing page, a followed link and a pushState navigation in SQLite', async () => {
    expect(site.tag).toMatch(/^<script defer src="http:\/\/localhost:\d+\/w\.js" data-site="[a-z2-7]{12}"><\/script>$/)
    const context = await site.browser.newContext({ timezoneId: 'Europe/Berlin' })
    const tab = await context.newPage()
    const errors: string[] = []
    tab.on('pageerror', (error) => errors.push(error.message))

    await tab.goto(`${site.url}/?utm_source=newsletter&utm_medium=email&utm_campaign=spring-launch&gclid=abc123`, {
      referer: 'https://www.google.com/',
    })
    await tab.waitForFunction(snippetLoaded)
    // Once the landing page is idle, the tag has read the time zone and kept it.
    await tab.waitForFunction(() => localStorage.getItem('waymark_tz') === 'Europe/Berlin')
    await tab.click('#to-pricing')
    await tab.waitForURL(`${site.url}/pricing`)
    await tab.waitForFunction(snippetLoaded)
    await tab.click('#enterprise')
    // Leaving the site: the page hides, and what is left in the queue goes with sendBeacon.
    await tab.goto('about:blank')

    const rows = await site.waitFor<Row>(3, PAGEVIEWS)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(site.query(PAGEVIEWS)).toHaveLength(3) // nothing counted twice, however the batches left
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
    // The next pages' batches carry the kept time zone from the start.
    expect(pricing.timezone).toBe('Europe/Berlin')
    expect(enterprise.timezone).toBe('Europe/Berlin')

    const visitors = new Set(rows.map((row) => row.visitor_id))
    expect(visitors.size).toBe(1)
    const [visitor] = visitors
    expect(visitor).toMatch(ULID_PATTERN)
    // The same visitor id the page keeps in its own first-party storage.
    await tab.goto(`${site.url}/pricing`)
    expect(await tab.evaluate(() => localStorage.getItem('waymark_vid'))).toBe(visitor)
    await context.close()
  })

  it('serves the snippet compressed, with caching headers and an ETag', async () => {
    const src = site.tag.match(/src="([^"]+)"/)![1]
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
