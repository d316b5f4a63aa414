import { afterEach, describe, expect, it } from 'vitest'
import { openPage } from './harness'

let page: Awaited<ReturnType<typeof openPage>> | undefined
afterEach(async () => {
  await page?.close()
  page = undefined
})

describe('Transport', () => {
  it('batches events made close together into one request', async () => {
    page = await openPage()
    page.window.history.pushState({}, '', '/a')
    page.window.history.pushState({}, '', '/b')
    await page.advance(999)
    expect(page.sent).toHaveLength(0)
    await page.advance(1)
    expect(page.sent).toHaveLength(1)
    // Three page views, and the reading reports of the two views left.
    expect(page.sent[0].batch.e.map((event) => event.k)).toEqual(['p', 'e', 'p', 'e', 'p'])
    expect(page.sent[0].via).toBe('fetch')
  })

  it('stamps each batch with its send time, for clock-skew correction', async () => {
    page = await openPage()
    await page.advance(1000)
    expect(page.sent[0].batch.t).toBeTypeOf('number')
  })

  it('sends at once with sendBeacon when the page is hidden', async () => {
    page = await openPage()
    await page.hide()
    expect(page.sent).toEqual([expect.objectContaining({ via: 'beacon' })])
    // The page view, and the reading report that leaving it adds.
    expect(page.events().map((event) => event.k)).toEqual(['pageview', 'page_engagement'])
  })

  it('sends with sendBeacon on pagehide', async () => {
    page = await openPage()
    page.window.dispatchEvent(new page.window.Event('pagehide'))
    expect(page.sent.map((request) => request.via)).toEqual(['beacon'])
  })

  it('retries a failed send with backoff, and never drops the events', async () => {
    const answers: (number | 'offline')[] = ['offline', 503, 429, 200]
    page = await openPage({ respond: (attempt) => answers[attempt] })
    await page.advance(1000) // first try: offline
    await page.advance(1000) // retry after 1 s: 503
    expect(page.sent).toHaveLength(2)
    await page.advance(1999) // the next wait is 2 s
    expect(page.sent).toHaveLength(2)
    await page.advance(1) // 429
    await page.advance(4000) // then 4 s: accepted
    expect(page.sent).toHaveLength(4)
    const ids = page.sent.map((request) => request.batch.e.map((event) => event.id).join())
    expect(new Set(ids).size).toBe(1) // the same event each time, with the same id
    await page.advance(120_000)
    expect(page.sent).toHaveLength(4)
  })

  it('resends a failed batch before newer events, with a fresh send time', async () => {
    page = await openPage({ respond: (attempt) => (attempt === 0 ? 'offline' : 200) })
    await page.advance(1000)
    page.window.history.pushState({}, '', '/later')
    await page.advance(1000)
    // Page views only: the reading report of "/" leaves with "/later", the move that ended it.
    const paths = page.sent.map((request) => request.batch.e.filter((event) => event.k === 'p').map((event) => new URL(event.u).pathname))
    expect(paths).toEqual([['/'], ['/'], ['/later']])
    expect(page.sent[0].batch.e.map((event) => event.id)).toEqual(page.sent[1].batch.e.map((event) => event.id))
    expect(page.sent[1].batch.t).toBeGreaterThan(page.sent[0].batch.t)
  })

  it('does not resend events the collector judged (a 400 names the rejected ones and keeps the rest)', async () => {
    page = await openPage({ respond: () => 400 })
    await page.advance(1000)
    await page.advance(120_000)
    expect(page.sent).toHaveLength(1)
  })

  it('sends an event whose properties cannot be turned into JSON without them, and loses nothing else', async () => {
    page = await openPage({ before: "window.waymark = function(){(waymark.q = waymark.q || []).push(arguments)}" })
    page.window.eval(`const cyclic = {}; cyclic.self = cyclic; waymark('track', 'Clicked', {el: cyclic}); waymark('track', 'Fine', {a: 1})`)
    await page.advance(1000)
    expect(page.events().map((event) => [event.n, event.p])).toEqual([
      [undefined, undefined],
      ['Clicked', undefined],
      ['Fine', { a: 1 }],
    ])
  })

  it('keeps each request under 60 KB by splitting large batches', async () => {
    page = await openPage({ before: "window.waymark = function(){(waymark.q = waymark.q || []).push(arguments)}" })
    page.window.eval(`for (let i = 0; i < 40; i++) waymark('track', 'Big', {text: 'x'.repeat(1000), more: 'y'.repeat(1000)})`)
    await page.advance(1000)
    expect(page.sent.length).toBeGreaterThan(1)
    expect(page.events()).toHaveLength(41)
    for (const request of page.sent) expect(JSON.stringify(request.batch).length).toBeLessThan(64 * 1024)
  })

  it('sends to data-api when the site proxies the collector through its own domain', async () => {
    page = await openPage({ attributes: { 'data-api': 'https://www.example.com/stats/e' } })
    await page.advance(1000)
    expect(page.sent[0].url).toBe('https://www.example.com/stats/e')
  })

  it('sends bodies as a string, so the browser makes them text/plain and needs no CORS preflight', async () => {
    const bodies: unknown[] = []
    page = await openPage()
    const fetch = page.window.fetch
    Object.assign(page.window, {
      fetch: (url: string, init: { body: unknown; headers?: unknown; keepalive?: boolean }) => {
        bodies.push(init)
        return fetch(url, init as never)
      },
    })
    await page.advance(1000)
    expect(bodies).toEqual([expect.objectContaining({ keepalive: true, method: 'POST' })])
    const init = bodies[0] as { body: unknown; headers?: unknown }
    expect(typeof init.body).toBe('string')
    expect(init.headers).toBeUndefined()
  })
})

