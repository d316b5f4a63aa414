import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { batch, collectorWithSite, pageview } from './helpers'

let c: Awaited<ReturnType<typeof collectorWithSite>>
beforeAll(async () => {
  c = await collectorWithSite()
})
afterAll(() => c.close())

const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'
const GOOGLEBOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'

async function storeOne(overrides: Parameters<typeof pageview>[0] = {}, headers: Record<string, string> = {}, batchOverrides = {}) {
  const body = batch(c.site.id, [pageview(overrides)], batchOverrides)
  expect((await c.post(body, headers)).status).toBe(200)
  const [event] = await c.events(body.v)
  return event
}

describe('Enrichment on arrival', () => {
  it('reads UTM values and ad click ids from the page URL', async () => {
    const event = await storeOne({
      u: 'https://www.example.com/lp?utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=crm+tool&utm_content=ad1&gclid=G&fbclid=F&msclkid=M&li_fat_id=L',
    })
    expect(event).toMatchObject({
      path: '/lp',
      utmSource: 'google',
      utmMedium: 'cpc',
      utmCampaign: 'brand',
      utmTerm: 'crm tool',
      utmContent: 'ad1',
      gclid: 'G',
      fbclid: 'F',
      msclkid: 'M',
      liFatId: 'L',
    })
  })

  it('keeps an external referrer (its origin and path only) and drops one from the site itself', async () => {
    expect((await storeOne({ r: 'https://www.google.com/search?q=my+name' })).referrer).toBe('https://www.google.com/search')
    expect((await storeOne({ r: 'https://www.example.com/previous' })).referrer).toBeNull()
    expect((await storeOne({ r: 'https://blog.example.com/post' })).referrer).toBeNull()
  })

  it('stores only UTM values and click ids of a URL\'s query: a GET form\'s fields are never written', async () => {
    const event = await storeOne({ u: 'https://www.example.com/thanks?email=ada%40acme.io&phone=0207946&utm_source=nl&gclid=G#x' })
    expect(event.url).toBe('https://www.example.com/thanks?utm_source=nl&gclid=G')
    expect(JSON.stringify(event)).not.toMatch(/ada|0207946/)
  })

  it('records browser, OS and device class from the user agent', async () => {
    expect(await storeOne()).toMatchObject({ browser: 'Chrome', os: 'Windows', device: 'desktop', isBot: false })
    expect(await storeOne({}, { 'User-Agent': IPHONE_UA })).toMatchObject({
      browser: 'Mobile Safari',
      os: 'iOS',
      device: 'mobile',
      isBot: false,
    })
  })

  it('flags bots and crawlers', async () => {
    expect((await storeOne({}, { 'User-Agent': GOOGLEBOT_UA })).isBot).toBe(true)
    expect((await storeOne({}, { 'User-Agent': 'Mozilla/5.0 HeadlessChrome/120.0.0.0' })).isBot).toBe(true)
  })

  it('keeps the screen width, language and time zone the snippet sent', async () => {
    expect(await storeOne({}, {}, { sw: 390, l: 'de-DE', z: 'Europe/Berlin' })).toMatchObject({
      screenWidth: 390,
      language: 'de-DE',
      timezone: 'Europe/Berlin',
    })
  })

  it('stamps the time received, and corrects the browser clock with the batch send time', async () => {
    const before = Date.now()
    // The browser's clock runs an hour fast: the event happened 5 s before its batch was sent.
    const fast = Date.now() + 3600e3
    const event = await storeOne({ t: fast - 5000 }, {}, { t: fast })
    expect(event.receivedAt).toBeGreaterThanOrEqual(before)
    expect(event.receivedAt).toBeLessThanOrEqual(Date.now())
    expect(event.receivedAt - event.occurredAt).toBeGreaterThanOrEqual(4900)
    expect(event.receivedAt - event.occurredAt).toBeLessThanOrEqual(5100)
  })

  it('never writes the client IP address to disk', async () => {
    const address = '203.0.113.77'
    await storeOne({}, { 'X-Forwarded-For': address, 'X-Real-IP': address })
    await c.collector.store.writable()
    for (const file of [c.dbPath, `${c.dbPath}-wal`]) {
      let bytes = ''
      try {
        bytes = readFileSync(file).toString('latin1')
      } catch {}
      expect(bytes).not.toContain(address)
      expect(bytes).not.toContain('127.0.0.1')
    }
  })
})
