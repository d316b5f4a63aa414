import { afterEach, describe, expect, it } from 'vitest'
import { openPage } from './harness'

let page: Awaited<ReturnType<typeof openPage>> | undefined
afterEach(async () => {
  await page?.close()
  page = undefined
})

describe('Consent', () => {
  it("waymark('consent', false) drops what waits and sends nothing more, on this page and the next", async () => {
    page = await openPage()
    page.window.eval("waymark('consent', false)")
    page.window.eval("waymark('track', 'Clicked')")
    await page.advance(5000)
    expect(page.sent).toEqual([])
    const storage = { waymark_optout: page.window.localStorage.getItem('waymark_optout')! }
    await page.close()
    page = await openPage({ storage })
    await page.advance(5000)
    await page.hide()
    expect(page.sent).toEqual([])
  })

  it('a no given in another tab holds in this one from its next event', async () => {
    page = await openPage()
    await page.advance(1000)
    const before = page.sent.length
    // The other tab stores the answer in the site's shared storage.
    page.window.localStorage.setItem('waymark_optout', '1')
    page.window.eval("waymark('track', 'Clicked')")
    await page.advance(5000)
    await page.hide()
    expect(page.sent.length).toBe(before)
  })

  it('with data-consent="required", holds events until the visitor says yes, then sends them', async () => {
    page = await openPage({ attributes: { 'data-consent': 'required' } })
    page.window.eval("waymark('track', 'Clicked')")
    await page.advance(5000)
    await page.hide()
    expect(page.sent).toEqual([])
    page.window.eval("waymark('consent', true)")
    await page.advance(1000)
    // The reading report the hidden page made was held too.
    expect(page.events().map((e) => e.k)).toEqual(['pageview', 'track', 'page_engagement'])
    // The answer is remembered: the next page sends at once.
    const storage = { waymark_optout: page.window.localStorage.getItem('waymark_optout')! }
    await page.close()
    page = await openPage({ attributes: { 'data-consent': 'required' }, storage })
    await page.advance(1000)
    expect(page.events().map((e) => e.k)).toEqual(['pageview'])
  })

  it('with data-consent="required", a no drops what was held', async () => {
    page = await openPage({ attributes: { 'data-consent': 'required' } })
    page.window.eval("waymark('consent', false)")
    page.window.eval("waymark('consent', true)")
    await page.advance(1000)
    expect(page.sent).toEqual([]) // the page view waited, and went with the no
  })
})

describe('Automation', () => {
  it('marks batches from a browser driven by automation (navigator.webdriver), for the collector to count as a bot', async () => {
    page = await openPage({ before: "Object.defineProperty(navigator, 'webdriver', { value: true, configurable: true })" })
    await page.advance(1000)
    expect(page.sent[0].batch.b).toBe(1)
    await page.close()
    page = await openPage({ before: "Object.defineProperty(navigator, 'webdriver', { value: false, configurable: true })" })
    await page.advance(1000)
    expect(page.sent[0].batch.b).toBeUndefined()
  })
})
