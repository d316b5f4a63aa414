import Database from 'better-sqlite3'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addSite } from '../../collector/sites'
import { DEFAULT_JOURNEY, type WaymarkConfig } from '../../collector/stages/config'
import type { SessionRecord } from '../../collector/store/types'
import type { KindCode, Properties, WireEvent } from '../../shared/wire'
import { batch, collectorWithSite, pageview } from './helpers'

type Collector = Awaited<ReturnType<typeof collectorWithSite>>

/** An event of one of the tag's signal kinds, on the home page unless told otherwise. */
const signal = (k: KindCode, n: string, p?: Properties, overrides: Partial<WireEvent> = {}): WireEvent => ({
  id: ulid(), k, t: Date.now(), u: 'https://www.example.com/', n, ...(p ? { p } : {}), ...overrides,
})

/** The tag's report on leaving a page view: how deep it scrolled (%) and how long it was visible and active. */
const engagement = (pageviewId: string, depth: number, ms: number, overrides: Partial<WireEvent> = {}) =>
  signal('e', pageviewId, { d: depth, ms }, overrides)

/** POSTs the events as one visitor's batch and answers the reply. */
async function send(c: Collector, visitorId: string, events: unknown[], headers: Record<string, string> = {}) {
  const response = await c.post(batch(c.site.id, events, { v: visitorId }), headers)
  return { status: response.status, reply: (await response.json()) as { accepted: number; rejected: { index: number; reason: string }[] } }
}

/** The events export's rows of one visitor, as a warehouse would load them. */
async function exported(c: Collector, visitorId: string) {
  const response = await fetch(`${c.url}/api/export/events?format=ndjson`, { headers: { Authorization: `Bearer ${c.readToken}` } })
  expect(response.status).toBe(200)
  return (await response.text())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((row) => row.visitor_id === visitorId)
}

async function sessionsOf(c: Collector, visitorId: string) {
  await c.collector.store.settle()
  const found: SessionRecord[] = []
  for await (const session of c.collector.store.querySessions({ siteId: c.site.id, visitorId })) found.push(session)
  return found
}

async function journeyOf(c: Collector, visitorId: string, journey = DEFAULT_JOURNEY.name) {
  await c.collector.store.settle()
  return c.collector.store.ownerJourney(c.site.id, { type: 'visitor', id: visitorId }, journey)
}

/** Rows waiting in the SQLite file for a page view that has not arrived. */
function earlyEngagements(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true })
  try {
    return db.prepare('SELECT count(*) FROM early_engagements').pluck().get() as number
  } finally {
    db.close()
  }
}

let c: Collector
beforeAll(async () => {
  c = await collectorWithSite()
})
afterAll(() => c.close())

describe('Signals: what each new kind stores', () => {
  it('stores a file download by its URL without the query or fragment, and keeps the link text', async () => {
    const v = ulid()
    const download = signal('d', 'https://cdn.example.com/files/Acme-Case-Study.pdf?X-Amz-Signature=abc123&X-Amz-Expires=300#page=2', { x: 'Acme case study' }, {
      u: 'https://www.example.com/resources',
    })
    expect(await send(c, v, [download])).toEqual({ status: 200, reply: { accepted: 1, rejected: [] } })
    expect(await c.events(v)).toMatchObject([
      { id: download.id, kind: 'file_download', name: 'https://cdn.example.com/files/Acme-Case-Study.pdf', props: { text: 'Acme case study' }, path: '/resources' },
    ])
  })

  it('stores an outbound click by its destination without the query or fragment', async () => {
    const v = ulid()
    await send(c, v, [signal('o', 'https://partner.example.org/signup?ref=waymark&token=secret#form')])
    expect(await c.events(v)).toMatchObject([{ kind: 'outbound_click', name: 'https://partner.example.org/signup', props: null }])
  })

  it.each([
    ['a mailto with ?subject= and &body=, as the lowercased address', 'mailto:Sales@Example.COM?subject=Pricing%20question&body=Hi', 'sales@example.com', 'email'],
    ['a percent-encoded mailto, as the address', 'mailto:hello%40example.com', 'hello@example.com', 'email'],
    ['a tel: with spaces and dashes, as its digits', 'tel:0161 496-0000', '01614960000', 'phone'],
    ['a tel: with percent-encoded spaces and a leading +, as + and its digits', 'tel:+44%20161%20496%200000', '+441614960000', 'phone'],
  ])('stores a contact click on %s', async (_, link, address, kind) => {
    const v = ulid()
    await send(c, v, [signal('c', link)])
    expect(await c.events(v)).toMatchObject([{ kind: 'contact_click', name: address, props: { kind } }])
  })

  it("stores a call to action by its name, with the element's properties as given", async () => {
    const v = ulid()
    await send(c, v, [signal('a', 'Start trial', { plan: 'pro', seats: '5' })])
    expect(await c.events(v)).toMatchObject([{ kind: 'cta', name: 'Start trial', props: { plan: 'pro', seats: '5' } }])
  })
})

