import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { page, snippetLoaded, trackedSite } from './site'

const SHOTS = join(process.cwd(), 'test-output')
const EMAIL = 'grace.hopper@cobol-works.example'

let site: Awaited<ReturnType<typeof trackedSite>>
beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  site = await trackedSite((tag) => ({
    // A case study long enough to scroll, its PDF at the end, and a tagged call to action.
    '/case-studies/acme': page(
      tag,
      'How Acme cut onboarding in half',
      `<article style="height: 4000px">The whole story…</article>
       <a id="pdf" href="/files/acme-case-study.pdf?sig=secret-token" download>Download the case study (PDF)</a>
       <button id="book" data-waymark-event="Book a demo" data-waymark-prop-placement="case-study" onclick="location.href = '/demo'">Book a demo</button>`,
    ),
    '/files/acme-case-study.pdf': '%PDF-1.4 a stand-in',
    '/demo': page(
      tag,
      'Request a demo',
      `<form id="demo-request" action="/thanks" data-waymark-identify>
        <input name="email" type="email" autocomplete="email" required>
        <button type="submit">Request a demo</button>
      </form>`,
    ),
    '/thanks': page(tag, 'Thanks', '<p>We will be in touch.</p>'),
  }))
})
afterAll(() => site?.close())

interface Row {
  id: string
  kind: string
  name: string | null
  path: string
  props: string | null
  scroll_depth: number | null
  engaged_ms: number | null
}

describe('Intent signals in a real browser, with no code on the page but the tag', () => {
  it('a visitor reads a case study to the end, downloads its PDF, books a demo and submits the form; the reports show that path', async () => {
    const context = await site.browser.newContext({ acceptDownloads: true })
    const tab = await context.newPage()
    const started = Date.now()
    await tab.goto(`${site.url}/case-studies/acme`)
    await tab.waitForFunction(snippetLoaded)
    await tab.mouse.move(200, 200)
    // Reading: scroll down the page a screen at a time, as a person does.
    for (let i = 0; i < 10; i++) {
      await tab.mouse.wheel(0, 500)
      await tab.waitForTimeout(120)
    }
    await tab.click('#pdf')
    await tab.click('#book')
    await tab.waitForURL(`${site.url}/demo`)
    await tab.waitForFunction(snippetLoaded)
    await tab.fill('[name=email]', EMAIL)
    await tab.click('button[type=submit]')
    await tab.waitForURL(/\/thanks/)
    await tab.waitForFunction(snippetLoaded)
    await tab.goto('about:blank')
    const elapsed = Date.now() - started

    // What was stored: the reading merged into the case study's page view, the download, the call to action.
    const [caseStudy] = await site.waitFor<Row>(1, "SELECT * FROM events WHERE kind = 'pageview' AND path = '/case-studies/acme' AND engaged_ms IS NOT NULL")
    expect(caseStudy.scroll_depth).toBe(100)
    expect(caseStudy.engaged_ms).toBeGreaterThan(500)
    expect(caseStudy.engaged_ms).toBeLessThan(elapsed)
    const [download] = await site.waitFor<Row>(1, "SELECT * FROM events WHERE kind = 'file_download'")
    expect(download.name).toBe(`${site.url}/files/acme-case-study.pdf`)
    expect(JSON.parse(download.props!)).toEqual({ text: 'Download the case study (PDF)' })
    const [cta] = await site.waitFor<Row>(1, "SELECT * FROM events WHERE kind = 'cta'")
    expect(cta.name).toBe('Book a demo')
    expect(JSON.parse(cta.props!)).toEqual({ placement: 'case-study' })
    await site.waitFor<Row>(1, "SELECT * FROM events WHERE kind = 'form_submit' AND name = 'demo-request'")
    await site.waitFor(1, 'SELECT * FROM people WHERE email = ?', EMAIL)
    // Nothing of the signed link's token is kept anywhere.
    expect(site.databaseBytes()).not.toContain('secret-token')
    // Every page view the tag counted is one row: the reading added to it, never a row of its own.
    const views = site.query<Row>("SELECT * FROM events WHERE kind = 'pageview' ORDER BY occurred_at")
    expect(views.map((v) => v.path)).toEqual(['/case-studies/acme', '/demo', '/thanks'])
    expect(site.query("SELECT * FROM events WHERE kind = 'page_engagement'")).toEqual([])

    // The content report: the case study and its PDF, read to the end by one person who is known now and went on to decision.
    const content = await site.report<{
      pages: { path: string; views: number; visitors: number; known: number; readPast75: number; read75Share: number; medianEngagedMs: number; stages: { stage: string; views: number }[]; influence: { converters: number; assisted: number } }[]
      files: { url: string; views: number; visitors: number; known: number; influence: { converters: number; assisted: number } }[]
    }>('content', 'journey=b2b')
    const study = content.pages.find((p) => p.path === '/case-studies/acme')!
    expect(study).toMatchObject({ views: 1, visitors: 1, known: 1, readPast75: 1, read75Share: 1, medianEngagedMs: caseStudy.engaged_ms })
    // The case study is what moved them into consideration, so it counts there.
    expect(study.stages.find((s) => s.stage === 'consideration')!.views).toBe(1)
    expect(study.influence).toMatchObject({ converters: 1, assisted: 1 })
    expect(content.files).toEqual([expect.objectContaining({ url: download.name, views: 1, visitors: 1, known: 1, influence: expect.objectContaining({ assisted: 1 }) })])

    // The CTA report: one click by one person, who submitted a form and reached decision within 7 days.
    const ctas = await site.report<{ ctas: { name: string; clicks: number; people: number; submittedForm: number; advanced: number; wentOn: number; byChannel: { key: string }[] }[] }>('ctas', 'journey=b2b')
    expect(ctas.ctas).toEqual([expect.objectContaining({ name: 'Book a demo', clicks: 1, people: 1, submittedForm: 1, advanced: 1, wentOn: 1 })])
    expect(ctas.ctas[0].byChannel.map((c) => c.key)).toEqual(['Direct'])

    // The dashboard draws the same numbers.
    const board = await site.dashboard()
    for (const [view, row, cells] of [
      ['content', '/case-studies/acme', ['/case-studies/acme', '1', '1', '100.0 %', '100.0 %']],
      ['ctas', 'Book a demo', ['Book a demo', '1', '1', '1', '1', '100.0 %']],
    ] as const) {
      await board.click(`nav a[href="#${view}"]`)
      await board.waitForSelector('main section')
      await board.waitForFunction(() => !document.querySelector('main')?.textContent?.startsWith('Loading'))
      const found = board.locator('tr', { has: board.locator('td', { hasText: new RegExp(`^${row}$`) }) }).first()
      expect((await found.locator('td').allTextContents()).slice(0, cells.length)).toEqual(cells)
      await board.screenshot({ path: join(SHOTS, `signals-${view}.png`), fullPage: true })
    }
    await context.close()
  })
})
