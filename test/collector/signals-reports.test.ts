import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_JOURNEY } from '../../collector/stages/config'
import type { StoredEvent } from '../../collector/store/types'
import { eventMaker, random, ulidAt } from '../fixtures/traffic'
import { collectorWithSite } from './helpers'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const OCTOBER = Date.UTC(2026, 9, 1)
const RANGE = 'from=2026-10-01&to=2026-11-01'

const BLOG = '/blog/choosing-a-crm'
const CASE = '/case-studies/acme'
const PDF = 'https://www.example.com/files/sizing-guide.pdf'
const CTA = 'Book demo'
const CONTACT = 'sales@example.com'
const OUTBOUND = 'https://partner.example/integrations'
/** The engaged times of case study views: a long read, a glance, and a glance on a phone. */
const LONG = 30_000
const SHORT = 5_000
const PHONE_GLANCE = 2_000

/** How each channel's first page view arrives (collector/sessions/channel.ts classifies them). */
const CHANNELS = ['Email', 'Organic Search', 'Direct'] as const
type Channel = (typeof CHANNELS)[number]
const ARRIVALS: Record<Channel, Partial<StoredEvent>> = {
  Email: { utmSource: 'newsletter', utmMedium: 'email', utmCampaign: 'october-digest' },
  'Organic Search': { referrer: 'https://www.google.com/' },
  Direct: {},
}

/**
 * What each kind of visitor does, and how often (weights of a seeded pick). Every session is
 * a few events 10 s apart, so no session lasts the 60 s or holds the 3 page views that would
 * move someone to consideration by themselves: the stage moves are the ones named here.
 * Awareness: any visit; consideration: the case study (or the guide); decision: a demo request,
 * an identify or a contact click (collector/stages/config.ts DEFAULT_JOURNEY).
 */
const WEIGHTS = {
  /** Blog, then the case study, scrolled half way in 5 s. Anonymous. */
  skimmer: 4,
  /** Blog, then the case study read to 90 % for 30 s. Anonymous. */
  reader: 4,
  /** As a reader (80 %), then downloads the sizing guide. Anonymous. */
  downloader: 3,
  /** As a reader (100 %), downloads the guide; 3 days later requests a demo and identifies. Some read the case study again on a phone (10 %, 2 s) and identify there too. */
  downloaderLead: 3,
  /** Blog, case study (60 %, 5 s), clicks Book demo, some twice; nothing more. Anonymous. */
  ctaOnly: 3,
  /** Blog, clicks Book demo, then opens the case study (74 %, 5 s): the click comes before consideration. Anonymous. */
  eagerClicker: 2,
  /** Blog, case study (85 %, 30 s); 1 to 5 days later comes from the email campaign, clicks Book demo and requests a demo 0 to 6 days later. */
  quickBooker: 3,
  /** Blog, case study (20 %, 5 s), clicks Book demo; requests a demo 8 to 12 days later. */
  slowBooker: 2,
  /** Blog, clicks the sales address (decision), then reads the case study (75 %, 30 s); some click the address again. Anonymous. */
  contactClicker: 2,
  /** Blog, clicks the outbound link; nothing more. Anonymous. */
  outbounder: 3,
  /** Blog, case study (the tag reported no engagement), clicks Book demo on 29 or 30 October; requests a demo 3 days later, in November. */
  lateBooker: 1,
  /** In late September: blog, case study, guide; in early October requests a demo and identifies. */
  earlyReader: 2,
  /** Blog and case study just before midnight on 30 September, the guide and the outbound link just after: no page view in October. Anonymous. */
  midnightDownloader: 1,
}
type Persona = keyof typeof WEIGHTS

interface Planned {
  persona: Persona
  visitorId: string
  /** The channel of the first visit. */
  channel: Channel
  /** Clicked their CTA or contact link a second time. */
  twice: boolean
  /** A downloaderLead's second browser. */
  phone?: string
}


