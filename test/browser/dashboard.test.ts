import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runProcessor } from '../../collector/store/clickhouse/processor'
import type { StoredEvent } from '../../collector/store/types'
import { collectorWithSite } from '../collector/helpers'
import { generateTraffic } from '../fixtures/traffic'
import { startClickHouse } from '../clickhouse/server'
import { launchChromium } from './chromium'

/** Screenshots of each view land here, for a person to look at after the run. */
const SHOTS = join(process.cwd(), 'test-output')
const DAY = 86_400_000
const XSS_TITLE = '<img src=x onerror="window.__xss = 1">'
const XSS_NAME = '<script>window.__xss = 2</script>'

/** The same dashboard on each engine: SQLite, and ClickHouse with its processor. */
interface Engine {
  options: () => Promise<{ storeUrl?: string; stop: () => Promise<void> }>
}
const ENGINES: [string, Engine][] = [
  ['SQLite', { options: async () => ({ stop: async () => {} }) }],
  [
    'ClickHouse',
    {
      async options() {
        const clickhouse = await startClickHouse()
        const storeUrl = clickhouse.storeUrl('dashboard')
        const stop = new AbortController()
        const processor = runProcessor({ storeUrl, workPath: join(mkdtempSync(join(tmpdir(), 'waymark-dashboard-')), 'processor.db'), signal: stop.signal })
        return {
          storeUrl,
          stop: async () => {
            stop.abort()
            await processor
            await clickhouse.stop()
          },
        }
      },
    },
  ],
]

