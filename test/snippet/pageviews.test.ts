import { afterEach, describe, expect, it } from 'vitest'
import { ULID_PATTERN } from '../../shared/limits'
import { openPage } from './harness'

let page: Awaited<ReturnType<typeof openPage>> | undefined
afterEach(async () => {
  await page?.close()
  page = undefined
})

describe('Page views', () => {
  it('records the first load with URL, title, referrer and the browser context', async () => {
    page = await openPage({ url: 'https://www.example.com/pricing?plan=team', referrer: 'https://www.google.com/' })
    page.window.document.title = 'Pricing'
    await page.advance(1000)
    expect(page.sent).toHaveLength(1)
    const { batch, url } = page.sent[0]
    expect(url).toBe('https://collector.test/e')
    expect(batch.s).toBe('site1')
    expect(batch.v).toMatch(ULID_PATTERN)
    expect(batch.sw).toBeTypeOf('number')
    expect(batch.l).toBeTypeOf('string')
    expect(batch.z).toBeTypeOf('string')
    expect(batch.e).toEqual([
      expect.objectContaining({ k: 'p', u: 'https://www.example.com/pricing?plan=team', r: 'https://www.google.com/' }),
    ])
    expect(batch.e[0].id).toMatch(ULID_PATTERN)
  })

  it('sends the whole URL, so the collector reads UTM values and ad click ids from it', async () => {
    const url =
      'https://www.example.com/?utm_source=linkedin&utm_medium=paid&utm_campaign=q3&utm_term=crm&utm_content=v2&gclid=G1&fbclid=F1&msclkid=M1&li_fat_id=L1'
    page = await openPage({ url })
    await page.advance(1000)
    expect(page.events()[0].u).toBe(url)
  })

  it('leaves out the #fragment', async () => {
    page = await openPage({ url: 'https://www.example.com/docs#install' })
    await page.advance(1000)
    expect(page.events()[0].u).toBe('https://www.example.com/docs')
  })

  it('counts single-page-app navigation by pushState, replaceState and popstate', async () => {
    page = await openPage({ url: 'https://www.example.com/', referrer: 'https://news.example.org/' })
    const { history } = page.window
    history.pushState({}, '', '/features')
    history.replaceState({}, '', '/features/forms')
    history.pushState({}, '', '/pricing')
    history.back()
    await page.advance(10)
    page.window.dispatchEvent(new page.window.PopStateEvent('popstate'))
    await page.advance(1000)
    const views = page.events().filter((event) => event.k === 'pageview')
    const paths = views.map((event) => new URL(event.u).pathname)
    expect(paths.slice(0, 4)).toEqual(['/', '/features', '/features/forms', '/pricing'])
    expect(paths).toHaveLength(5)
    expect(paths[4]).toBe('/features/forms')
  })

  it('does not count the same URL twice', async () => {
    page = await openPage({ url: 'https://www.example.com/a' })
    page.window.history.replaceState({ scroll: 1 }, '', '/a')
    page.window.history.pushState({}, '', '/a#section')
    page.window.dispatchEvent(new page.window.PopStateEvent('popstate'))
    await page.advance(1000)
    expect(page.events()).toHaveLength(1)
  })

  it('sends the external referrer only with the first view of a page load', async () => {
    page = await openPage({ url: 'https://www.example.com/', referrer: 'https://www.bing.com/' })
    page.window.history.pushState({}, '', '/next')
    await page.advance(1000)
    const [first, second] = page.events()
    expect(first.r).toBe('https://www.bing.com/')
    expect(second.r).toBeUndefined()
  })

  it('gives every event its own id', async () => {
    page = await openPage()
    for (let i = 0; i < 20; i++) page.window.history.pushState({}, '', `/p${i}`)
    await page.advance(1000)
    const events = page.events()
    // 21 page views, and a reading report for each of the 20 views left.
    expect(events.filter((event) => event.k === 'pageview')).toHaveLength(21)
    expect(events.filter((event) => event.k === 'page_engagement')).toHaveLength(20)
    expect(new Set(events.map((event) => event.id)).size).toBe(41)
  })

  it('does nothing without data-site', async () => {
    page = await openPage({ attributes: { 'data-site': '' } })
    await page.advance(5000)
    expect(page.sent).toHaveLength(0)
  })
})

describe('Visitor id', () => {
  it("reads the visitor's time zone after the page has loaded, not while it loads, and keeps it for their next pages", async () => {
    page = await openPage()
    // Making an Intl.DateTimeFormat costs a page tens of ms: not on the tag's own turn.
    expect(page.window.localStorage.getItem('waymark_tz')).toBeNull()
    await page.advance(1000)
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone
    expect(page.sent[0].batch.z).toBe(zone)
    expect(page.window.localStorage.getItem('waymark_tz')).toBe(zone)
    await page.close()

    // The next page takes it from storage (a zone this machine is not in proves where it came from).
    page = await openPage({ storage: { waymark_tz: 'Asia/Tokyo' } })
    await page.advance(1000)
    expect(page.sent[0].batch.z).toBe('Asia/Tokyo')
  })

  it('keeps the anonymous visitor id in first-party storage, so a returning visitor is recognised', async () => {
    page = await openPage()
    await page.advance(1000)
    const visitor = page.sent[0].batch.v
    expect(page.window.localStorage.getItem('waymark_vid')).toBe(visitor)
    await page.close()

    page = await openPage({ storage: { waymark_vid: visitor } })
    await page.advance(1000)
    expect(page.sent[0].batch.v).toBe(visitor)
  })
})
