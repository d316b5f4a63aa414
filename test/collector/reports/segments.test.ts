import { describe, expect, it } from 'vitest'
import { describeSegment, parseSegment, passes, roleOf, ROLE_TRAITS, segmentedStore, type Segment } from '../../../collector/reports/segments'
import { RequestError } from '../../../collector/request-params'
import type {
  CompanyRow, EventRecord, PersonRow, SessionRecord, SessionTouch, StageCount, StageEntryRecord, StoreReads, TransitionRecord,
} from '../../../collector/store/types'

const segment = (params: Record<string, unknown>) => parseSegment(params)!
const test = (s: Segment, side: 'company' | 'person', i = 0) => s[side][i].test

describe('parseSegment', () => {
  it('is undefined when no parameter names a company or person trait', () => {
    expect(parseSegment({})).toBeUndefined()
    expect(parseSegment({ from: '2026-01-01', stage: 'decision', companyId: 'x', 'persona.role': 'cto' })).toBeUndefined()
  })

  it('takes company.<trait> and person.<trait>, each a test of its side', () => {
    const s = segment({ 'company.industry': 'Software', 'person.role': 'CTO', 'company.country': 'US', to: '2026-02-01' })
    expect(s.company.map((t) => [t.trait, t.value])).toEqual([['industry', 'Software'], ['country', 'US']])
    expect(s.person.map((t) => [t.trait, t.value])).toEqual([['role', 'CTO']])
    expect(describeSegment(s)).toBe('company.industry=Software, company.country=US, person.role=CTO')
  })

  it('keeps dots after the first in the trait name', () => {
    expect(segment({ 'company.address.city': 'Paris' }).company[0].trait).toBe('address.city')
  })

  it('matches a value in any case and with spaces around it', () => {
    const t = test(segment({ 'company.industry': ' Software ' }), 'company')
    expect(['software', 'SOFTWARE', ' Software ', 'Software'].map(t)).toEqual([true, true, true, true])
    expect(['Software & Services', 'soft', '', undefined, null].map(t)).toEqual([false, false, false, false, false])
  })

  it('matches numbers and booleans by their text', () => {
    expect(test(segment({ 'company.employees': '250' }), 'company')(250)).toBe(true)
    expect(test(segment({ 'company.public': 'TRUE' }), 'company')(true)).toBe(true)
    expect(test(segment({ 'company.public': 'false' }), 'company')(true)).toBe(false)
  })

  it('takes a|b as either', () => {
    const t = test(segment({ 'person.role': 'cto | CFO' }), 'person')
    expect(['CTO', 'cfo', 'ceo', 'cto|cfo'].map(t)).toEqual([true, true, false, false])
  })

  it('takes 10..200 as a number in that range, both ends included, numbers given as text too', () => {
    const t = test(segment({ 'company.employees': '10..200' }), 'company')
    expect([10, 200, 150, 9.99, 200.5, '150', ' 10 ', '', 'many', null, undefined, true].map(t)).toEqual([
      true, true, true, false, false, true, true, false, false, false, false, false,
    ])
  })

  it('takes a range open at either end, and negative and decimal bounds', () => {
    const atLeast = test(segment({ 'company.employees': '500..' }), 'company')
    expect([500, 1_000_000, 499].map(atLeast)).toEqual([true, true, false])
    const atMost = test(segment({ 'company.employees': '..50' }), 'company')
    expect([-3, 50, 51].map(atMost)).toEqual([true, true, false])
    const around = test(segment({ 'company.margin': '-0.5..1.5' }), 'company')
    expect([-0.5, 0, 1.5, -0.6, 1.6].map(around)).toEqual([true, true, true, false, false])
  })

  it('takes ".." with no bounds as the text it is', () => {
    const t = test(segment({ 'company.code': '..' }), 'company')
    expect([t('..'), t(5)]).toEqual([true, false])
  })

  it('refuses a trait with no value, saying how to give one', () => {
    expect(() => parseSegment({ 'company.industry': '' })).toThrow(RequestError)
    expect(() => parseSegment({ 'company.industry': '  ' })).toThrow(
      'company.industry needs a value to match: company.industry=software, company.industry=a|b or company.industry=10..200',
    )
    // A parameter given twice arrives as a list.
    expect(() => parseSegment({ 'person.role': ['cto', 'cfo'] })).toThrow(/person\.role needs a value/)
  })
})

