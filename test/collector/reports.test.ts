import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StoredEvent } from '../../collector/store/types'
import { generateTraffic, type GeneratedVisitor } from '../fixtures/traffic'
import { collectorWithSite } from './helpers'

const SEPTEMBER = Date.UTC(2026, 8, 1)
/** The traffic plan ends by 2 October; the range runs past it, and "stalled" is judged at its end. */
const RANGE = 'from=2026-09-01&to=2026-10-20'
const AS_OF = Date.UTC(2026, 9, 20)
const DAY = 86_400_000

/** The channel each arrival of the traffic fixture is classified as. */
const channelOf = (e: StoredEvent) =>
  e.gclid ? 'Paid Search' : e.utmMedium === 'email' ? 'Email' : e.referrer?.includes('google') ? 'Organic Search'
    : e.referrer?.includes('linkedin') ? 'Organic Social' : e.referrer ? 'Referral' : 'Direct'

const countBy = <T>(items: T[], key: (item: T) => string) => {
  const counts: Record<string, number> = {}
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1
  return counts
}

describe('reports over HTTP, on a generated history with known outcomes', () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>>
  let visitors: GeneratedVisitor[]
  let events: StoredEvent[]
  const report = async (name: string, query = RANGE) => {
    const response = await fetch(`${c.url}/api/reports/${name}?${query}`, { headers: { Authorization: `Bearer ${c.readToken}` } })
    expect(response.status, await response.clone().text()).toBe(200)
    return response.json()
  }
  const personas = (...names: GeneratedVisitor['persona'][]) => visitors.filter((v) => names.includes(v.persona))
  const eventsOf = (v: GeneratedVisitor) => events.filter((e) => e.visitorId === v.visitorId || e.visitorId === v.secondDevice)
  const firstEvent = (v: GeneratedVisitor) => eventsOf(v).sort((a, b) => a.occurredAt - b.occurredAt)[0]

  beforeAll(async () => {
    c = await collectorWithSite()
    ;({ visitors, events } = generateTraffic({ siteId: c.site.id, visitors: 600, seed: 5, start: SEPTEMBER }))
    await c.collector.store.appendEvents(events)
  })
  afterAll(() => c.close())

  it('funnel: people and companies per stage, conversion to the next, drop-off', async () => {
    const funnel = await report('funnel')
    const row = (stage: string) => funnel.stages.find((s: { stage: string }) => s.stage === stage)
    // By the plan: everyone is aware; all but bouncers consider; newsletter readers, leads and
    // customers decide (300 known people); customers purchase.
    expect(row('awareness').people).toMatchObject({ entered: 600, movedOn: 500, dropOff: 100, conversionRate: 0.8333 })
    expect(row('awareness').known).toBe(300)
    expect(row('consideration').people).toMatchObject({ entered: 500, movedOn: 300, dropOff: 200, conversionRate: 0.6 })
    expect(row('decision').people).toMatchObject({ entered: 300, movedOn: 100, dropOff: 200, conversionRate: 0.3333 })
    expect(row('purchase').people).toMatchObject({ entered: 100, movedOn: 0, dropOff: 100, conversionRate: 0 })
    expect(row('advocacy').people).toMatchObject({ entered: 0, movedOn: null, conversionRate: null })

    // Companies: the work-email domains of leads and customers; those of customers purchase.
    const domains = (list: GeneratedVisitor[]) => new Set(list.map((v) => v.email!.split('@')[1])).size
    expect(row('decision').companies.entered).toBe(domains(personas('lead', 'customer')))
    expect(row('purchase').companies.entered).toBe(domains(personas('customer')))
    expect(row('decision').companies.movedOn).toBe(domains(personas('customer')))
  })

  it('funnel: time from decision to purchase, median and 75th percentile, over the customers', async () => {
    const funnel = await report('funnel')
    // A customer decides when the demo form is submitted and purchases at "Deal Won".
    const durations = personas('customer')
      .map((v) => {
        const own = eventsOf(v)
        return own.find((e) => e.name === 'Deal Won')!.occurredAt - own.find((e) => e.kind === 'form_submit')!.occurredAt
      })
      .sort((a, b) => a - b)
    const at = (p: number) => {
      const rank = p * (durations.length - 1)
      const low = Math.floor(rank)
      return durations[low] + (durations[Math.min(low + 1, durations.length - 1)] - durations[low]) * (rank - low)
    }
    const decision = funnel.stages.find((s: { stage: string }) => s.stage === 'decision')
    expect(decision.people.medianMsToNext).toBeCloseTo(at(0.5), 6)
    expect(decision.people.p75MsToNext).toBeCloseTo(at(0.75), 6)
  })

  it('funnel: known people stalled in a stage longer than the threshold, with when they last came', async () => {
    const funnel = await report('funnel', `${RANGE}&stalledDays=30&limit=1000`)
    // Where each known person stands, and since when: newsletter readers decide at their
    // identify, leads at the demo form's submit, customers purchase at "Deal Won".
    const standing = personas('newsletter', 'lead', 'customer').map((v) => {
      const own = eventsOf(v)
      const at = v.persona === 'newsletter' ? own.find((e) => e.kind === 'identify')!.occurredAt
        : v.persona === 'lead' ? own.find((e) => e.kind === 'form_submit')!.occurredAt
        : own.find((e) => e.name === 'Deal Won')!.occurredAt
      return { email: v.email, at, lastSeen: Math.max(...own.map((e) => e.occurredAt)) }
    })
    const stalled = standing.filter((s) => AS_OF - s.at > 30 * DAY)
    expect(funnel.asOf).toBe(new Date(AS_OF).toISOString())
    expect(funnel.stalled.total).toBe(stalled.length)
    expect(funnel.stalled.total).toBeGreaterThan(0)
    for (const person of funnel.stalled.people) {
      const expected = stalled.find((s) => s.email === person.email)!
      expect(expected, person.email).toBeDefined()
      expect(person.days).toBe(Math.floor((AS_OF - expected.at) / DAY))
      expect(person.lastSeen).toBe(expected.lastSeen)
    }
    // Longest stalled first.
    const days = funnel.stalled.people.map((p: { days: number }) => p.days)
    expect(days).toEqual([...days].sort((a, b) => b - a))
  })

  it('sources: first and last touch of the people who reached decision', async () => {
    const sources = await report('sources')
    const decision = sources.attribution.find((a: { stage: string }) => a.stage === 'decision')
    const deciders = personas('newsletter', 'lead', 'customer')
    expect(decision.people).toBe(deciders.length)
    const byChannel = (rows: { channel: string; count: number }[]) => {
      const totals: Record<string, number> = {}
      for (const r of rows) totals[r.channel] = (totals[r.channel] ?? 0) + r.count
      return totals
    }
    // First touch: how each one first arrived.
    expect(byChannel(decision.firstTouch)).toEqual(countBy(deciders, (v) => channelOf(firstEvent(v))))
    // Last touch: leads and customers decide in the session the email campaign brought them;
    // newsletter readers in their first.
    const last = countBy(personas('newsletter'), (v) => channelOf(firstEvent(v)))
    last.Email = (last.Email ?? 0) + personas('lead', 'customer').length
    expect(byChannel(decision.lastTouch)).toEqual(last)
    const email = decision.lastTouch.find((r: { channel: string }) => r.channel === 'Email')
    expect(email).toMatchObject({ source: 'newsletter', campaign: 'spring-webinar' })
  })

  it('sources: every session counted once, at the furthest stage it reached', async () => {
    const sources = await report('sources')
    const sessions = sources.stages.reduce((n: number, s: { sessions: number }) => n + s.sessions, 0)
    // Sessions by plan: bouncer 1, researcher 1, returner 2, newsletter 1, lead 2, customer 3 (+1 second device).
    const planned = { bouncer: 1, researcher: 1, returner: 2, newsletter: 1, lead: 2, customer: 3 }
    expect(sessions).toBe(visitors.reduce((n, v) => n + planned[v.persona] + (v.secondDevice ? 1 : 0), 0))
    // The sessions that reached purchase: one "Deal Won" session per customer.
    expect(sources.stages.find((s: { stage: string }) => s.stage === 'purchase').sessions).toBe(personas('customer').length)
  })

  it('sources: where people come from and where they stop', async () => {
    const { flows } = await report('sources')
    const byStage: Record<string, number> = {}
    for (const f of flows) byStage[f.stage] = (byStage[f.stage] ?? 0) + f.people
    // By the plan: bouncers stop at awareness, researchers and returners at consideration,
    // newsletter readers and leads at decision, customers at purchase.
    expect(byStage).toEqual({ awareness: 100, consideration: 200, decision: 200, purchase: 100 })
    const byChannel: Record<string, number> = {}
    for (const f of flows) byChannel[f.channel] = (byChannel[f.channel] ?? 0) + f.people
    expect(byChannel).toEqual(countBy(visitors, (v) => channelOf(firstEvent(v))))
  })

  it('forms: starts, submits and abandonment per form', async () => {
    const { forms } = await report('forms')
    const form = (name: string) => forms.find((f: { form: string }) => f.form === name)
    expect(form('demo-request')).toMatchObject({ starts: 200, submits: 200, abandons: 0, abandonmentRate: 0 })
    expect(form('newsletter')).toMatchObject({ starts: 100, submits: 100, abandonmentRate: 0 })
  })

  it('content: each page by the stage its viewers were in, and who became known', async () => {
    const { pages } = await report('content')
    const page = (path: string) => pages.find((p: { path: string }) => p.path === path)
    const at = (path: string, stage: string) => page(path).stages.find((s: { stage: string }) => s.stage === stage).views
    // Pricing moves researchers into consideration and counts there; leads and customers see it
    // on their return visit, already considering.
    expect(at('/pricing', 'consideration')).toBe(300)
    expect(at('/pricing', 'awareness')).toBe(0)
    expect(at('/demo', 'consideration')).toBe(200)
    expect(page('/pricing')).toMatchObject({ views: 300, visitors: 300 })
    // Those who saw the demo page are the leads and customers: every one of them known by now.
    expect(page('/demo')).toMatchObject({ visitors: 200, known: 200, knownShare: 1 })
    const phones = personas('customer').filter((v) => v.secondDevice).length
    expect(at('/customers/acme', 'purchase')).toBe(phones)
  })

  it("timeline: a customer's sessions, events and stage changes on both devices, in order", async () => {
    const customer = personas('customer').find((v) => v.secondDevice)!
    const { person, items } = await report('timeline', `email=${encodeURIComponent(customer.email!)}`)
    expect(person.email).toBe(customer.email)
    expect(items.filter((i: { type: string }) => i.type === 'session')).toHaveLength(4)
    expect(items.filter((i: { type: string }) => i.type === 'event').map((i: { eventId: string }) => i.eventId).sort()).toEqual(eventsOf(customer).map((e) => e.id).sort())
    expect(items.filter((i: { type: string }) => i.type === 'stage').map((i: { from: string | null; to: string }) => `${i.from}>${i.to}`)).toEqual([
      'null>awareness', 'awareness>consideration', 'consideration>decision', 'decision>purchase',
    ])
    const times = items.map((i: { at: number }) => i.at)
    expect(times).toEqual([...times].sort((a, b) => a - b))
  })

  it("timeline: a company's people and its own stage changes", async () => {
    const customer = personas('customer')[0]
    const domain = customer.email!.split('@')[1]
    const { company, items } = await report('timeline', `domain=${domain}`)
    expect(company.domain).toBe(domain)
    const members = visitors.filter((v) => v.email?.endsWith('@' + domain))
    const ids = members.flatMap((v) => eventsOf(v).map((e) => e.id)).sort()
    expect(items.filter((i: { type: string }) => i.type === 'event').map((i: { eventId: string }) => i.eventId).sort()).toEqual(ids)
    expect(items.filter((i: { type: string }) => i.type === 'stage').at(-1).to).toBe('purchase')
  })

  it('people and companies: each listed once, the stalled first, filtered by stage', async () => {
    const people = await report('people', `${RANGE}&limit=1000&stalledDays=30`)
    expect(people.total).toBe(personas('newsletter', 'lead', 'customer').length)
    expect(people.rows).toHaveLength(people.total)
    const firstNotStalled = people.rows.findIndex((r: { stalled: boolean }) => !r.stalled)
    if (firstNotStalled >= 0) expect(people.rows.slice(firstNotStalled).every((r: { stalled: boolean }) => !r.stalled)).toBe(true)
    expect(people.stalled).toBe(people.rows.filter((r: { stalled: boolean }) => r.stalled).length)
    const buyers = await report('people', `${RANGE}&stage=purchase&limit=1000`)
    expect(buyers.rows.map((r: { name: string }) => r.name).sort()).toEqual(personas('customer').map((v) => v.email).sort())
    const companies = await report('companies', `${RANGE}&limit=5`)
    expect(companies.total).toBe(new Set(personas('lead', 'customer').map((v) => v.email!.split('@')[1])).size)
    expect(companies.rows).toHaveLength(5)
  })

  it('says what is missing, and refuses without the read token', async () => {
    const ask = (path: string, token: string | null = c.readToken) =>
      fetch(`${c.url}/api/reports/${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} })
    expect((await ask('funnel', null)).status).toBe(401)
    expect((await ask('funnel', 'rt_nope')).status).toBe(401)
    const unknown = await ask('revenue')
    expect(unknown.status).toBe(400)
    expect((await unknown.json()).error).toMatch(/unknown report "revenue": use funnel, sources, forms, content, timeline/)
    const nobody = await ask('timeline')
    expect(nobody.status).toBe(400)
    expect((await nobody.json()).error).toMatch(/say whose timeline/)
    const stranger = await ask('timeline?email=nobody@example.org')
    expect(stranger.status).toBe(404)
    expect((await ask('funnel?stalledDays=soon')).status).toBe(400)
  })
})
