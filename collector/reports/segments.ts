import { RequestError } from '../request-params'
import { funnelCountsFold } from './funnel'
import { FORM_KINDS, foldFormEventsFrom } from './forms'
import { ownerPageOf } from './owners'
import { touchCountsOf } from './sources'
import type { SessionQuery, SessionSourceCount, StoreReads } from '../store/types'

/**
 * A segment: conditions on company traits (anything sent with `group`, or from a CRM) and person
 * traits (a job title, a seniority), given to any report as `company.<trait>=<value>` and
 * `person.<trait>=<value>`. A value is matched in any case; `a|b` is either; `10..200` a number
 * in that range (either end may be left out: `500..`).
 */
export interface Segment {
  company: TraitTest[]
  person: TraitTest[]
}

export interface TraitTest {
  trait: string
  value: string
  test: (value: unknown) => boolean
}

/** Trait names a person's role is found under, in order: `person.role=cto` looks at each. */
export const ROLE_TRAITS = ['role', 'title', 'jobTitle', 'job_title', 'position', 'seniority']

/** The person's role: their job title or seniority, as sent by a form or a CRM. */
export function roleOf(traits: Record<string, unknown>): string | null {
  for (const key of ROLE_TRAITS) {
    const value = traits[key]
    if (typeof value === 'string' && value.trim()) return value.trim()
  }
  return null
}

const asText = (value: unknown) => (value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value ?? '')).trim().toLowerCase()

function traitTest(trait: string, value: string): TraitTest {
  const range = /^(-?\d+(?:\.\d+)?)?\.\.(-?\d+(?:\.\d+)?)?$/.exec(value.trim())
  if (range && (range[1] !== undefined || range[2] !== undefined)) {
    const low = range[1] === undefined ? -Infinity : Number(range[1])
    const high = range[2] === undefined ? Infinity : Number(range[2])
    return {
      trait,
      value,
      test: (got) => {
        const number = typeof got === 'number' ? got : typeof got === 'string' && got.trim() !== '' ? Number(got) : NaN
        return number >= low && number <= high
      },
    }
  }
  const wanted = value.split('|').map((v) => v.trim().toLowerCase())
  return { trait, value, test: (got) => got !== undefined && got !== null && wanted.includes(asText(got)) }
}

/** The segment named by a report's parameters (`company.industry`, `person.role`…), or undefined for none. */
export function parseSegment(params: Record<string, unknown>): Segment | undefined {
  const segment: Segment = { company: [], person: [] }
  for (const [key, value] of Object.entries(params)) {
    const match = /^(company|person)\.(.*)$/.exec(key)
    if (!match) continue
    if (!match[2]) throw new RequestError(`${key} names no trait: say which, as in ${match[1]}.${match[1] === 'company' ? 'industry' : 'role'}=…`)
    if (typeof value !== 'string' || !value.trim()) throw new RequestError(`${key} needs a value to match: ${key}=software, ${key}=a|b or ${key}=10..200`)
    segment[match[1] as 'company' | 'person'].push(traitTest(match[2], value))
  }
  return segment.company.length || segment.person.length ? segment : undefined
}

/** Whether traits pass every test; a person's `role` is the one roleOf finds, as the accounts report shows it. */
export function passes(tests: TraitTest[], traits: Record<string, unknown>): boolean {
  return tests.every((t) => t.test(t.trait === 'role' ? roleOf(traits) : traits[t.trait]))
}

/** In words, for a report's header: `company.industry=software, person.role=cto`. */
export const describeSegment = (segment: Segment) =>
  [...segment.company.map((t) => `company.${t.trait}=${t.value}`), ...segment.person.map((t) => `person.${t.trait}=${t.value}`)].join(', ')

/**
 * The store as a segment sees it: only the people and companies in the segment, and what is
 * theirs (events, sessions, stage entries and moves). Anonymous visitors have no traits, so a
 * segmented report leaves them out. A person is in it when their traits pass the person tests
 * and their company passes the company tests; a company when it passes the company tests and,
 * if there are person tests, one of its people passes them. Every report runs unchanged on it.
 */