describe('Signals: validation', () => {
  it.each([
    ['a contact click whose "n" is an http URL', signal('c', 'https://www.example.com/contact'), /"n" must be the mailto: or tel: link/],
    ['a file download whose "n" is not a URL', signal('d', 'brochure.pdf'), /"n" must be the link's http\(s\) URL/],
    ['a page engagement whose "n" is not a ULID', signal('e', 'page-1', { d: 50, ms: 1000 }), /"n" must be the id \(a ULID\) of the page view/],
    ['a page engagement scrolled 101% deep', engagement(ulid(), 101, 1000), /"p\.d", the scroll depth: a whole number from 0 to 100/],
    ['a page engagement with negative engaged time', engagement(ulid(), 50, -1), /"p\.ms", the engaged time/],
  ])('rejects %s with a 400 naming the field, and stores the valid events beside it', async (_, invalid, reason) => {
    const v = ulid()
    const valid = [pageview(), signal('a', 'Book demo')]
    const { status, reply } = await send(c, v, [valid[0], invalid, valid[1]])
    expect(status).toBe(400)
    expect(reply.accepted).toBe(valid.length)
    expect(reply.rejected).toHaveLength(1)
    expect(reply.rejected[0]).toMatchObject({ index: 1, id: invalid.id })
    expect(reply.rejected[0].reason).toMatch(reason)
    expect((await c.events(v)).map((e) => e.id).sort()).toEqual(valid.map((e) => e.id).sort())
  })
})

describe('Signals: page engagement is merged into its page view', () => {
  const v = ulid()
  const view = pageview({ u: 'https://www.example.com/blog/launch' })

  it('carries the scroll depth and engaged time on the page view, exported as scroll_depth and engaged_ms, with no row of its own', async () => {
    expect(await send(c, v, [view, engagement(view.id, 40, 5000, { u: view.u })])).toEqual({ status: 200, reply: { accepted: 2, rejected: [] } })
    expect(await c.events(v)).toMatchObject([{ id: view.id, kind: 'pageview', scrollDepth: 40, engagedMs: 5000 }])
    expect(await exported(c, v)).toMatchObject([{ event_id: view.id, kind: 'pageview', scroll_depth: 40, engaged_ms: 5000 }])
  })

  it('is not lowered by a later, smaller report', async () => {
    await send(c, v, [engagement(view.id, 20, 1000, { u: view.u })])
    expect(await c.events(v)).toMatchObject([{ id: view.id, scrollDepth: 40, engagedMs: 5000 }])
  })

  it('is raised by a larger report, each measure on its own', async () => {
    await send(c, v, [engagement(view.id, 90, 3000, { u: view.u })])
    expect(await c.events(v)).toMatchObject([{ id: view.id, scrollDepth: 90, engagedMs: 5000 }])
    await send(c, v, [engagement(view.id, 10, 12_000, { u: view.u })])
    expect(await c.events(v)).toMatchObject([{ id: view.id, scrollDepth: 90, engagedMs: 12_000 }])
    // Four reports later, still the one page view's row.
    expect(await exported(c, v)).toMatchObject([{ event_id: view.id, scroll_depth: 90, engaged_ms: 12_000 }])
  })

  it('is merged when the report arrives in the same batch before its page view', async () => {
    const w = ulid()
    const later = pageview()
    await send(c, w, [engagement(later.id, 65, 2500), later])
    expect(await c.events(w)).toMatchObject([{ id: later.id, scrollDepth: 65, engagedMs: 2500 }])
  })
})

describe('Signals: a report that arrives before its page view', () => {
  let early: Collector
  beforeAll(async () => {
    early = await collectorWithSite()
  })
  afterAll(() => early.close())

  it('waits in early_engagements, and is merged (and no longer waits) when the page view arrives in a later request', async () => {
    const v = ulid()
    const view = pageview()
    expect(await send(early, v, [engagement(view.id, 75, 8000)])).toEqual({ status: 200, reply: { accepted: 1, rejected: [] } })
    expect(await early.events(v)).toEqual([])
    expect(earlyEngagements(early.dbPath)).toBe(1)

    await send(early, v, [view])
    expect(await early.events(v)).toMatchObject([{ id: view.id, scrollDepth: 75, engagedMs: 8000 }])
    expect(earlyEngagements(early.dbPath)).toBe(0)
    expect((await sessionsOf(early, v)).map((s) => s.engagedMs)).toEqual([8000])
  })
})

describe("Signals: a report on another site's page view", () => {
  let other: { id: string }
  const fromOther = { Origin: 'https://www.other.org' }
  const onOther = { u: 'https://www.other.org/' }
  beforeAll(async () => {
    ;({ site: other } = await addSite(c.collector.store, 'other.org'))
  })
  const sendAsOther = (events: unknown[]) =>
    c.post(batch(other.id, events), fromOther).then((response) => response.status)

  it('changes nothing on that page view', async () => {
    const v = ulid()
    const view = pageview()
    await send(c, v, [view])
    expect(await sendAsOther([engagement(view.id, 100, 600_000, onOther)])).toBe(200)
    expect(await c.events(v)).toMatchObject([{ id: view.id, scrollDepth: null, engagedMs: null }])
    expect(await exported(c, v)).toMatchObject([{ event_id: view.id, scroll_depth: null, engaged_ms: null }])
  })

  it("changes nothing on that site's own report still waiting for the page view", async () => {
    const v = ulid()
    const view = pageview()
    await send(c, v, [engagement(view.id, 30, 2000)])
    expect(await sendAsOther([engagement(view.id, 100, 600_000, onOther)])).toBe(200)
    await send(c, v, [view])
    expect(await c.events(v)).toMatchObject([{ id: view.id, scrollDepth: 30, engagedMs: 2000 }])
  })

  it("does not take the place of that site's own report when it arrives first", async () => {
    const v = ulid()
    const view = pageview()
    expect(await sendAsOther([engagement(view.id, 100, 600_000, onOther)])).toBe(200)
    await send(c, v, [engagement(view.id, 30, 2000)])
    await send(c, v, [view])
    expect(await c.events(v)).toMatchObject([{ id: view.id, scrollDepth: 30, engagedMs: 2000 }])
  })
})

describe('Signals: session engaged time', () => {
  it("is the time between the first and last event until a report comes, then the sum of the page views' reported time", async () => {
    const v = ulid()
    const start = Date.now() - 60_000
    const gap = 30_000
    const [first, second] = [pageview({ t: start }), pageview({ t: start + gap, u: 'https://www.example.com/about' })]
    await send(c, v, [first, second])
    expect((await sessionsOf(c, v)).map((s) => s.engagedMs)).toEqual([gap])

    const [firstMs, secondMs] = [4000, 7000]
    await send(c, v, [engagement(first.id, 50, firstMs)])
    expect((await sessionsOf(c, v)).map((s) => s.engagedMs)).toEqual([firstMs])

    await send(c, v, [engagement(second.id, 80, secondMs, { u: second.u })])
    const sessions = await sessionsOf(c, v)
    expect(sessions).toHaveLength(1)
    expect(sessions[0]).toMatchObject({ pageviews: 2, engagedMs: firstMs + secondMs })
  })
})

describe('Signals: stages of the default journey', () => {
  const pointsFor = (event: string) => DEFAULT_JOURNEY.score!.find((rule) => rule.when.event === event)!.points

  it.each([
    ['a case study by its URL', 'https://www.example.com/files/acme-case-study.pdf', 'Download'],
    ['a guide by its link text', 'https://www.example.com/files/sizes-2026.pdf', 'Sizing guide'],
  ])('enters consideration on downloading %s', async (_, url, text) => {
    const v = ulid()
    await send(c, v, [pageview({ u: 'https://www.example.com/resources' }), signal('d', url, { x: text }, { u: 'https://www.example.com/resources' })])
    const journey = await journeyOf(c, v)
    expect(journey.stage).toBe('consideration')
    expect(journey.entries.find((e) => e.stage === 'consideration')).toMatchObject({ page: '/resources' })
  })

  it('does not enter consideration on downloading a price list alone', async () => {
    const v = ulid()
    await send(c, v, [pageview(), signal('d', 'https://www.example.com/files/price-list.pdf', { x: 'Prices' })])
    expect((await journeyOf(c, v)).stage).toBe('awareness')
  })

  it('enters decision on a contact click', async () => {
    const v = ulid()
    await send(c, v, [pageview(), signal('c', 'mailto:sales@example.com')])
    expect((await journeyOf(c, v)).stage).toBe('decision')
  })

  it('adds the points the default score gives a call to action and a contact click', async () => {
    // What the default journey says: README "The default journey".
    expect([pointsFor('cta'), pointsFor('contact_click')]).toEqual([10, 20])
    const ctaOnly = ulid()
    await send(c, ctaOnly, [pageview(), signal('a', 'Start trial')])
    expect((await journeyOf(c, ctaOnly)).score).toBe(pointsFor('cta'))

    const both = ulid()
    await send(c, both, [pageview(), signal('a', 'Start trial'), signal('c', 'tel:0161 496-0000')])
    expect((await journeyOf(c, both)).score).toBe(pointsFor('cta') + pointsFor('contact_click'))
  })
})

describe('Signals: a configured journey', () => {
  const config: WaymarkConfig = {
    sessionTimeoutMinutes: 30,
    journeys: [{ name: 'demo', stages: [{ name: 'visited', when: [{ visit: true }] }, { name: 'booked', when: [{ event: 'Book demo' }] }] }],
  }
  let custom: Collector
  beforeAll(async () => {
    custom = await collectorWithSite('example.com', { journeys: config })
  })
  afterAll(() => custom.close())

  it('matches { event: "Book demo" } to a call to action of that name, and not to another', async () => {
    const [booker, caller] = [ulid(), ulid()]
    await send(custom, booker, [pageview(), signal('a', 'Book demo', { plan: 'pro' })])
    await send(custom, caller, [pageview(), signal('a', 'Book a call')])
    expect((await journeyOf(custom, booker, 'demo')).stage).toBe('booked')
    expect((await journeyOf(custom, caller, 'demo')).stage).toBe('visited')
    expect(await custom.collector.store.stageCounts(custom.site.id, 'demo')).toEqual([
      { stage: 'visited', people: 0, visitors: 2, companies: 0 },
      { stage: 'booked', people: 0, visitors: 1, companies: 0 },
    ])
  })
})