describe.each(ENGINES)('the dashboard in a real browser, on %s', (engine, { options }) => {
  let c: Awaited<ReturnType<typeof collectorWithSite>>
  let browser: Browser
  let tab: Page
  let stopEngine: () => Promise<void>
  const shot = (view: string) => join(SHOTS, `dashboard-${engine === 'SQLite' ? '' : `${engine.toLowerCase()}-`}${view}.png`)

  /** The dashboard's default range: the last 30 days, in whole UTC days. */
  const from = () => {
    const now = new Date()
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 29)).toISOString().slice(0, 10)
  }
  const api = async <T>(path: string): Promise<T> =>
    (await fetch(`${c.url}${path}`, { headers: { Authorization: `Bearer ${c.readToken}` } })).json() as Promise<T>

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    const { storeUrl, stop } = await options()
    stopEngine = stop
    c = await collectorWithSite('example.com', storeUrl ? { storeUrl } : {})
    const { events } = generateTraffic({ siteId: c.site.id, visitors: 180, seed: 3, start: Date.now() - 25 * DAY, days: 10 })
    // A visitor whose page title and event name are markup: they must show as text, and never run.
    const hostile: StoredEvent[] = [
      { ...events[0], id: ulid(), visitorId: ulid(), occurredAt: Date.now() - 60_000, receivedAt: Date.now(), title: XSS_TITLE, path: '/x' },
      { ...events[0], id: ulid(), visitorId: ulid(), kind: 'track', name: XSS_NAME, occurredAt: Date.now() - 50_000, receivedAt: Date.now(), props: { html: XSS_TITLE } },
    ]
    // A company of twelve people who came lately: more than the accounts view lists of a committee.
    const committee: StoredEvent[] = Array.from({ length: 12 }, (_, k) => {
      const visitorId = ulid()
      const at = Date.now() - (k + 2) * 60_000
      return [
        { ...events[0], id: ulid(), visitorId, occurredAt: at, path: '/pricing' },
        { ...events[0], id: ulid(), visitorId, kind: 'identify' as const, name: `person${k}@bigco.example`, occurredAt: at + 1000, path: '/pricing' },
      ]
    }).flat()
    // Received now, as a live collector stamps them (the processor folds what arrives).
    await c.collector.store.appendEvents([...events, ...hostile, ...committee].map((e) => ({ ...e, receivedAt: Date.now() })))
    await c.collector.store.settle()
    browser = await launchChromium()
    tab = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } })).newPage()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await c?.close()
    await stopEngine?.()
  })

  it('asks for the read token, refuses a wrong one, and keeps it out of the URL', async () => {
    await tab.goto(c.url)
    await tab.fill('input[name=token]', 'rt_wrong')
    await tab.click('button[type=submit]')
    await tab.waitForSelector('.error')
    expect(await tab.textContent('.error')).toMatch(/opens no site/)
    await tab.fill('input[name=token]', c.readToken)
    await tab.click('button[type=submit]')
    await tab.waitForSelector('[data-stage=awareness]')
    expect(tab.url()).not.toContain(c.readToken)
  })

  it('draws the funnel with the numbers of the report API', async () => {
    const funnel = await api<{ stages: { stage: string; people: { entered: number; conversionRate: number | null } }[] }>(`/api/reports/funnel?journey=b2b&from=${from()}`)
    expect(funnel.stages[0].people.entered).toBeGreaterThan(100)
    for (const stage of funnel.stages) {
      expect(await tab.getAttribute(`[data-stage=${stage.stage}] .stage-count`, 'data-people')).toBe(String(stage.people.entered))
      if (stage.people.conversionRate !== null)
        expect(await tab.textContent(`[data-conversion=${stage.stage}]`)).toBe(`${(stage.people.conversionRate * 100).toFixed(1)} %`)
    }
    await tab.screenshot({ path: shot('funnel'), fullPage: true })
  })

  it('downloads the export behind a view', async () => {
    const [file] = await Promise.all([tab.waitForEvent('download'), tab.click('button.download')])
    expect(file.suggestedFilename()).toMatch(/^transitions-.*\.csv$/)
  })

  it('opens every other view, with the report numbers on screen', async () => {
    const sources = await api<{ attribution: { stage: string; people: number }[] }>(`/api/reports/sources?journey=b2b&from=${from()}`)
    const forms = await api<{ forms: { form: string; starts: number }[] }>(`/api/reports/forms?journey=b2b&from=${from()}`)
    const people = await api<{ total: number; stalled: number; rows: { name: string }[] }>(`/api/reports/people?journey=b2b&from=${from()}&limit=100`)
    const content = await api<{ pages: { path: string; views: number; visitors: number }[] }>(`/api/reports/content?journey=b2b&from=${from()}`)
    const { accounts } = await api<{ accounts: { companyId: string; people: number; members: { name: string }[] }[] }>(`/api/reports/accounts?journey=b2b&from=${from()}&limit=25&members=10`)
    const checks: Record<string, () => Promise<void>> = {
      flows: async () => expect(await tab.locator('svg.flows path.flow').count()).toBeGreaterThan(3),
      sources: async () => {
        const decision = sources.attribution.find((a) => a.stage === 'decision')!
        expect(await tab.textContent('[data-stage=decision] h3')).toBe(`decision: ${decision.people} people entered it in the range`)
      },
      forms: async () => {
        const demo = forms.forms.find((f) => f.form === 'demo-request')!
        expect(await tab.locator('tr', { hasText: 'demo-request' }).first().textContent()).toContain(String(demo.starts))
      },
      people: async () => {
        expect(await tab.textContent('.owners.person h2')).toBe(`People: ${people.total}, ${people.stalled} stalled`)
        await tab.click('.owners.person tbody tr >> nth=0')
        await tab.waitForSelector('.timeline table')
        expect(await tab.textContent('.timeline h3')).toBe(`Timeline of ${people.rows[0].name}`)
      },
      content: async () => {
        const top = content.pages[0]
        const row = tab.locator('tr', { has: tab.locator('td', { hasText: new RegExp(`^${top.path}$`) }) }).first()
        expect((await row.locator('td').allTextContents()).slice(0, 3)).toEqual([top.path, top.views.toLocaleString('en-US'), top.visitors.toLocaleString('en-US')])
      },
      // Each committee lists at most ten of its people, and says how many more the export has.
      accounts: async () => {
        expect(accounts[0]).toMatchObject({ people: 12, members: { length: 10 } })
        for (const account of accounts.slice(0, 3)) {
          const card = tab.locator(`.account[data-company="${account.companyId}"]`)
          expect(await card.locator('tbody tr td:first-child').allTextContents()).toEqual(account.members.map((m) => expect.stringContaining(m.name)))
          const more = account.people - account.members.length
          expect(await card.locator('.more').allTextContents()).toEqual(more > 0 ? [`and ${more.toLocaleString('en-US')} more; the accounts export lists them all`] : [])
        }
      },
      // The generated traffic clicks no call to action: the view says so, and how to tag one.
      ctas: async () => expect(await tab.textContent('main section')).toContain('data-waymark-event="Book demo"'),
      live: async () => expect(await tab.locator('.live tbody tr').count()).toBeGreaterThan(0),
    }
    for (const [view, check] of Object.entries(checks)) {
      await tab.click(`nav a[href="#${view}"]`)
      // The page draws a view on hashchange, a task after the click: until then the last view is still on screen.
      await tab.waitForSelector(`nav a.active[href="#${view}"]`)
      await tab.waitForSelector('main section')
      await tab.waitForFunction(() => !document.querySelector('main')?.textContent?.startsWith('Loading'))
      await check()
      await tab.screenshot({ path: shot(view), fullPage: true })
    }
  })

  it('takes a range of dates, first and last day included', async () => {
    await tab.click('nav a[href="#funnel"]')
    await tab.waitForSelector('[data-stage=awareness]')
    await tab.selectOption('select[name=range]', 'dates')
    const first = new Date(Date.now() - 20 * DAY).toISOString().slice(0, 10)
    const last = new Date(Date.now() - 15 * DAY).toISOString().slice(0, 10)
    await tab.fill('input[name=first]', first)
    await tab.dispatchEvent('input[name=first]', 'change')
    await tab.fill('input[name=last]', last)
    await tab.dispatchEvent('input[name=last]', 'change')
    const to = new Date(Date.parse(last) + DAY).toISOString().slice(0, 10)
    const funnel = await api<{ stages: { people: { entered: number } }[] }>(`/api/reports/funnel?journey=b2b&from=${first}&to=${to}`)
    await tab.waitForFunction((n) => document.querySelector('[data-stage=awareness] .stage-count')?.getAttribute('data-people') === n, String(funnel.stages[0].people.entered))
    await tab.selectOption('select[name=range]', '30 days')
    await tab.waitForSelector('[data-stage=awareness]')
  })

  it("shows visitors' markup as text and never runs it", async () => {
    await tab.click('nav a[href="#live"]')
    await tab.waitForSelector('.live tbody tr')
    const text = await tab.textContent('.live')
    expect(text).toContain(XSS_TITLE)
    expect(text).toContain(XSS_NAME)
    expect(await tab.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined()
    expect(await tab.locator('.live img').count()).toBe(0)
  })
})
