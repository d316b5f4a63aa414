import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_JOURNEY, type Journey, type WaymarkConfig } from '../../collector/stages/config'
import type { StoredEvent } from '../../collector/store/types'
import { eventMaker, random, ulidAt } from '../fixtures/traffic'
import { collectorWithSite } from './helpers'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
/** Day 0 of the plan. Jan: days 0–30, Feb: 31–58, Mar: 59–89, Apr: 90–119; 1 May is day 120. */
const JAN_1 = Date.UTC(2025, 0, 1)
/** Four months; every report is judged at its end, 1 May (day 120), long past. */
const RANGE = 'from=2025-01-01&to=2025-05-01'

/**
 * The default journey, except that an identify alone does not enter decision: here everyone says
 * who they are on their first visit (a newsletter or webinar form), and only the demo request
 * ("demo-request" matches the default *demo* form rule) moves a person, and so a company, to decision.
 */
const JOURNEY: Journey = {
  ...DEFAULT_JOURNEY,
  stages: DEFAULT_JOURNEY.stages.map((s) => (s.name === 'decision' ? { ...s, when: s.when.filter((c) => !c.identify) } : s)),
}
const CONFIG: WaymarkConfig = { sessionTimeoutMinutes: 30, journeys: [JOURNEY] }

/** How a visit's first page view arrives, by the channel collector/sessions/channel.ts makes of it. */
type Channel = 'Email' | 'Organic Search' | 'Direct' | 'Organic Social'
const ARRIVALS: Record<Channel, Partial<StoredEvent>> = {
  Email: { utmSource: 'newsletter', utmMedium: 'email', utmCampaign: 'q1-digest' },
  'Organic Search': { referrer: 'https://www.google.com/' },
  Direct: {},
  'Organic Social': { referrer: 'https://www.linkedin.com/' },
}

/**
 * One visit: a page view on `day` at 09:00 plus the person's number in minutes (midnight for a
 * "midnight" visit), then 10 s apart: on the first visit an identify (and the company's group
 * call, by its first person); on a "demo" visit the demo form started and submitted. No visit
 * has 3 page views or lasts 60 s, so a person considers only by a second visit, a /pricing or
 * /case-studies page, or the demo form's start.
 */
type Visit = [day: number, channel: Channel, page: string, flag?: 'demo' | 'midnight']
interface PlannedPerson {
  name: string
  traits: Record<string, string>
  visits: Visit[]
}
interface PlannedCompany {
  domain: string
  /** Sent with a group call by the company's first person. */
  group?: Record<string, string | number>
  people: PlannedPerson[]
}

