import { afterEach, describe, expect, it } from 'vitest'
import { openPage, QUEUE_STUB } from './harness'

let page: Awaited<ReturnType<typeof openPage>> | undefined
afterEach(async () => {
  await page?.close()
  page = undefined
})

describe('The waymark() command function', () => {
  it('runs calls queued by the stub before the snippet loaded, in order', async () => {
    page = await openPage({
      url: 'https://www.example.com/start',
      before: `${QUEUE_STUB}; waymark('page', {step: 1}); waymark('page', {step: 2})`,
    })
    await page.advance(1000)
    const views = page.events().filter((event) => event.k === 'pageview')
    // The automatic first view, then the two queued calls in the order they were made.
    expect(views.map((event) => event.p)).toEqual([undefined, { step: 1 }, { step: 2 }])
    // Each call begins a view, so the view before it is reported left.
    expect(page.events().filter((event) => event.k === 'page_engagement').map((event) => event.n)).toEqual(views.slice(0, 2).map((view) => view.id))
  })

  it('takes calls directly once loaded', async () => {
    page = await openPage({ before: QUEUE_STUB })
    page.window.eval(`waymark('page', {virtual: true})`)
    await page.advance(1000)
    // The view it begins ends the one before, which is reported left.
    expect(page.events().map((event) => event.k)).toEqual(['pageview', 'pageview', 'page_engagement'])
    expect(page.events()[1].p).toEqual({ virtual: true })
    expect(page.events()[2].n).toBe(page.events()[0].id)
  })

  it('ignores commands it does not know, without breaking the page', async () => {
    page = await openPage({ before: `${QUEUE_STUB}; waymark('no-such-command', 1)` })
    expect(() => page!.window.eval(`waymark('also-unknown')`)).not.toThrow()
    await page.advance(1000)
    expect(page.events()).toHaveLength(1)
  })
})
