import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ulid } from 'ulid'
import { resolveConfig } from '../../collector/config'
import { REPORTS, runReport } from '../../collector/reports'
import { DEFAULT_CONFIG } from '../../collector/stages/config'
import type { StoredEvent } from '../../collector/store/types'
import { generateTraffic, type GeneratedVisitor } from '../fixtures/traffic'
import { batch, collectorWithSite, pageview } from './helpers'

const SEPTEMBER = Date.UTC(2026, 8, 1)
/** A range with an end before now, so a report's moment is the same whenever and wherever it runs. */
const RANGE = { from: '2026-09-01', to: '2026-10-20' }

describe('reports of a SQLite file, each on a thread of its own', () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>>
  let visitors: GeneratedVisitor[]
  const ask = (name: string, params: Record<string, string> = RANGE) =>
    fetch(`${c.url}/api/reports/${name}?${new URLSearchParams(params)}`, { headers: { Authorization: `Bearer ${c.readToken}` } })

  beforeAll(async () => {
    c = await collectorWithSite('example.com', { reportThreads: 2 })
    const traffic = generateTraffic({ siteId: c.site.id, visitors: 300, seed: 11, start: SEPTEMBER })
    await c.collector.store.appendEvents(traffic.events)
    visitors = traffic.visitors
  })
  afterAll(() => c.close())

  it('answers every report as the same report run in this process does', async () => {
    const customer = visitors.find((v) => v.persona === 'customer')!
    for (const name of REPORTS) {
      const params = name === 'timeline' ? { ...RANGE, email: customer.email! } : RANGE
      const response = await ask(name, params)
      expect(response.status, await response.clone().text()).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^application\/json/)
      const here = await runReport(c.collector.store, DEFAULT_CONFIG, c.site.id, name, params)
      expect(await response.json(), name).toEqual(JSON.parse(JSON.stringify(here)))
    }
  })

  it('sees an event as soon as it is acknowledged', async () => {
    const before = (await (await ask('funnel', { from: '2026-11-01' })).json()).stages[0].people.entered
    const answer = await c.post(batch(c.site.id, [pageview()]))
    expect(answer.status).toBe(200)
    const after = (await (await ask('funnel', { from: '2026-11-01' })).json()).stages[0].people.entered
    expect(after).toBe(before + 1)
  })

  it("answers a bad question 400 with the reason, and someone who is not there 404, as in this process", async () => {
    const bad = await ask('funnel', { from: 'yesterday' })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error).toMatch(/from "yesterday"/)
    const nobody = await ask('timeline', { email: 'nobody@example.org' })
    expect(nobody.status).toBe(404)
    expect((await nobody.json()).error).toBe('no person with email nobody@example.org on this site')
  })

  it('answers reports asked at once, more than there are threads, each in full', async () => {
    const names = ['funnel', 'sources', 'forms', 'content', 'ctas', 'people', 'companies', 'accounts', 'length', 'paths', 'cohorts']
    const answers = await Promise.all(names.map((name) => ask(name)))
    expect(answers.map((a) => a.status)).toEqual(names.map(() => 200))
    expect((await Promise.all(answers.map((a) => a.json()))).map((r) => r.report)).toEqual(names)
  })
})

describe('a report that outgrows the memory a report may use', () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>>
  beforeAll(async () => {
    c = await collectorWithSite('example.com', { reportThreads: 1, reportHeapMb: 32 })
    // One visitor's 1,500 events with 40 kB of properties each: 60 MB for a timeline to hold.
    const [first] = generateTraffic({ siteId: c.site.id, visitors: 1, seed: 3, start: SEPTEMBER }).events
    const props = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`p${i}`, String(i).padEnd(1000, 'x')]))
    const heavy: StoredEvent[] = Array.from({ length: 1500 }, (_, i) => ({ ...first, id: ulid(SEPTEMBER + i), kind: 'track', name: 'heavy', occurredAt: SEPTEMBER + i * 1000, props }))
    await c.collector.store.appendEvents(heavy)
    await c.post(batch(c.site.id, [pageview(), { id: ulid(), k: 'i', t: Date.now(), u: 'https://www.example.com/', n: 'heavy@example.org' }], { v: first.visitorId }))
  })
  afterAll(() => c.close())

  it('is answered 503 with what to do, and the collector goes on taking events and answering reports', async () => {
    const timeline = await fetch(`${c.url}/api/reports/timeline?email=heavy@example.org`, { headers: { Authorization: `Bearer ${c.readToken}` } })
    expect(timeline.status).toBe(503)
    expect((await timeline.json()).error).toMatch(/more than the 32 MB a report may use: .*WAYMARK_REPORT_HEAP_MB/)

    expect((await c.post(batch(c.site.id, [pageview()]))).status).toBe(200)
    const funnel = await fetch(`${c.url}/api/reports/funnel`, { headers: { Authorization: `Bearer ${c.readToken}` } })
    expect(funnel.status).toBe(200)
    expect((await funnel.json()).stages[0].people.entered).toBeGreaterThan(0)
  })
})

describe('the report threads\' settings', () => {
  it('takes WAYMARK_REPORT_THREADS and WAYMARK_REPORT_HEAP_MB as whole numbers, and leaves the defaults to the collector when unset', () => {
    expect(resolveConfig({}, { WAYMARK_REPORT_THREADS: '3', WAYMARK_REPORT_HEAP_MB: '512' })).toMatchObject({ reportThreads: 3, reportHeapMb: 512 })
    expect(resolveConfig({}, {})).toMatchObject({ reportThreads: undefined, reportHeapMb: undefined })
    expect(() => resolveConfig({}, { WAYMARK_REPORT_HEAP_MB: '10' })).toThrow('WAYMARK_REPORT_HEAP_MB "10" must be a whole number of megabytes of memory a report may use, 64 or more')
    expect(() => resolveConfig({}, { WAYMARK_REPORT_THREADS: 'two' })).toThrow('WAYMARK_REPORT_THREADS "two" must be a whole number of reports that may run at once, 1 or more')
  })
})