describe('passes', () => {
  it('needs every test to pass', () => {
    const s = segment({ 'company.industry': 'software', 'company.employees': '10..200' })
    expect(passes(s.company, { industry: 'Software', employees: 50 })).toBe(true)
    expect(passes(s.company, { industry: 'Software', employees: 500 })).toBe(false)
    expect(passes(s.company, { industry: 'Retail', employees: 50 })).toBe(false)
    expect(passes(s.company, {})).toBe(false)
    expect(passes([], {})).toBe(true)
  })

  it('looks for person.role under role, title, jobTitle, job_title, position and seniority', () => {
    expect(ROLE_TRAITS).toEqual(['role', 'title', 'jobTitle', 'job_title', 'position', 'seniority'])
    const { person } = segment({ 'person.role': 'cto' })
    for (const key of ROLE_TRAITS) expect(passes(person, { [key]: 'CTO' }), key).toBe(true)
    expect(passes(person, { name: 'CTO' })).toBe(false)
    expect(passes(person, {})).toBe(false)
    // The first of them that is there is the role: a role of VP with a title of CTO is a VP.
    expect(passes(person, { role: 'VP', title: 'CTO' })).toBe(false)
    expect(passes(person, { title: ' CTO ', seniority: 'C-level' })).toBe(true)
  })

  it('looks for another person trait under its own name only', () => {
    const { person } = segment({ 'person.title': 'cto' })
    expect(passes(person, { title: 'CTO' })).toBe(true)
    expect(passes(person, { role: 'CTO' })).toBe(false)
  })

  it('matches person.role against the role a buying committee shows, when the role trait is blank', () => {
    // roleOf (the committee's role column) skips a blank or non-text role and shows the title;
    // the segment should find the same person by that role.
    const { person } = segment({ 'person.role': 'cto' })
    for (const traits of [{ role: '', title: 'CTO' }, { role: '  ', title: 'CTO' }, { role: null, title: 'CTO' }]) {
      expect(roleOf(traits)).toBe('CTO')
      expect(passes(person, traits), JSON.stringify(traits)).toBe(true)
    }
  })
})