describe('Transport across page loads', () => {
  it('keeps what it could not send in first-party storage, and the next page sends it first', async () => {
    page = await openPage({ respond: () => 'offline' })
    page.window.history.pushState({}, '', '/pricing')
    await page.advance(1000)
    const kept = page.window.localStorage.getItem('waymark_q')!
    const lost = page.events().map((e) => e.id)
    expect(page.events().map((e) => e.k)).toEqual(['pageview', 'page_engagement', 'pageview'])
    await page.close()

    // The visitor reloads once the network is back.
    page = await openPage({ storage: { waymark_q: kept } })
    await page.advance(1000)
    const sent = page.events().map((e) => e.id)
    expect(sent.slice(0, 3)).toEqual(lost) // the earlier page's, first, with their own ids
    expect(sent).toHaveLength(4) // and this page's view
    // Acknowledged: nothing is kept any more.
    expect(page.window.localStorage.getItem('waymark_q')).toBeNull()
  })

  it("keeps another tab's unsent batches when it keeps its own, and drops only those it settled", async () => {
    let offline = true
    page = await openPage({ respond: () => (offline ? 'offline' : 200) })
    await page.advance(1000)
    // Meanwhile another tab of the site, offline too, keeps a batch of its own in the same storage.
    const theirs = [{ s: 'site1', v: '01HZZZZZZZZZZZZZZZZZZZZZZZ' }, [JSON.stringify({ id: '01HYYYYYYYYYYYYYYYYYYYYYYY', k: 't', t: 1, u: 'https://www.example.com/', n: 'Other tab' })]]
    const stored = JSON.parse(page.window.localStorage.getItem('waymark_q')!)
    page.window.localStorage.setItem('waymark_q', JSON.stringify([...stored, theirs]))
    page.window.eval("waymark('track', 'Mine')")
    await page.advance(1000)
    const names = () => (JSON.parse(page!.window.localStorage.getItem('waymark_q')!) as [unknown, string[]][]).flatMap(([, events]) => events.map((e) => JSON.parse(e).n ?? JSON.parse(e).k))
    expect(names()).toEqual(['Other tab', 'p', 'Mine'])
    // Back online: this tab's batches are acknowledged and go; the other tab's stays for it to send.
    offline = false
    await page.advance(60_000)
    expect(names()).toEqual(['Other tab'])
  })

  it('keeps a bounded amount, dropping the oldest first', async () => {
    page = await openPage({ respond: () => 'offline' })
    page.window.eval("for (let i = 0; i < 400; i++) waymark('track', 'Scrolled', { text: 'x'.repeat(200), i })")
    await page.advance(60_000)
    const kept = page.window.localStorage.getItem('waymark_q')!
    expect(kept.length).toBeLessThanOrEqual(30_000)
    const events = (JSON.parse(kept) as [unknown, string[]][]).flatMap(([, events]) => events.map((e) => JSON.parse(e)))
    // The newest are the ones kept.
    expect(events.at(-1).p.i).toBe(399)
    expect(events.length).toBeGreaterThan(50)
  })
})