const PLAN: PlannedCompany[] = [
  {
    domain: 'acme.example',
    group: { name: 'Acme Corp', industry: 'Software', employees: 250, country: 'US' },
    people: [
      { name: 'ana', traits: { title: 'CTO' }, visits: [[5, 'Organic Search', '/blog/a'], [12, 'Email', '/pricing'], [20, 'Direct', '/demo', 'demo']] },
      { name: 'ben', traits: { title: 'CFO' }, visits: [[15, 'Organic Social', '/blog/b'], [40, 'Email', '/pricing']] },
      { name: 'cara', traits: { title: 'Engineer' }, visits: [[95, 'Direct', '/docs/setup']] },
    ],
  },
  {
    domain: 'birch.example',
    group: { name: 'Birch Ltd', industry: 'software', employees: 40, country: 'UK' },
    people: [
      { name: 'dan', traits: { jobTitle: 'CTO' }, visits: [[10, 'Email', '/blog/c'], [100, 'Email', '/pricing']] },
      { name: 'eve', traits: { role: 'VP Marketing' }, visits: [[33, 'Organic Search', '/blog/d'], [45, 'Organic Search', '/case-studies/x'], [50, 'Direct', '/demo', 'demo']] },
    ],
  },
  {
    domain: 'cedar.example',
    group: { industry: 'Manufacturing', employees: 1200, country: 'DE' },
    people: [{ name: 'finn', traits: { title: 'cto' }, visits: [[2, 'Direct', '/'], [3, 'Direct', '/pricing'], [4, 'Email', '/demo', 'demo']] }],
  },
  {
    domain: 'delta.example',
    people: [
      { name: 'gus', traits: { title: 'Head of IT' }, visits: [[31, 'Organic Social', '/blog/e'], [60, 'Organic Search', '/blog/f']] },
      { name: 'hana', traits: { position: 'CFO' }, visits: [[62, 'Email', '/pricing'], [92, 'Email', '/demo', 'demo']] },
    ],
  },
  {
    domain: 'elm.example',
    group: { industry: 'Software', employees: 15, country: 'US' },
    people: [{ name: 'ivy', traits: { job_title: 'CTO' }, visits: [[30, 'Organic Search', '/blog/g', 'midnight'], [70, 'Direct', '/pricing'], [85, 'Email', '/demo', 'demo']] }],
  },
  {
    domain: 'fir.example',
    people: [
      { name: 'jon', traits: { title: 'CTO' }, visits: [[40, 'Direct', '/blog/h']] },
      { name: 'kim', traits: {}, visits: [[41, 'Organic Search', '/blog/i']] },
    ],
  },
  {
    domain: 'grove.example',
    group: { industry: 'Retail', employees: 5000, country: 'FR' },
    people: [
      { name: 'mia', traits: { title: 'CEO' }, visits: [[64, 'Organic Social', '/blog/j'], [93, 'Organic Social', '/blog/k']] },
      { name: 'leo', traits: { title: 'CTO' }, visits: [[65, 'Email', '/pricing'], [66, 'Email', '/demo', 'demo']] },
      { name: 'ned', traits: { title: 'Developer' }, visits: [[70, 'Organic Search', '/docs/api']] },
      { name: 'ola', traits: { role: 'Procurement' }, visits: [[71, 'Direct', '/pricing']] },
    ],
  },
  {
    domain: 'hazel.example',
    group: { industry: 'Software', employees: 80, country: 'CA' },
    people: [{ name: 'pia', traits: { title: 'CFO' }, visits: [[75, 'Organic Search', '/blog/l'], [76, 'Organic Search', '/blog/m'], [77, 'Organic Search', '/blog/n']] }],
  },
  {
    domain: 'iris.example',
    people: [
      { name: 'quinn', traits: { title: 'CTO' }, visits: [[80, 'Email', '/blog/o'], [81, 'Direct', '/demo', 'demo']] },
      { name: 'rosa', traits: { title: 'Analyst' }, visits: [[82, 'Email', '/blog/p']] },
    ],
  },
  {
    domain: 'juniper.example',
    group: { industry: 'Software', employees: 500, country: 'US' },
    people: [
      { name: 'sam', traits: { title: 'VP Engineering' }, visits: [[95, 'Direct', '/blog/q'], [100, 'Direct', '/pricing'], [105, 'Organic Search', '/demo', 'demo']] },
      { name: 'tia', traits: { title: 'CTO' }, visits: [[96, 'Organic Social', '/blog/r']] },
      { name: 'uma', traits: { title: 'Designer' }, visits: [[97, 'Direct', '/blog/s']] },
    ],
  },
  { domain: 'kelp.example', people: [{ name: 'vic', traits: { role: 'Owner' }, visits: [[110, 'Organic Search', '/blog/t']] }] },
  {
    domain: 'larch.example',
    group: { industry: 'Finance', employees: 2000, country: 'UK' },
    people: [
      { name: 'wes', traits: { title: 'CTO' }, visits: [[8, 'Direct', '/blog/u'], [9, 'Direct', '/blog/v'], [11, 'Email', '/demo', 'demo']] },
      // Asks for a demo on her first visit, a minute after wes's second: she moves the account to decision.
      { name: 'xena', traits: { title: 'CFO' }, visits: [[9, 'Email', '/pricing', 'demo']] },
    ],
  },
]
/** A CTO on free mail: a known person of no company. */
const FREE_MAIL: PlannedPerson = { name: 'yuri', traits: { title: 'CTO' }, visits: [[20, 'Organic Search', '/blog/x'], [25, 'Organic Search', '/demo', 'demo']] }
/** Visitors who never say who they are. */
const ANONYMOUS: PlannedPerson[] = [
  { name: 'z1', traits: {}, visits: [[5, 'Organic Search', '/blog/y']] },
  { name: 'z2', traits: {}, visits: [[6, 'Direct', '/pricing']] },
  { name: 'z3', traits: {}, visits: [[7, 'Email', '/demo', 'demo']] },
]


const emailOf = (name: string) => {
  if (name === FREE_MAIL.name) return `${name}@gmail.com`
  const company = PLAN.find((c) => c.people.some((p) => p.name === name))!
  return `${name}@${company.domain}`
}