describe('segmentedStore', () => {
  const SITE = 'site-1'
  const JOURNEY = 'b2b'
  const companies: Record<string, Record<string, unknown>> = {
    soft: { industry: 'Software', employees: 120 },
    hard: { industry: 'Hardware', employees: '900' },
    bare: {},
  }
  /** Each person: their company and traits. */
  const people: Record<string, [companyId: string | null, traits: Record<string, unknown>]> = {
    'cto-soft': ['soft', { title: 'CTO' }],
    'cfo-soft': ['soft', { jobTitle: 'CFO' }],
    'cto-hard': ['hard', { role: 'cto' }],
    'dev-hard': ['hard', { position: 'Developer' }],
    'cto-free': [null, { seniority: 'CTO' }],
    'none-bare': ['bare', {}],
  }
  const at = Date.UTC(2026, 8, 1)
  /** One event, session, stage entry and move per person, per company and for an anonymous visitor. */
  const owners = [
    ...Object.keys(people).map((id) => ({ type: 'person' as const, id })),
    ...Object.keys(companies).map((id) => ({ type: 'company' as const, id })),
    { type: 'visitor' as const, id: 'anon' },
  ]
  const personOfOwner = (o: (typeof owners)[number]) => (o.type === 'person' ? o.id : null)
  async function* each<T>(rows: T[]) {
    for (const row of rows) yield row
  }
  const calls: string[] = []
  const store = {
    queryCompanies: () => each(Object.entries(companies).map(([id, traits]) => ({ id, traits }) as unknown as CompanyRow)),
    queryPeople: () => each(Object.entries(people).map(([id, [companyId, traits]]) => ({ id, companyId, traits }) as unknown as PersonRow)),
    queryEvents: () => each(owners.filter((o) => o.type !== 'company').map((o) => ({ id: `e-${o.id}`, personId: personOfOwner(o) }) as EventRecord)),
    querySessions: () =>
      each(owners.filter((o) => o.type !== 'company').map((o) =>
        ({ id: `s-${o.id}`, personId: personOfOwner(o), stages: { [JOURNEY]: 'awareness' }, channel: 'direct', source: 'direct', medium: 'none', campaign: null }) as unknown as SessionRecord)),
    querySessionTouches: () => each(owners.filter((o) => o.type !== 'company').map((o) => ({ id: `s-${o.id}`, personId: personOfOwner(o) }) as SessionTouch)),
    queryStageEntries: () =>
      each(owners.map((o) => ({ ownerType: o.type, ownerId: o.id, stage: 'awareness', at }) as StageEntryRecord)),
    queryStageTimes: () => each(owners.map((o) => ({ ownerType: o.type, ownerId: o.id, at: [at] }))),
    queryTransitions: () => each(owners.map((o) => ({ ownerType: o.type, ownerId: o.id, to: 'awareness', at }) as TransitionRecord)),
    stageCounts: async (): Promise<StageCount[]> => [
      { stage: 'awareness', people: 6, visitors: 1, companies: 3 },
      { stage: 'consideration', people: 0, visitors: 0, companies: 0 },
    ],
    findPerson: async (site: string, ref: { email: string }) => (calls.push(`findPerson ${site} ${ref.email}`), undefined),
  } as unknown as StoreReads

  async function seen(s: Segment) {
    const narrowed = await segmentedStore(store, SITE, JOURNEY, s)
    const ids = async <T>(rows: AsyncIterable<T>, id: (row: T) => string) => {
      const all: string[] = []
      for await (const row of rows) all.push(id(row))
      return all
    }
    return {
      narrowed,
      people: await ids(narrowed.queryPeople({ siteId: SITE, journey: JOURNEY }), (p) => p.id),
      companies: await ids(narrowed.queryCompanies({ siteId: SITE, journey: JOURNEY }), (c) => c.id),
      events: await ids(narrowed.queryEvents({ siteId: SITE }), (e) => e.id),
      sessions: await ids(narrowed.querySessions({ siteId: SITE }), (e) => e.id),
      touches: await ids(narrowed.querySessionTouches({ siteId: SITE }), (e) => e.id),
      entries: await ids(narrowed.queryStageEntries(SITE, JOURNEY), (e) => `${e.ownerType}:${e.ownerId}`),
      times: await ids(narrowed.queryStageTimes(SITE, JOURNEY, ['awareness']), (o) => `${o.ownerType}:${o.ownerId}`),
      transitions: await ids(narrowed.queryTransitions({ siteId: SITE }), (t) => `${t.ownerType}:${t.ownerId}`),
      counts: await narrowed.stageCounts(SITE, JOURNEY),
      counted: await narrowed.countSessionSources({ siteId: SITE, journey: JOURNEY }),
    }
  }

  it('keeps a company’s people, and what is theirs, for a company test', async () => {
    const got = await seen(segment({ 'company.industry': 'software' }))
    expect(got.companies).toEqual(['soft'])
    expect(got.people).toEqual(['cto-soft', 'cfo-soft'])
    expect(got.events).toEqual(['e-cto-soft', 'e-cfo-soft'])
    expect(got.sessions).toEqual(['s-cto-soft', 's-cfo-soft'])
    expect(got.entries).toEqual(['person:cto-soft', 'person:cfo-soft', 'company:soft'])
    expect(got.transitions).toEqual(got.entries)
    expect(got.times).toEqual(got.entries)
    expect(got.touches).toEqual(got.sessions)
    expect(got.counted).toEqual([{ stage: 'awareness', channel: 'direct', source: 'direct', medium: 'none', campaign: null, sessions: 2 }])
    // Counted again from the kept entries; anonymous visitors are left out.
    expect(got.counts).toEqual([
      { stage: 'awareness', people: 2, visitors: 0, companies: 1 },
      { stage: 'consideration', people: 0, visitors: 0, companies: 0 },
    ])
  })

  it('keeps the people who pass a person test, with or without a company, and the companies with one of them', async () => {
    const got = await seen(segment({ 'person.role': 'CTO' }))
    expect(got.people).toEqual(['cto-soft', 'cto-hard', 'cto-free'])
    expect(got.companies).toEqual(['soft', 'hard'])
    expect(got.entries).toEqual(['person:cto-soft', 'person:cto-hard', 'person:cto-free', 'company:soft', 'company:hard'])
    expect(got.counts[0]).toEqual({ stage: 'awareness', people: 3, visitors: 0, companies: 2 })
  })

  it('needs both sides when both are given', async () => {
    const both = await seen(segment({ 'company.employees': '100..1000', 'person.role': 'cto' }))
    // Both companies have 100 to 1000 employees (900 given as text); each has a CTO; the CTO without a company is out.
    expect(both.people).toEqual(['cto-soft', 'cto-hard'])
    expect(both.companies).toEqual(['soft', 'hard'])
    // Software's people include no developer, and Hardware's developer is not in software: no one.
    const none = await seen(segment({ 'company.industry': 'software', 'person.role': 'developer' }))
    expect([none.people, none.companies, none.events, none.entries]).toEqual([[], [], [], []])
    expect(none.counts[0]).toEqual({ stage: 'awareness', people: 0, visitors: 0, companies: 0 })
  })

  it('leaves people without a company out of a company test', async () => {
    const got = await seen(segment({ 'company.employees': '..10000' }))
    expect(got.people).toEqual(['cto-soft', 'cfo-soft', 'cto-hard', 'dev-hard'])
    expect(got.companies).toEqual(['soft', 'hard'])
  })

  it('passes everything else through to the store', async () => {
    const { narrowed } = await seen(segment({ 'person.role': 'cto' }))
    await narrowed.findPerson(SITE, { email: 'x@example.com' })
    expect(calls).toEqual([`findPerson ${SITE} x@example.com`])
  })
})