/** One month of traffic of `count` planned visitors, and a few bots. */
function plan(siteId: string, seed: number, count: number, bots: number) {
  const rnd = random(seed)
  const personas = (Object.entries(WEIGHTS) as [Persona, number][]).flatMap(([persona, weight]) => Array<Persona>(weight).fill(persona))
  const visitors: Planned[] = []
  const events: StoredEvent[] = []

  const event = eventMaker(siteId, rnd)
  /**
   * One visit: its steps 10 s apart, the first page view arriving by the channel. A page view's
   * depth and engaged time come as the collector stores them from the tag: a page_engagement
   * naming the view, merged into it (appendEvents does not write them from the view itself).
   */
  const visit = (visitorId: string, start: number, channel: Channel, steps: Partial<StoredEvent>[], more: Partial<StoredEvent> = {}) =>
    steps.forEach(({ scrollDepth, engagedMs, ...step }, i) => {
      const at = start + i * 10 * SECOND
      const stored = event(visitorId, at, { ...(i === 0 ? ARRIVALS[channel] : {}), ...more, ...step })
      events.push(stored)
      if (scrollDepth !== undefined && engagedMs !== undefined)
        events.push(event(visitorId, at + 5 * SECOND, { ...more, kind: 'page_engagement', name: stored.id, path: stored.path, props: { scrollDepth, engagedMs } }))
    })

  const blog: Partial<StoredEvent> = { path: BLOG, scrollDepth: 40, engagedMs: 3_000 }
  const caseStudy = (scrollDepth?: number, engagedMs?: number): Partial<StoredEvent> => ({ path: CASE, scrollDepth, engagedMs })
  const download: Partial<StoredEvent> = { kind: 'file_download', name: PDF, path: CASE, props: { text: 'Sizing guide (PDF)' } }
  const cta: Partial<StoredEvent> = { kind: 'cta', name: CTA, path: CASE }
  const contact: Partial<StoredEvent> = { kind: 'contact_click', name: CONTACT, path: BLOG, props: { kind: 'email' } }
  const outbound: Partial<StoredEvent> = { kind: 'outbound_click', name: OUTBOUND, path: BLOG }
  const demoRequest = (email: string): Partial<StoredEvent>[] => [
    { path: '/demo' },
    { kind: 'form_submit', name: 'demo-request', path: '/demo' },
    { kind: 'identify', name: email, path: '/demo' },
  ]

  for (let i = 0; i < count; i++) {
    const persona = rnd.pick(personas)
    const visitorId = ulidAt(OCTOBER, rnd)
    const channel = rnd.pick(CHANNELS)
    const twice = rnd.next() < 0.5
    const email = `buyer${i}@firm-${i}.example`
    const visitor: Planned = { persona, visitorId, channel, twice }
    const day = persona === 'lateBooker' ? rnd.int(28, 29) : persona === 'earlyReader' ? -rnd.int(3, 7) : rnd.int(0, 17)
    const start = persona === 'midnightDownloader' ? OCTOBER - 15 * SECOND : OCTOBER + day * DAY + rnd.int(8, 18) * HOUR + rnd.int(0, 59) * MINUTE
    const later = (days: number) => start + days * DAY + rnd.int(0, 3) * HOUR
    const own = (at: number, steps: Partial<StoredEvent>[], via: Channel = 'Direct') => visit(visitorId, at, via, steps)

    if (persona === 'skimmer') own(start, [blog, caseStudy(50, SHORT)], channel)
    if (persona === 'reader') own(start, [blog, caseStudy(90, LONG)], channel)
    if (persona === 'downloader') own(start, [blog, caseStudy(80, LONG), download], channel)
    if (persona === 'downloaderLead') {
      own(start, [blog, caseStudy(100, LONG), download], channel)
      const decided = later(3)
      own(decided, demoRequest(email))
      if (rnd.next() < 0.4) {
        visitor.phone = ulidAt(OCTOBER, rnd)
        visit(visitor.phone, decided + DAY, 'Direct', [caseStudy(10, PHONE_GLANCE), { kind: 'identify', name: email, path: CASE }], { device: 'mobile', os: 'iOS', browser: 'Mobile Safari' })
      }
    }
    if (persona === 'ctaOnly') own(start, [blog, caseStudy(60, SHORT), cta, ...(twice ? [cta] : [])], channel)
    if (persona === 'eagerClicker') own(start, [blog, { ...cta, path: BLOG }, caseStudy(74, SHORT)], channel)
    if (persona === 'quickBooker') {
      own(start, [blog, caseStudy(85, LONG)], channel)
      const back = later(rnd.int(1, 5))
      const wait = rnd.int(0, 6)
      const clicked: Partial<StoredEvent>[] = [{ path: '/pricing' }, { ...cta, path: '/pricing' }]
      // The demo request follows the click in the same visit, or in one exactly `wait` days later: within 7 days either way.
      if (wait === 0) own(back, [...clicked, ...demoRequest(email)], 'Email')
      else {
        own(back, clicked, 'Email')
        own(back + wait * DAY, demoRequest(email))
      }
    }
    if (persona === 'slowBooker') {
      own(start, [blog, caseStudy(20, SHORT), cta], channel)
      own(later(rnd.int(8, 12)), demoRequest(email))
    }
    if (persona === 'contactClicker') own(start, [blog, contact, caseStudy(75, LONG), ...(twice ? [contact] : [])], channel)
    if (persona === 'outbounder') own(start, [blog, outbound], channel)
    if (persona === 'midnightDownloader') own(start, [blog, caseStudy(90, LONG), download, { ...outbound, path: CASE }], channel)
    if (persona === 'lateBooker') {
      own(start, [blog, caseStudy(), cta], channel)
      own(start + 3 * DAY, demoRequest(email))
    }
    if (persona === 'earlyReader') {
      own(start, [blog, caseStudy(90, LONG), download], channel)
      own(OCTOBER + rnd.int(1, 4) * DAY + rnd.int(8, 18) * HOUR, demoRequest(email))
    }
    visitors.push(visitor)
  }

  // Bots do everything a person might; none of it may count.
  for (let i = 0; i < bots; i++) {
    const at = OCTOBER + rnd.int(0, 29) * DAY + rnd.int(0, 23) * HOUR
    const bot = { isBot: true, browser: 'HeadlessChrome' }
    visit(ulidAt(OCTOBER, rnd), at, 'Direct', [blog, caseStudy(100, 1), download, cta, contact, outbound, { kind: 'form_submit', name: 'demo-request', path: '/demo' }], bot)
  }
  return { visitors, events }
}