function history(siteId: string, seed: number): StoredEvent[] {
  const rnd = random(seed)
  const events: StoredEvent[] = []
  const event = eventMaker(siteId, rnd)
  const everyone = [
    ...PLAN.flatMap((company) => company.people.map((person, i) => ({ person, company, sendsGroup: i === 0 && company.group !== undefined }))),
    { person: FREE_MAIL, company: undefined, sendsGroup: false },
    ...ANONYMOUS.map((person) => ({ person, company: undefined, sendsGroup: false, anonymous: true })),
  ]
  everyone.forEach(({ person, company, sendsGroup, ...rest }, number) => {
    const visitorId = ulidAt(JAN_1, rnd)
    const anonymous = 'anonymous' in rest
    person.visits.forEach(([day, channel, page, flag], v) => {
      let at = JAN_1 + day * DAY + (flag === 'midnight' ? 0 : 9 * HOUR + number * MINUTE)
      const next = (fields: Partial<StoredEvent>) => {
        events.push(event(visitorId, at, fields))
        at += 10 * SECOND
      }
      next({ path: page, ...ARRIVALS[channel] })
      if (v === 0 && !anonymous) next({ kind: 'identify', name: emailOf(person.name), path: page, props: person.traits })
      if (v === 0 && sendsGroup)
        next({ kind: 'group', name: `acct-${company!.domain.split('.')[0]}`, path: page, props: { domain: company!.domain, ...company!.group } })
      if (flag === 'demo') {
        next({ kind: 'form_start', name: 'demo-request', path: page })
        next({ kind: 'form_submit', name: 'demo-request', path: page })
      }
    })
  })
  return events
}

/** A report's JSON, read as a client would, without the server's types. */
type Json = any

