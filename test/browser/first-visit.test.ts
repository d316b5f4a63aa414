import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { page, snippetLoaded, trackedSite } from './site'

let site: Awaited<ReturnType<typeof trackedSite>>
beforeAll(async () => {
  site = await trackedSite((tag) => ({ '/': page(tag, 'Home', '<h1>Welcome</h1>') }))
})
afterAll(() => site?.close())

describe("a new user's first look", () => {
  it('sees their own visit in the funnel a moment after pasting the tag', async () => {
    // The README's steps: site add, start (done by trackedSite), the tag in a page; then a visit.
    const visitor = await (await site.browser.newContext()).newPage()
    await visitor.goto(`${site.url}/`)
    await visitor.waitForFunction(snippetLoaded)
    await visitor.close() // leaving sends what is queued
    await site.waitFor(1, "SELECT id FROM events WHERE kind = 'pageview'")

    const dashboard = await (await site.browser.newContext()).newPage()
    await dashboard.goto(site.collectorUrl)
    await dashboard.fill('input[name=token]', site.readToken)
    await dashboard.click('button[type=submit]')
    await dashboard.waitForSelector('[data-stage=awareness] .stage-count')
    expect(await dashboard.getAttribute('[data-stage=awareness] .stage-count', 'data-people')).toBe('1')
  })
})