/** A share as the reports give it: a fraction to 4 places. */
const share = (part: number, whole: number) => Math.round((part / whole) * 10_000) / 10_000
/** Every stage of the journey in order, with the views planned at it (0 elsewhere). */
const atStages = (views: Record<string, number>) => DEFAULT_JOURNEY.stages.map((s) => ({ stage: s.name, views: views[s.name] ?? 0 }))

interface Row {
  key: string | null
  clicks: number
  people: number
  wentOn: number
}
const byKey = (rows: Row[]) => [...rows].sort((a, b) => String(a.key).localeCompare(String(b.key)))

describe('content and CTA reports over HTTP, on a generated month whose outcomes are planned', () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>>
  let visitors: Planned[]
  const report = async (name: string) => {
    const response = await fetch(`${c.url}/api/reports/${name}?${RANGE}`, { headers: { Authorization: `Bearer ${c.readToken}` } })
    expect(response.status, await response.clone().text()).toBe(200)
    return response.json()
  }
  const of = (...personas: Persona[]) => visitors.filter((v) => personas.includes(v.persona))
  const count = (...personas: Persona[]) => of(...personas).length
  const phones = () => of('downloaderLead').filter((v) => v.phone).length

  /** Planned clicks on one item as report rows keyed by channel or stage: per visitor, their clicks and whether they went on. */
  const rows = (clickers: { key: string; clicks: number; wentOn: boolean }[]): Row[] => {
    const found = new Map<string, Row>()
    for (const { key, clicks, wentOn } of clickers) {
      const row = found.get(key) ?? { key, clicks: 0, people: 0, wentOn: 0 }
      found.set(key, { key, clicks: row.clicks + clicks, people: row.people + 1, wentOn: row.wentOn + (wentOn ? 1 : 0) })
    }
    return byKey([...found.values()])
  }

  beforeAll(async () => {
    c = await collectorWithSite()
    const generated = plan(c.site.id, 11, 360, 12)
    visitors = generated.visitors
    await c.collector.store.appendEvents(generated.events)
  })
  afterAll(() => c.close())

  it('the plan has every persona, and more long reads of the case study than glances', () => {
    for (const persona of Object.keys(WEIGHTS) as Persona[]) expect(count(persona), persona).toBeGreaterThanOrEqual(5)
    expect(phones()).toBeGreaterThan(0)
    expect(of('ctaOnly', 'contactClicker').some((v) => v.twice)).toBe(true)
    // So the median engaged time of the case study's views is the long read (see below).
    expect(count('reader', 'downloader', 'downloaderLead', 'quickBooker', 'contactClicker')).toBeGreaterThan(count('skimmer', 'ctaOnly', 'slowBooker', 'eagerClicker') + phones())
  })

  // Converters, toward decision (the default goal): those entering decision in October. The
  // demo requests of downloaderLeads, quickBookers (at most 5 + 6 days after an 18 October
  // start), slowBookers (at most 12) and earlyReaders, and the contact clicks; the lateBookers
  // decide in November. Owners: every planned visitor has a page view or a download in October
  // or the 30 days before it (the influence window).
  const converters = () => count('downloaderLead', 'quickBooker', 'slowBooker', 'contactClicker', 'earlyReader')
  const owners = () => visitors.length
  const ratio = (assisted: number, consumers: number) => Math.round((assisted / converters() / (consumers / owners())) * 100) / 100

  it('content: the case study', async () => {
    const content = await report('content')
    expect(content.goal).toBe('decision')
    const page = content.pages.find((p: { path: string }) => p.path === CASE)
    // Everyone but outbounders reads it in October; earlyReaders and midnightDownloaders read it in September, out of range.
    const readers = count('skimmer', 'reader', 'downloader', 'downloaderLead', 'ctaOnly', 'eagerClicker', 'quickBooker', 'slowBooker', 'contactClicker', 'lateBooker')
    // A phone view is a second view of a person already counted.
    expect(page.views).toBe(readers + phones())
    expect(page.visitors).toBe(readers)
    // Known by now: those who requested a demo, in October or (lateBookers) in November.
    const known = count('downloaderLead', 'quickBooker', 'slowBooker', 'lateBooker')
    expect(page.known).toBe(known)
    expect(page.knownShare).toBe(share(known, readers))
    // Past 75 %: 90, 80, 100 (the phone's 10 % does not lower it), 85 and exactly 75; not 50, 60, 74
    // or 20. LateBookers' views reported no depth, so they are out of the share's base.
    const read = count('reader', 'downloader', 'downloaderLead', 'quickBooker', 'contactClicker')
    expect(page.readPast75).toBe(read)
    expect(page.read75Share).toBe(share(read, readers - count('lateBooker')))
    expect(page.medianEngagedMs).toBe(LONG)
    // The view moves everyone to consideration, save contactClickers, who had clicked the sales
    // address (decision) before, and the phone views, after the demo request.
    expect(page.stages).toEqual(atStages({ consideration: readers - count('contactClicker'), decision: count('contactClicker') + phones() }))
    // Assisted: every converter but contactClickers, who read it only after deciding; earlyReaders
    // count, their September read being within 30 days of their decision.
    const assisted = count('downloaderLead', 'quickBooker', 'slowBooker', 'earlyReader')
    // The influence's consumers are those of the range and the 30 days before it, as its assists are:
    // the September readers too.
    const consumers = readers + count('earlyReader', 'midnightDownloader')
    expect(page.influence).toEqual({ converters: converters(), assisted, consumers, owners: owners(), ratio: ratio(assisted, consumers) })
  })

  it('content: the sizing guide', async () => {
    const content = await report('content')
    expect(content.files.map((f: { url: string }) => f.url)).toEqual([PDF])
    const file = content.files[0]
    // The earlyReaders' downloads are in September, out of range; the midnightDownloaders' just in.
    const downloaders = count('downloader', 'downloaderLead', 'midnightDownloader')
    expect(file.views).toBe(downloaders)
    expect(file.visitors).toBe(downloaders)
    expect(file.known).toBe(count('downloaderLead'))
    expect(file.knownShare).toBe(share(count('downloaderLead'), downloaders))
    // Downloaded right after the case study had moved them to consideration (midnightDownloaders the day before).
    expect(file.stages).toEqual(atStages({ consideration: downloaders }))
    const assisted = count('downloaderLead', 'earlyReader')
    const consumers = downloaders + count('earlyReader')
    expect(file.influence).toEqual({ converters: converters(), assisted, consumers, owners: owners(), ratio: ratio(assisted, consumers) })
  })

  it('content: the blog post, the pricing page, and the totals', async () => {
    const content = await report('content')
    const page = content.pages.find((p: { path: string }) => p.path === BLOG)
    expect(content.pages[0].path).toBe(BLOG)
    // Everyone's first page, in October but for earlyReaders and midnightDownloaders; the visit itself is awareness.
    const readers = visitors.length - count('earlyReader', 'midnightDownloader')
    expect(page).toMatchObject({ views: readers, visitors: readers, known: count('downloaderLead', 'quickBooker', 'slowBooker', 'lateBooker') })
    expect(page).toMatchObject({ readPast75: 0, read75Share: 0, medianEngagedMs: 3_000, stages: atStages({ awareness: readers }) })
    // Every converter read it first (earlyReaders in September, within the 30 days).
    expect(page.influence).toEqual({ converters: converters(), assisted: converters(), consumers: visitors.length, owners: owners(), ratio: ratio(converters(), visitors.length) })

    // The pricing page: quickBookers', on their way back from the campaign, already considering;
    // the tag reported no depth or time for it, so there is nothing to share or take a median of.
    const pricing = content.pages.find((p: { path: string }) => p.path === '/pricing')
    const bookers = count('quickBooker')
    expect(pricing).toMatchObject({ views: bookers, visitors: bookers, known: bookers, knownShare: 1, readPast75: 0, read75Share: null, medianEngagedMs: null })
    expect(pricing.stages).toEqual(atStages({ consideration: bookers }))
    expect(pricing.influence).toEqual({ converters: converters(), assisted: bookers, consumers: bookers, owners: owners(), ratio: ratio(bookers, bookers) })

    // Page views in October: the blog, the case study, the quickBookers' pricing page and the
    // demo page of every demo request but the lateBookers'.
    const caseViews = count('skimmer', 'reader', 'downloader', 'downloaderLead', 'ctaOnly', 'eagerClicker', 'quickBooker', 'slowBooker', 'contactClicker', 'lateBooker') + phones()
    const demoViews = count('downloaderLead', 'quickBooker', 'slowBooker', 'earlyReader')
    expect(content.totals).toEqual({
      pages: 4,
      pageViews: readers + caseViews + count('quickBooker') + demoViews,
      files: 1,
      downloads: count('downloader', 'downloaderLead', 'midnightDownloader'),
      owners: owners(),
      converters: converters(),
    })
  })

  it('ctas: Book demo, with who went on to a form or a stage within 7 days', async () => {
    const ctas = await report('ctas')
    expect(ctas.ctas.map((i: { name: string }) => i.name)).toEqual([CTA])
    const item = ctas.ctas[0]
    const clickers = of('ctaOnly', 'eagerClicker', 'quickBooker', 'slowBooker', 'lateBooker')
    const clicks = clickers.length + of('ctaOnly').filter((v) => v.twice).length
    // QuickBookers and lateBookers request a demo (a form, and decision) within 6 and 3 days;
    // eagerClickers open the case study (consideration) 10 s after; slowBookers wait 8 days or more.
    const wentOn = (v: Planned) => ['quickBooker', 'lateBooker', 'eagerClicker'].includes(v.persona)
    expect(item).toMatchObject({
      clicks,
      people: clickers.length,
      submittedForm: count('quickBooker', 'lateBooker'),
      advanced: count('quickBooker', 'lateBooker', 'eagerClicker'),
      wentOn: count('quickBooker', 'lateBooker', 'eagerClicker'),
      wentOnShare: share(count('quickBooker', 'lateBooker', 'eagerClicker'), clickers.length),
    })
    // QuickBookers click in their visit from the email campaign; the others in their first visit.
    const clicked = clickers.map((v) => ({ v, clicks: v.persona === 'ctaOnly' && v.twice ? 2 : 1, wentOn: wentOn(v) }))
    expect(byKey(item.byChannel)).toEqual(rows(clicked.map(({ v, ...rest }) => ({ key: v.persona === 'quickBooker' ? 'Email' : v.channel, ...rest }))))
    // EagerClickers click on the blog, before the case study; the others after it.
    expect(item.byStage).toEqual([
      { key: 'awareness', clicks: count('eagerClicker'), people: count('eagerClicker'), wentOn: count('eagerClicker') },
      { key: 'consideration', clicks: clicks - count('eagerClicker'), people: clickers.length - count('eagerClicker'), wentOn: count('quickBooker', 'lateBooker') },
    ])
  })

  it('ctas: the sales address, whose click is itself the move to decision', async () => {
    const ctas = await report('ctas')
    expect(ctas.contacts.map((i: { name: string }) => i.name)).toEqual([CONTACT])
    const item = ctas.contacts[0]
    const clickers = of('contactClicker')
    const clicks = clickers.length + clickers.filter((v) => v.twice).length
    expect(item).toMatchObject({ kind: 'email', clicks, people: clickers.length, submittedForm: 0, advanced: clickers.length, wentOn: clickers.length, wentOnShare: 1 })
    expect(byKey(item.byChannel)).toEqual(rows(clickers.map((v) => ({ key: v.channel, clicks: v.twice ? 2 : 1, wentOn: true }))))
    // The first click moved them to decision at its moment, so both clicks are at decision.
    expect(item.byStage).toEqual([{ key: 'decision', clicks, people: clickers.length, wentOn: clickers.length }])
  })

  it('ctas: the outbound link, after which nothing happened', async () => {
    const ctas = await report('ctas')
    expect(ctas.outbound.map((i: { name: string }) => i.name)).toEqual([OUTBOUND])
    const item = ctas.outbound[0]
    const clickers = of('outbounder', 'midnightDownloader')
    expect(item).toMatchObject({ clicks: clickers.length, people: clickers.length, submittedForm: 0, advanced: 0, wentOn: 0, wentOnShare: 0 })
    // The midnightDownloaders' clicks are in a visit that began on 30 September: its channel still counts.
    expect(byKey(item.byChannel)).toEqual(rows(clickers.map((v) => ({ key: v.channel, clicks: 1, wentOn: false }))))
    // Outbounders click from the blog; midnightDownloaders after the case study.
    expect(item.byStage).toEqual([
      { key: 'awareness', clicks: count('outbounder'), people: count('outbounder'), wentOn: 0 },
      { key: 'consideration', clicks: count('midnightDownloader'), people: count('midnightDownloader'), wentOn: 0 },
    ])
  })

  it('ctas: the totals, bots left out', async () => {
    const ctas = await report('ctas')
    const twice = of('ctaOnly', 'contactClicker').filter((v) => v.twice).length
    const clickers = count('ctaOnly', 'eagerClicker', 'quickBooker', 'slowBooker', 'lateBooker', 'contactClicker', 'outbounder', 'midnightDownloader')
    expect(ctas.totals).toEqual({ ctas: 1, contacts: 1, outbound: 1, clicks: clickers + twice, people: clickers })
  })
})