describe('buying committees, journey length, paths and cohorts over HTTP, on a planned history', () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>>
  const report = async (name: string, query = RANGE): Promise<Json> => {
    const response = await fetch(`${c.url}/api/reports/${name}?${query}`, { headers: { Authorization: `Bearer ${c.readToken}` } })
    expect(response.status, await response.clone().text()).toBe(200)
    return response.json()
  }
  const stage = (rows: { stage: string }[], name: string): Json => rows.find((r) => r.stage === name)

  beforeAll(async () => {
    c = await collectorWithSite('example.com', { journeys: CONFIG })
    await c.collector.store.appendEvents(history(c.site.id, 11))
  })
  afterAll(() => c.close())

  describe('length', () => {
    it('people: touches, days and channels from the first touch to each stage', async () => {
      const { reference, people } = await report('length')
      expect(reference).toEqual({ touches: 31, days: 192, channels: 3.1 })
      // Awareness is entered at the first page view, the moment of the first touch: 1 touch, 0 days, for all 25 known people.
      expect(stage(people, 'awareness')).toEqual({
        stage: 'awareness', reached: 25, touches: { median: 1, p75: 1 }, days: { median: 0, p75: 0 }, channels: { median: 1, p75: 1 },
      })
      // Second visit, /pricing, /case-studies or the demo form: all but cara, jon, kim, ned, rosa, tia, uma and vic.
      expect(stage(people, 'consideration').reached).toBe(17)
      // The 11 who asked for a demo (touches, days, channels): xena 1, 0, 1; leo 2, 1, 1; quinn 2, 1, 2;
      // finn 3, 2, 2; wes 3, 3, 2; yuri 2, 5, 1; sam 3, 10, 2; ana 3, 15, 3; eve 3, 17, 2; hana 2, 30, 1;
      // ivy 3, 55.38, 3 (from midnight to 09:08 55 days later). Anonymous z3 is no person.
      // Touches 1 2 2 2 2 3 3 3 3 3 3: median (rank 5) 3, p75 (rank 7.5) 3.
      // Days 0 1 1 2 3 5 10 15 17 30 55.38: median 5, p75 (15 + 17) / 2 = 16.
      // Channels 1 1 1 1 2 2 2 2 2 3 3: median 2, p75 2.
      expect(stage(people, 'decision')).toEqual({
        stage: 'decision', reached: 11, touches: { median: 3, p75: 3 }, days: { median: 5, p75: 16 }, channels: { median: 2, p75: 2 },
      })
      expect(stage(people, 'purchase').reached).toBe(0)
    })

    it('companies: all their people’s touches up to the first demo request', async () => {
      const { companies } = await report('length')
      expect(stage(companies, 'awareness').reached).toBe(12)
      // (touches, days, channels): acme 4, 15, 4 (ana's three and ben's first); birch 4, 40, 3 (dan's first, eve's three);
      // cedar 3, 2, 2; delta 4, 61, 3; elm 3, 55.38, 3; grove 3, 2, 2 (mia's first, leo's two); iris 2, 1, 2;
      // juniper 5, 10, 3 (sam's three, tia's, uma's); larch 3, 1, 2 (wes's two, xena's one).
      // Touches 2 3 3 3 3 4 4 4 5: median (rank 4) 3, p75 (rank 6) 4. Days 1 1 2 2 10 15 40 55.38 61: 10, 40.
      // Channels 2 2 2 2 3 3 3 3 4: 3, 3.
      expect(stage(companies, 'decision')).toEqual({
        stage: 'decision', reached: 9, touches: { median: 3, p75: 4 }, days: { median: 10, p75: 40 }, channels: { median: 3, p75: 3 },
      })
    })
  })

  describe('accounts', () => {
    /** [person, role, cameFirst, movedToGoal, engaged] for each member, in the order listed. */
    type Member = [name: string, role: string | null, cameFirst: boolean, movedToGoal: boolean, engaged: boolean]
    const committee = (account: Json): Member[] =>
      account.members.map((m: Json) => [m.name, m.role, m.cameFirst, m.movedToGoal, m.engaged])
    const m = (name: string, role: string | null, cameFirst: boolean, movedToGoal: boolean, engaged: boolean): Member => [emailOf(name), role, cameFirst, movedToGoal, engaged]

    it('lists each company’s committee: roles, who came first, who asked for the demo, who was seen since 1 April', async () => {
      const { goal, asOf, engagedDays, total, accounts } = await report('accounts')
      expect([goal, asOf, engagedDays, total]).toEqual(['decision', '2025-05-01T00:00:00.000Z', 30, 12])
      const byDomain = Object.fromEntries(accounts.map((a: Json) => [a.domain, a]))
      // Engaged: a session since 1 April (day 90): cara, dan, hana, mia, sam, tia, uma and vic.
      expect(committee(byDomain['acme.example'])).toEqual([
        m('ana', 'CTO', true, true, false), m('ben', 'CFO', false, false, false), m('cara', 'Engineer', false, false, true),
      ])
      expect(committee(byDomain['birch.example'])).toEqual([m('dan', 'CTO', true, false, true), m('eve', 'VP Marketing', false, true, false)])
      expect(committee(byDomain['cedar.example'])).toEqual([m('finn', 'cto', true, true, false)])
      expect(committee(byDomain['delta.example'])).toEqual([m('gus', 'Head of IT', true, false, false), m('hana', 'CFO', false, true, true)])
      expect(committee(byDomain['elm.example'])).toEqual([m('ivy', 'CTO', true, true, false)])
      expect(committee(byDomain['fir.example'])).toEqual([m('jon', 'CTO', true, false, false), m('kim', null, false, false, false)])
      expect(committee(byDomain['grove.example'])).toEqual([
        m('mia', 'CEO', true, false, true), m('leo', 'CTO', false, true, false), m('ned', 'Developer', false, false, false), m('ola', 'Procurement', false, false, false),
      ])
      expect(committee(byDomain['hazel.example'])).toEqual([m('pia', 'CFO', true, false, false)])
      expect(committee(byDomain['iris.example'])).toEqual([m('quinn', 'CTO', true, true, false), m('rosa', 'Analyst', false, false, false)])
      expect(committee(byDomain['juniper.example'])).toEqual([
        m('sam', 'VP Engineering', true, true, true), m('tia', 'CTO', false, false, true), m('uma', 'Designer', false, false, true),
      ])
      expect(committee(byDomain['kelp.example'])).toEqual([m('vic', 'Owner', true, false, true)])
      // Xena's demo request on day 9 came before wes's on day 11.
      expect(committee(byDomain['larch.example'])).toEqual([m('wes', 'CTO', true, false, false), m('xena', 'CFO', false, true, false)])
      // The free-mail CTO belongs to no company.
      expect(accounts.flatMap((a: Json) => a.members.map((x: Json) => x.name))).not.toContain(emailOf('yuri'))
    })

    it('orders accounts by engaged people, then stage, then people, then when last seen', async () => {
      const { accounts } = await report('accounts')
      // juniper 3 engaged; then 1 engaged: grove, acme, birch, delta at decision by people 4, 3, 2, 2 (birch
      // seen on day 100, delta on day 92), kelp at awareness; then none engaged: iris, larch (2 people; seen
      // days 82 and 11), elm, cedar (1; days 85 and 4) at decision, hazel at consideration, fir at awareness.
      expect(accounts.map((a: Json) => [a.domain, a.engagedPeople, a.stage, a.people])).toEqual([
        ['juniper.example', 3, 'decision', 3],
        ['grove.example', 1, 'decision', 4],
        ['acme.example', 1, 'decision', 3],
        ['birch.example', 1, 'decision', 2],
        ['delta.example', 1, 'decision', 2],
        ['kelp.example', 1, 'awareness', 1],
        ['iris.example', 0, 'decision', 2],
        ['larch.example', 0, 'decision', 2],
        ['elm.example', 0, 'decision', 1],
        ['cedar.example', 0, 'decision', 1],
        ['hazel.example', 0, 'consideration', 1],
        ['fir.example', 0, 'awareness', 2],
      ])
      // Named by the group call's name trait where there is one, else by domain.
      expect(accounts.map((a: Json) => a.name).slice(0, 4)).toEqual(['juniper.example', 'grove.example', 'Acme Corp', 'Birch Ltd'])
      expect(accounts.find((a: Json) => a.domain === 'acme.example').traits).toEqual({
        domain: 'acme.example', name: 'Acme Corp', industry: 'Software', employees: 250, country: 'US',
      })
      // The demo request moved grove to decision: leo's, on day 66, at 09:12 and 20 s.
      expect(accounts[1].stageEnteredAt).toBe(JAN_1 + 66 * DAY + 9 * HOUR + 12 * MINUTE + 20 * SECOND)
      const top = await report('accounts', `${RANGE}&limit=2`)
      expect([top.total, top.accounts.map((a: Json) => a.domain)]).toEqual([12, ['juniper.example', 'grove.example']])
    })

    it('carries the account funnel: people and companies entering each stage', async () => {
      const { funnel } = await report('accounts')
      // People: 25 known (anonymous visitors are no account's); 17 consider; 11 ask for a demo.
      // Companies: all 12; all but fir and kelp consider; 9 reach decision.
      expect(funnel).toEqual([
        { stage: 'awareness', people: 25, companies: 12 },
        { stage: 'consideration', people: 17, companies: 10 },
        { stage: 'decision', people: 11, companies: 9 },
        { stage: 'purchase', people: 0, companies: 0 },
        { stage: 'loyalty', people: 0, companies: 0 },
        { stage: 'advocacy', people: 0, companies: 0 },
      ])
    })

    it('judges engaged as of the range’s end: a session in the 30 days before it, not one after', async () => {
      // As of 15 February: engaged means a session from 16 January to 14 February. Dan came on
      // 11 January and next on 11 April; eve on 3 February.
      const { asOf, accounts } = await report('accounts', 'from=2025-01-01&to=2025-02-15')
      expect(asOf).toBe('2025-02-15T00:00:00.000Z')
      const birch = accounts.find((a: Json) => a.domain === 'birch.example')
      expect(birch.members.map((x: Json) => [x.name, x.engaged])).toEqual([[emailOf('dan'), false], [emailOf('eve'), true]])
    })
  })

  describe('paths', () => {
    it('channel paths of those who asked for a demo, up to the request, and of the others', async () => {
      const { goal, reached, notReached } = await report('paths')
      expect(goal).toBe('decision')
      // 11 people and anonymous z3. Email alone: hana, leo, xena, z3; Direct → Email: finn, wes; one each for the rest.
      expect(reached.owners).toBe(12)
      expect(reached.channels).toEqual([
        { path: ['Email'], count: 4, share: 0.3333 },
        { path: ['Direct', 'Email'], count: 2, share: 0.1667 },
        { path: ['Direct', 'Organic Search'], count: 1, share: 0.0833 }, // sam
        { path: ['Email', 'Direct'], count: 1, share: 0.0833 }, // quinn
        { path: ['Organic Search'], count: 1, share: 0.0833 }, // yuri
        { path: ['Organic Search', 'Direct'], count: 1, share: 0.0833 }, // eve
        { path: ['Organic Search', 'Direct', 'Email'], count: 1, share: 0.0833 }, // ivy
        { path: ['Organic Search', 'Email', 'Direct'], count: 1, share: 0.0833 }, // ana
      ])
      // 14 people and anonymous z1, z2. Direct: cara, jon, ola, uma, z2; Organic Search: kim, ned, pia, vic, z1;
      // Email: dan, rosa; Organic Social: mia, tia; ben and gus one each.
      expect(notReached.owners).toBe(16)
      expect(notReached.channels).toEqual([
        { path: ['Direct'], count: 5, share: 0.3125 },
        { path: ['Organic Search'], count: 5, share: 0.3125 },
        { path: ['Email'], count: 2, share: 0.125 },
        { path: ['Organic Social'], count: 2, share: 0.125 },
        { path: ['Organic Social', 'Email'], count: 1, share: 0.0625 },
        { path: ['Organic Social', 'Organic Search'], count: 1, share: 0.0625 },
      ])
    })

    it('content paths by first path segment', async () => {
      const { reached, notReached } = await report('paths')
      expect(reached.content).toEqual([
        { path: ['/blog', '/demo'], count: 3, share: 0.25 }, // quinn, wes (two blog pages in a row), yuri
        { path: ['/blog', '/pricing', '/demo'], count: 3, share: 0.25 }, // ana, ivy, sam
        { path: ['/pricing', '/demo'], count: 2, share: 0.1667 }, // hana, leo
        { path: ['/', '/pricing', '/demo'], count: 1, share: 0.0833 }, // finn
        { path: ['/blog', '/case-studies', '/demo'], count: 1, share: 0.0833 }, // eve
        { path: ['/demo'], count: 1, share: 0.0833 }, // z3
        { path: ['/pricing'], count: 1, share: 0.0833 }, // xena
      ])
      expect(notReached.content).toEqual([
        { path: ['/blog'], count: 10, share: 0.625 },
        { path: ['/blog', '/pricing'], count: 2, share: 0.125 }, // ben, dan
        { path: ['/docs'], count: 2, share: 0.125 }, // cara, ned
        { path: ['/pricing'], count: 2, share: 0.125 }, // ola, z2
      ])
    })

    it('takes only journeys that began in the range', async () => {
      // From 1 April: cara, sam, tia, uma and vic first came then; sam asked for a demo.
      const { reached, notReached } = await report('paths', 'from=2025-04-01&to=2025-05-01')
      expect(reached.owners).toBe(1)
      expect(reached.channels).toEqual([{ path: ['Direct', 'Organic Search'], count: 1, share: 1 }])
      expect(notReached.owners).toBe(4)
    })
  })

  describe('cohorts', () => {
    /** For each stage, [eligible, reached, share] in the 30, 60, 90 and 180 day windows. */
    type Windows = [number, number, number | null][]
    const shape = (cohort: Json) =>
      Object.fromEntries(cohort.stages.map((s: Json) => [s.stage, s.within.map((w: Json) => [w.eligible, w.reached, w.share])]))
    const none: Windows = [[0, 0, null], [0, 0, null], [0, 0, null], [0, 0, null]]

    it('people by the month of their first touch, with the share reaching each stage in time', async () => {
      const { windows, people } = await report('cohorts')
      expect(windows).toEqual([30, 60, 90, 180])
      // Jan: finn, ana, wes, xena, dan, ben, yuri, ivy (at midnight on the 31st); Feb: gus, eve, jon, kim;
      // Mar: hana, mia, leo, ned, ola, pia, quinn, rosa; Apr: cara, sam, tia, uma, vic.
      expect(people.map((x: Json) => [x.month, x.size])).toEqual([['2025-01', 8], ['2025-02', 4], ['2025-03', 8], ['2025-04', 5]])
      const [jan, feb, mar, apr] = people.map(shape)
      const never = (eligible: number[]): Windows => eligible.map((e) => [e, 0, e ? 0 : null])
      // By 1 May, 90 days have passed for all of January, ivy's exactly; 180 for no one.
      // Consideration: within 30 days all but dan and ivy; ivy at 40 days; dan at 90 days to the minute.
      // Decision: ana, finn, wes, xena, yuri within 30 days; ivy at 55; ben and dan never.
      expect(jan).toEqual({
        awareness: [[8, 8, 1], [8, 8, 1], [8, 8, 1], [0, 0, null]],
        consideration: [[8, 6, 0.75], [8, 7, 0.875], [8, 8, 1], [0, 0, null]],
        decision: [[8, 5, 0.625], [8, 6, 0.75], [8, 6, 0.75], [0, 0, null]],
        purchase: never([8, 8, 8, 0]),
        loyalty: never([8, 8, 8, 0]),
        advocacy: never([8, 8, 8, 0]),
      })
      // February: 30 and 60 days have passed for all four. Consideration: eve (12 days), gus (29); decision: eve (17).
      expect(feb).toMatchObject({
        awareness: [[4, 4, 1], [4, 4, 1], [0, 0, null], [0, 0, null]],
        consideration: [[4, 2, 0.5], [4, 2, 0.5], [0, 0, null], [0, 0, null]],
        decision: [[4, 1, 0.25], [4, 1, 0.25], [0, 0, null], [0, 0, null]],
      })
      // March: only 30 days have passed. Consideration: all but ned and rosa (mia at 29 days);
      // decision: leo and quinn the next day; hana's came 30 days and 20 seconds after her first touch.
      expect(mar).toMatchObject({
        consideration: [[8, 6, 0.75], [0, 0, null], [0, 0, null], [0, 0, null]],
        decision: [[8, 2, 0.25], [0, 0, null], [0, 0, null], [0, 0, null]],
      })
      // April: too young for any window.
      expect(apr.awareness).toEqual(none)
      expect(apr.decision).toEqual(none)
    })

    it('companies by the month of their first person’s first touch', async () => {
      const { companies } = await report('cohorts')
      // Jan: cedar, acme, larch, birch, elm; Feb: delta, fir; Mar: grove, hazel, iris; Apr: juniper, kelp.
      expect(companies.map((x: Json) => [x.month, x.size])).toEqual([['2025-01', 5], ['2025-02', 2], ['2025-03', 3], ['2025-04', 2]])
      const [jan, feb, mar, apr] = companies.map(shape)
      // Consideration: acme 7 days, cedar 1, larch 1, birch 35 (eve's second visit), elm 40.
      // Decision: larch 1 day, cedar 2, acme 15, birch 40, elm 55 (its 90-day window ends at 1 May exactly).
      expect(jan).toMatchObject({
        consideration: [[5, 3, 0.6], [5, 5, 1], [5, 5, 1], [0, 0, null]],
        decision: [[5, 3, 0.6], [5, 5, 1], [5, 5, 1], [0, 0, null]],
      })
      // Delta considered after 29 days (gus's return) and decided after 61; fir did neither.
      expect(feb).toMatchObject({
        consideration: [[2, 1, 0.5], [2, 1, 0.5], [0, 0, null], [0, 0, null]],
        decision: [[2, 0, 0], [2, 0, 0], [0, 0, null], [0, 0, null]],
      })
      // Grove (2 days) and iris (1) decided; hazel did not.
      expect(mar).toMatchObject({
        consideration: [[3, 3, 1], [0, 0, null], [0, 0, null], [0, 0, null]],
        decision: [[3, 2, 0.6667], [0, 0, null], [0, 0, null], [0, 0, null]],
      })
      expect(apr.decision).toEqual(none)
    })
  })

  describe('segments', () => {
    /** The funnel's entered counts per stage, to decision: [people, known, companies]. */
    const entered = (funnel: Json) =>
      ['awareness', 'consideration', 'decision'].map((s) => {
        const row = stage(funnel.stages, s)
        return [row.people.entered, row.known, row.companies.entered]
      })

    it('without one: everyone, anonymous visitors among the people', async () => {
      const funnel = await report('funnel')
      expect(funnel.segment).toBeNull()
      // 25 known and 3 anonymous; z2 considers, z3 decides.
      expect(entered(funnel)).toEqual([[28, 25, 12], [19, 17, 10], [12, 11, 9]])
    })

    it('company.industry=software: acme, birch (given as "software"), elm, hazel and juniper, and their people', async () => {
      const query = `${RANGE}&company.industry=software`
      const funnel = await report('funnel', query)
      expect(funnel.segment).toBe('company.industry=software')
      // People: ana, ben, cara, dan, eve, ivy, pia, sam, tia, uma. Considering: ana, ben, dan, eve, ivy, pia, sam;
      // deciding: ana, eve, ivy, sam. Companies: all five consider; all but hazel decide.
      expect(entered(funnel)).toEqual([[10, 10, 5], [7, 7, 5], [4, 4, 4]])
      expect(stage(funnel.stages, 'awareness').people).toMatchObject({ movedOn: 7, conversionRate: 0.7, dropOff: 3 })
      expect(stage(funnel.stages, 'consideration').people).toMatchObject({ movedOn: 4, conversionRate: 0.5714 })
      expect(stage(funnel.stages, 'consideration').companies).toMatchObject({ movedOn: 4, conversionRate: 0.8 })

      const { total, accounts } = await report('accounts', query)
      expect(total).toBe(5)
      expect(accounts.map((a: Json) => [a.domain, a.engagedPeople, a.members.length])).toEqual([
        ['juniper.example', 3, 3], ['acme.example', 1, 3], ['birch.example', 1, 2], ['elm.example', 0, 1], ['hazel.example', 0, 1],
      ])

      const length = await report('length', query)
      // People: ana 3, 15, 3; eve 3, 17, 2; ivy 3, 55.38, 3; sam 3, 10, 2.
      // Days 10 15 17 55.38: median 16, p75 17 + 38.38 × 0.25 = 26.595 → 26.6. Channels 2 2 3 3: 2.5, 3.
      expect(stage(length.people, 'decision')).toEqual({
        stage: 'decision', reached: 4, touches: { median: 3, p75: 3 }, days: { median: 16, p75: 26.6 }, channels: { median: 2.5, p75: 3 },
      })
      // Companies, with all their people's touches: acme 4, 15, 4; birch 4, 40, 3; elm 3, 55.38, 3; juniper 5, 10, 3.
      // Touches 3 4 4 5: 4, 4.25 → 4.3. Days 10 15 40 55.38: 27.5, 40 + 15.38 × 0.25 = 43.845 → 43.8. Channels 3 3 3 4: 3, 3.25 → 3.3.
      expect(stage(length.companies, 'decision')).toEqual({
        stage: 'decision', reached: 4, touches: { median: 4, p75: 4.3 }, days: { median: 27.5, p75: 43.8 }, channels: { median: 3, p75: 3.3 },
      })
    })

    it('person.role=cto: the CTOs under any role trait, and the companies with one', async () => {
      const query = `${RANGE}&person.role=cto`
      const funnel = await report('funnel', query)
      expect(funnel.segment).toBe('person.role=cto')
      // ana, dan (jobTitle), finn ("cto"), ivy (job_title), jon, leo, quinn, tia, wes and yuri (no company).
      // Considering: all but jon and tia; deciding: all but dan, jon and tia. Companies: acme, birch, cedar, elm,
      // fir, grove, iris, juniper and larch; as companies, all but fir considered and decided (birch by eve, juniper by sam).
      expect(entered(funnel)).toEqual([[10, 10, 9], [8, 8, 8], [7, 7, 8]])

      const { total, accounts } = await report('accounts', query)
      expect(total).toBe(9)
      // Only the CTOs are members. Dan and tia are engaged; then by stage and when the company was last seen.
      expect(accounts.map((a: Json) => [a.domain, a.engagedPeople, a.members.map((x: Json) => [x.name, x.role, x.movedToGoal])])).toEqual([
        ['juniper.example', 1, [[emailOf('tia'), 'CTO', false]]],
        ['birch.example', 1, [[emailOf('dan'), 'CTO', false]]],
        ['acme.example', 0, [[emailOf('ana'), 'CTO', true]]],
        ['grove.example', 0, [[emailOf('leo'), 'CTO', true]]],
        ['elm.example', 0, [[emailOf('ivy'), 'CTO', true]]],
        ['iris.example', 0, [[emailOf('quinn'), 'CTO', true]]],
        ['larch.example', 0, [[emailOf('wes'), 'CTO', false]]],
        ['cedar.example', 0, [[emailOf('finn'), 'cto', true]]],
        ['fir.example', 0, [[emailOf('jon'), 'CTO', false]]],
      ])

      const length = await report('length', query)
      // ana 3, 15, 3; finn 3, 2, 2; ivy 3, 55.38, 3; leo 2, 1, 1; quinn 2, 1, 2; wes 3, 3, 2; yuri 2, 5, 1.
      // Touches 2 2 2 3 3 3 3: 3, 3. Days 1 1 2 3 5 15 55.38: 3, (5 + 15) / 2 = 10. Channels 1 1 2 2 2 3 3: 2, 2.5.
      expect(stage(length.people, 'decision')).toEqual({
        stage: 'decision', reached: 7, touches: { median: 3, p75: 3 }, days: { median: 3, p75: 10 }, channels: { median: 2, p75: 2.5 },
      })
    })

    it('person.role=cto, companies’ length: the company’s journey, with all its people’s touches', async () => {
      // The funnel above counts birch and juniper as deciding by eve's and sam's demo requests: the segment
      // picks companies, and a company's stages stay its own. Its touches must then be its own too.
      // acme 4, 15, 4; birch 4, 40, 3; cedar 3, 2, 2; elm 3, 55.38, 3; grove 3, 2, 2; iris 2, 1, 2; juniper 5, 10, 3; larch 3, 1, 2.
      // Touches 2 3 3 3 3 4 4 5: 3, 4. Days 1 1 2 2 10 15 40 55.38: 6, 15 + 25 × 0.25 = 21.25 → 21.3. Channels 2 2 2 2 3 3 3 4: 2.5, 3.
      const length = await report('length', `${RANGE}&person.role=cto`)
      expect(stage(length.companies, 'decision')).toEqual({
        stage: 'decision', reached: 8, touches: { median: 3, p75: 4 }, days: { median: 6, p75: 21.3 }, channels: { median: 2.5, p75: 3 },
      })
    })

    it('person.role=cto, accounts: who came first is the first of the company’s people, not of the segment’s', async () => {
      // Mia came to grove before leo, and sam to juniper before tia.
      const { accounts } = await report('accounts', `${RANGE}&person.role=cto`)
      expect(Object.fromEntries(accounts.map((a: Json) => [a.domain, a.members[0].cameFirst]))).toEqual({
        'juniper.example': false, 'birch.example': true, 'acme.example': true, 'grove.example': false, 'elm.example': true,
        'iris.example': true, 'larch.example': true, 'cedar.example': true, 'fir.example': true,
      })
    })

    it('a range of numbers and a choice of values together', async () => {
      const { segment, accounts } = await report('accounts', `${RANGE}&company.employees=50..500&person.role=cto|cfo`)
      expect(segment).toBe('company.employees=50..500, person.role=cto|cfo')
      // 50 to 500 employees: acme (250), hazel (80), juniper (500; birch has 40). Their CTOs and CFOs.
      expect(accounts.map((a: Json) => [a.domain, a.members.map((x: Json) => x.name)])).toEqual([
        ['juniper.example', [emailOf('tia')]],
        ['acme.example', [emailOf('ana'), emailOf('ben')]],
        ['hazel.example', [emailOf('pia')]],
      ])
    })

    it('refuses a trait with no value, saying how to give one', async () => {
      const response = await fetch(`${c.url}/api/reports/accounts?company.industry=`, { headers: { Authorization: `Bearer ${c.readToken}` } })
      expect(response.status).toBe(400)
      expect((await response.json()).error).toBe('company.industry needs a value to match: company.industry=software, company.industry=a|b or company.industry=10..200')
    })
  })
})