export async function segmentedStore(store: StoreReads, siteId: string, journey: string, segment: Segment): Promise<StoreReads> {
  const companyTraits = new Map<string, Record<string, unknown>>()
  for await (const company of store.queryCompanies({ siteId, journey })) companyTraits.set(company.id, company.traits)
  const companyPasses = (id: string | null) => !segment.company.length || (id !== null && passes(segment.company, companyTraits.get(id) ?? {}))
  const people = new Set<string>()
  const companiesWithPeople = new Set<string>()
  for await (const person of store.queryPeople({ siteId, journey })) {
    if (!passes(segment.person, person.traits)) continue
    if (person.companyId) companiesWithPeople.add(person.companyId)
    if (companyPasses(person.companyId)) people.add(person.id)
  }
  const companies = new Set([...companyTraits.keys()].filter((id) => companyPasses(id) && (!segment.person.length || companiesWithPeople.has(id))))
  const owns = (type: string, id: string) => (type === 'person' ? people.has(id) : type === 'company' ? companies.has(id) : false)

  async function* only<T>(rows: AsyncIterable<T>, keep: (row: T) => boolean) {
    for await (const row of rows) if (keep(row)) yield row
  }
  /** An event's or session's: whether its person is in the segment. */
  const isTheirs = (row: { personId: string | null }) => row.personId !== null && people.has(row.personId)
  const theirSessions = (query: SessionQuery) => only(store.querySessions(query), isTheirs)
  return {
    ...store,
    queryEvents: (query) => only(store.queryEvents(query), isTheirs),
    foldPageEvents: (query, add) => store.foldPageEvents(query, (event) => isTheirs(event) && add(event)),
    foldFormEvents: (query, add) => foldFormEventsFrom(only(store.queryEvents({ ...query, kinds: [...FORM_KINDS], sessionIds: false }), isTheirs), add),
    querySessions: theirSessions,
    querySessionTouches: (query) => only(store.querySessionTouches(query), isTheirs),
    queryPeople: (query) => only(store.queryPeople(query), (p) => people.has(p.id)),
    queryCompanies: (query) => only(store.queryCompanies(query), (c) => companies.has(c.id)),
    listPeople: (query) => ownerPageOf(only(store.queryPeople(query), (p) => people.has(p.id)), query),
    listCompanies: (query) => ownerPageOf(only(store.queryCompanies(query), (c) => companies.has(c.id)), query),
    queryTransitions: (query) => only(store.queryTransitions(query), (t) => owns(t.ownerType, t.ownerId)),
    foldStageMoves: (query, add) => store.foldStageMoves(query, (move) => owns(move.ownerType, move.ownerId) && add(move)),
    queryStageEntries: (site, name, owners) => only(store.queryStageEntries(site, name, owners), (e) => owns(e.ownerType, e.ownerId)),
    async countSessionSources(query) {
      // Counted here from the segment's sessions: the store counts all of a site's.
      const counts = new Map<string, SessionSourceCount>()
      for await (const s of theirSessions(query)) {
        const stage = s.stages[query.journey]
        if (!stage) continue
        const counted = { stage, channel: s.channel, source: s.source, medium: s.medium, campaign: s.campaign, sessions: 0 }
        const key = JSON.stringify(Object.values(counted))
        ;(counts.get(key) ?? counts.set(key, counted).get(key)!).sessions++
      }
      return [...counts.values()]
    },
    queryStageTimes: (site, name, stages, owners) => only(store.queryStageTimes(site, name, stages, owners), (o) => owns(o.ownerType, o.ownerId)),
    async funnelCounts(site, name, stages, query) {
      // Counted here from the segment's owners: the store counts all of a site's.
      const fold = funnelCountsFold(stages, query)
      for await (const owner of only(store.queryStageTimes(site, name, stages), (o) => owns(o.ownerType, o.ownerId))) fold.add(owner)
      return fold.result()
    },
    touchCounts: (site, name, stages, query) => touchCountsOf(only(store.queryStageEntries(site, name), (e) => owns(e.ownerType, e.ownerId)), stages, query),
    async stageCounts(site, name) {
      const counts = await store.stageCounts(site, name)
      const entered = new Map(counts.map((c) => [c.stage, { ...c, people: 0, visitors: 0, companies: 0 }]))
      for await (const e of only(store.queryStageEntries(site, name), (e) => owns(e.ownerType, e.ownerId))) {
        const count = entered.get(e.stage)
        if (count) count[e.ownerType === 'person' ? 'people' : 'companies']++
      }
      return [...entered.values()]
    },
  }
}
