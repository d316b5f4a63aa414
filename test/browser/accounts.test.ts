import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { page, snippetLoaded, trackedSite } from './site'

const SHOTS = join(process.cwd(), 'test-output')
const DAY = 86_400_000
const DOMAIN = 'acme-widgets.example'
const READER = `ines.ortega@${DOMAIN}`
const BUYER = `sam.okafor@${DOMAIN}`

let site: Awaited<ReturnType<typeof trackedSite>>
beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  site = await trackedSite((tag) => ({
    // A gated guide: the page's own script handles the form and shows the download link.
    '/guides/sizing': page(
      tag,
      'The sizing guide',
      `<form id="guide-request" data-waymark-identify onsubmit="event.preventDefault(); document.getElementById('get').hidden = false">
        <input name="email" type="email" autocomplete="email" required>
        <input name="job_title" autocomplete="organization-title">
        <button type="submit">Get the guide</button>
      </form>
      <a id="get" hidden download href="/files/sizing-guide.pdf">Download the sizing guide</a>`,
    ),
    '/files/sizing-guide.pdf': '%PDF-1.4 a stand-in',
    '/demo': page(
      tag,
      'Request a demo',
      `<form id="demo-request" action="/thanks" data-waymark-identify>
        <input name="email" type="email" autocomplete="email" required>
        <input name="job_title" autocomplete="organization-title">
        <button type="submit">Request a demo</button>
      </form>`,
    ),
    '/thanks': page(tag, 'Thanks', '<p>We will be in touch.</p>'),
  }))
})
afterAll(() => site?.close())

describe('An account in a real browser: two people of one company, on different days', () => {
  it('one downloads a guide, days later a colleague requests a demo; the accounts view shows one company at decision with both', async () => {
    // Three days ago, offline: the reader's laptop had no network. The tag keeps the visit and
    // sends it when the network is back, with the times it happened.
    const reader = await site.browser.newContext({ acceptDownloads: true })
    await reader.clock.install({ time: Date.now() - 3 * DAY })
    await reader.route('**/e', (route) => route.abort('internetdisconnected'))
    const tab = await reader.newPage()
    await tab.goto(`${site.url}/guides/sizing`)
    await tab.waitForFunction(snippetLoaded)
    await tab.fill('[name=email]', READER)
    await tab.fill('[name=job_title]', 'Head of IT')
    await tab.click('button[type=submit]')
    await tab.click('#get')
    await reader.clock.runFor(5_000)
    await tab.waitForFunction(() => localStorage.getItem('waymark_q'))
    // Back online today: the kept batches go out on the tag's next retry.
    await reader.unroute('**/e')
    await reader.clock.setSystemTime(Date.now())
    await reader.clock.runFor(61_000)
    const [download] = await site.waitFor<{ occurred_at: number }>(1, "SELECT occurred_at FROM events WHERE kind = 'file_download'")
    expect(Date.now() - download.occurred_at).toBeGreaterThan(2.9 * DAY)
    await reader.close()

    // Today: a colleague asks for a demo.
    const buyer = await site.browser.newContext()
    const demo = await buyer.newPage()
    await demo.goto(`${site.url}/demo`)
    await demo.waitForFunction(snippetLoaded)
    await demo.fill('[name=email]', BUYER)
    await demo.fill('[name=job_title]', 'CFO')
    await demo.click('button[type=submit]')
    await demo.waitForURL(/\/thanks/)
    await demo.waitForFunction(snippetLoaded)
    await demo.goto('about:blank')
    await site.waitFor(2, 'SELECT * FROM people WHERE email IN (?, ?)', READER, BUYER)

    // The accounts report: one company at decision, both people, their roles, who came first.
    const { accounts } = await site.report<{
      accounts: { domain: string; stage: string; people: number; length: { stage: string; touches: number; days: number }; members: { name: string; role: string; cameFirst: boolean; requested: boolean; movedToGoal: boolean; stage: string }[] }[]
    }>('accounts', 'journey=b2b')
    const account = accounts.find((a) => a.domain === DOMAIN)!
    expect(account).toMatchObject({ stage: 'decision', people: 2 })
    // The reader came first, and signing up at the guide's gate (an identify) already put the company
    // at decision in the default journey; the buyer is the one who asked for the demo.
    expect(account.members.map((m) => [m.name, m.role, m.cameFirst, m.requested, m.movedToGoal])).toEqual([
      [READER, 'Head of IT', true, false, true],
      [BUYER, 'CFO', false, true, false],
    ])
    // Journey length: the company reached decision in the reader's first visit, three days ago.
    expect(account.length).toMatchObject({ stage: 'decision', touches: 1, days: 0 })
    const length = await site.report<{ companies: { stage: string; reached: number; days: { median: number }; touches: { median: number } }[] }>('length', 'journey=b2b')
    const decision = length.companies.find((s) => s.stage === 'decision')!
    expect(decision).toMatchObject({ reached: 1, days: { median: 0 }, touches: { median: 1 } })

    // The dashboard's accounts view draws it.
    const board = await site.dashboard()
    await board.click('nav a[href="#accounts"]')
    await board.waitForSelector('.account')
    const card = board.locator('.account', { hasText: DOMAIN })
    expect(await card.locator('h4').textContent()).toBe(`${DOMAIN}: decision, 2 people, 2 engaged`)
    const rows = await card.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)))
    expect(rows.map((r) => [...r.slice(0, 3), ...r.slice(5)])).toEqual([
      [`${READER} (came first)`, 'Head of IT', 'decision', 'yes', '', 'yes'],
      [BUYER, 'CFO', 'decision', 'yes', 'yes', ''],
    ])
    expect(await card.locator('.length').textContent()).toBe('To decision: 1 touches over 0 days on 1 channels')
    expect(await board.textContent('main section')).toContain('31 touches over 192 days on 3.1 channels')
    await board.screenshot({ path: join(SHOTS, 'dashboard-accounts.png'), fullPage: true })
  })
})
