import { oneOf, parseJourney, parseRange, personRef, RequestError } from '../request-params'
import type { WaymarkConfig } from '../stages/config'
import type { CompanyRef, CompanyRow, EventRecord, OwnerType, PersonRow, SessionRecord, SessionTouch, StoredKind, StoreReads } from '../store/types'
import { requestsStage, type StageTransition } from '../stages/progress'
import { contentFold, defaultGoal, INFLUENCE_WINDOW_MS, ownerOf, type OwnerStageEntries } from './content'
import { CLICK_KINDS, ctasFold, isClick, SESSION_LOOKBACK_MS, WENT_ON_WINDOW_MS } from './ctas'
import { accountFunnelOf, accountOrder, accountsFold } from './accounts'
import { cohortsFold } from './cohorts'
import { formsFold } from './forms'
import { funnelFrom } from './funnel'
import { lengthFold, lengthTo, type OwnerLength, type Touch } from './length'
import { listRows } from './owners'
import { contentGroup, pathsFold, type PathOwner } from './paths'
import { describeSegment, parseSegment, segmentedStore } from './segments'
import { attributedStages, attributionFrom, flowsFrom, sessionSourcesFold } from './sources'
import { DAY_MS, withinRange } from './stats'
import { timeline } from './timeline'

export const REPORTS = ['funnel', 'sources', 'forms', 'content', 'timeline', 'people', 'companies', 'ctas', 'length', 'accounts', 'paths', 'cohorts'] as const
export type ReportName = (typeof REPORTS)[number]

/** A report as asked for on the command line or in a URL: every value a string, as typed. */
export interface ReportParams {
  from?: string
  to?: string
  journey?: string
  /** Funnel: days in one stage after which a person counts as stalled (default 30). */
  stalledDays?: string
  /** Funnel: how many stalled people to list; content and ctas: rows of each list (default 50); people, companies: rows (default 100). */
  limit?: string
  /** Accounts: how many of each account's people to list, the most telling first (default all; all of them are counted). */
  members?: string
  /** Content, accounts, paths: the stage whose entry counts as converting (default decision, else the journey's last stage). */
  goal?: string
  /** Any report: a segment, as `company.<trait>` and `person.<trait>` keys (company.industry=software, person.role=cto|cfo, company.employees=50..500). */
  [segment: `company.${string}` | `person.${string}`]: string | undefined
  /** People and companies: only those at this stage now. */
  stage?: string
  /** Length: `all` adds every person's and company's own way to each stage (what the export gives). */
  owners?: string
  /** Timeline: whose, by one of these. */
  person?: string
  email?: string
  userId?: string
  company?: string
  domain?: string
}

/** Asked for someone or something that is not there. */
export class NotFound extends RequestError {}

function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  const number = Number(value)
  if (!Number.isFinite(number) || number <= 0) throw new RequestError(`${name} "${value}" must be a positive number`)
  return number
}

/** Owners looked up in one read: a page of ids. */
const OWNER_PAGE = 1000

/** Owners (or their ids) in pages of OWNER_PAGE. */
function* pagesOf<T>(owners: T[]) {
  for (let i = 0; i < owners.length; i += OWNER_PAGE) yield owners.slice(i, i + OWNER_PAGE)
}

/** Owners' ids from their keys (`type:id`), by type. */
function idsByType(keys: Iterable<string>): [OwnerType, string[]][] {
  const byType = new Map<OwnerType, string[]>()
  for (const key of keys) {
    const at = key.indexOf(':')
    const type = key.slice(0, at) as OwnerType
    ;(byType.get(type) ?? byType.set(type, []).get(type)!).push(key.slice(at + 1))
  }
  return [...byType]
}

const isoOrNull = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())

/** Reads what a report needs from the store and folds it; every number is computed from the stored data for the range. */
export async function runReport(allOf: StoreReads, config: WaymarkConfig, siteId: string, name: string, params: ReportParams, now = Date.now()) {
  const report = oneOf(name, REPORTS, 'report')
  const range = parseRange(params)
  const { journey, stage } = parseJourney(config, params)
  const segment = parseSegment(params as Record<string, unknown>)
  // A segment narrows the store itself, so every report below runs unchanged on its people and companies.
  const store = segment ? await segmentedStore(allOf, siteId, journey.name, segment) : allOf
  const header = { report, siteId, journey: journey.name, from: isoOrNull(range.from), to: isoOrNull(range.to), segment: segment ? describeSegment(segment) : null }
  const stageNames = journey.stages.map((s) => s.name)
  /** An owner's stage entries from their stage times. */
  const entriesAt = (at: (number | null)[]) => stageNames.flatMap((stage, i) => (at[i] === null ? [] : [{ stage, at: at[i]! }]))
  /** Some owners' stage times, by their keys (`type:id`), a page of them at a time. */
  async function* stageTimesOf(keys: Iterable<string>) {
    for (const [type, ids] of idsByType(keys)) for (const page of pagesOf(ids)) yield* store.queryStageTimes(siteId, journey.name, stageNames, { type, ids: page })
  }
  if (report === 'funnel') {
    const stalledDays = positiveNumber(params.stalledDays, 'stalledDays', 30)
    const limit = positiveNumber(params.limit, 'limit', 50)
    const asOf = Math.min(range.to ?? now, now)
    // Counted where the stage entries are: a year of a busy site has millions of owners.
    const counts = await store.funnelCounts(siteId, journey.name, stageNames, { ...range, asOf, stalledBefore: asOf - stalledDays * DAY_MS, limit: Math.floor(limit) })
    const { stages, stalled } = funnelFrom(journey, counts, asOf)
    // In one go rather than a lookup per person: on ClickHouse, 50 of those were most of the report's time.
    const facts = await store.peopleAsOf(siteId, stalled.people.map((s) => s.personId), asOf)
    const listed = stalled.people.map((s) => {
      const person = facts.get(s.personId)
      return { ...s, email: person?.email ?? null, userId: person?.userId ?? null, companyId: person?.companyId ?? null, lastSeen: person?.lastSeen ?? null }
    })
    return { ...header, asOf: new Date(asOf).toISOString(), stalledDays, stages, stalled: { total: stalled.total, people: listed } }
  }

  if (report === 'sources') {
    // Counted where the stage entries are: a year of a busy site has millions of owners. Asked
    // for first, so the sessions are counted here while a store's second thread counts touches.
    const counting = store.touchCounts(siteId, journey.name, stageNames, { ...range, attributed: attributedStages(journey) })
    const sessions = sessionSourcesFold(journey)
    for (const counted of await store.countSessionSources({ siteId, journey: journey.name, ...range })) sessions.add(counted)
    const touches = await counting
    return { ...header, stages: sessions.result(), attribution: attributionFrom(journey, touches), flows: flowsFrom(touches) }
  }

  if (report === 'forms') {
    const forms = formsFold()
    await store.foldFormEvents({ siteId, ...range }, (event) => forms.add(event))
    return { ...header, forms: forms.result() }
  }

  // Some owners' stage entries, keyed as the content and CTA folds key owners.
  const entriesOf = async (keys: Iterable<string>) => {
    const entries = new Map<string, OwnerStageEntries>()
    for await (const { ownerType, ownerId, at } of stageTimesOf(keys)) entries.set(`${ownerType}:${ownerId}`, entriesAt(at))
    return entries
  }
  const shift = (at: number | undefined, by: number) => (at === undefined ? undefined : at + by)
  /** Each stage's entrants in the range, counted where the stage entries are, as the funnel counts them (no one listed as stalled). */
  const entrantCounts = (asOf: number) => store.funnelCounts(siteId, journey.name, stageNames, { ...range, asOf, stalledBefore: Number.MIN_SAFE_INTEGER, limit: 0 })

  if (report === 'content') {
    const goal = oneOf(params.goal, journey.stages.map((s) => s.name), 'goal', defaultGoal(journey))
    const limit = positiveNumber(params.limit, 'limit', 50)
    const content = contentFold(journey, { ...range, goal, limit })
    // Everyone who entered the goal in the range, whether they read anything or not: the funnel's count.
    const goalEntrants = entrantCounts(now)
    // From 30 days before the range: what a converter early in the range read before converting.
    const from = shift(range.from, -INFLUENCE_WINDOW_MS)
    await store.foldPageEvents({ siteId, from, to: range.to }, (event) => content.add(event))
    // Then the stage entries of those who read something alone, rather than every owner's (at ten
    // million events, 236,142 owners against 2,224,965).
    const converters = (await goalEntrants).flows.find((f) => f.owners === 'people' && f.stage === goal)?.entered ?? 0
    return { ...header, goal, ...content.result(await entriesOf(content.owners()), converters) }
  }

  if (report === 'ctas') {
    const limit = positiveNumber(params.limit, 'limit', 50)
    // To 7 days past the range: what a click near its end led to.
    const to = shift(range.to, WENT_ON_WINDOW_MS)
    // The clicks and submits first, then the stage entries of those who clicked alone, rather than
    // every owner's (at a million events, 38,162 events against 237,189 owners), and the sessions
    // they clicked in, rather than every session of the range and the day before it.
    const events: EventRecord[] = []
    for await (const event of store.queryEvents({ siteId, from: range.from, to, kinds: [...CLICK_KINDS, 'form_submit'] })) events.push(event)
    const clicks = events.filter((e) => isClick(e.kind))
    const ctas = ctasFold(journey, await entriesOf(new Set(clicks.map(ownerOf))), { ...range, limit })
    for (const event of events) ctas.add(event)
    for (const ids of pagesOf([...new Set(clicks.flatMap((e) => (e.sessionId ? [e.sessionId] : [])))]))
      for await (const session of store.querySessionTouches({ siteId, from: shift(range.from, -SESSION_LOOKBACK_MS), to: range.to, ids })) ctas.addSession(session)
    await store.foldStageMoves({ siteId, journey: journey.name, from: range.from, to }, (move) => ctas.addTransition(move))
    return { ...header, ...ctas.result() }
  }

  const goalOf = () => oneOf(params.goal, journey.stages.map((s) => s.name), 'goal', defaultGoal(journey))
  /**
   * The owners whose first touch lies in the range, keyed as `keysOf` keys a session's, with that
   * touch; `each` is given every session of theirs. Those with a session in the range, less those
   * seen before it (each one's first visit, looked up a page at a time), rather than every session
   * of the history: at ten million events over 30 days, the cohorts report took 89 s so and 3.4 s this way.
   */
  async function firstTouchesIn(from: StoreReads, keysOf: (s: SessionTouch) => string[], each?: (key: string, s: SessionTouch) => void) {
    const first = new Map<string, number>()
    const sessions: [string, SessionTouch][] = []
    for await (const s of from.querySessionTouches({ siteId, ...range }))
      for (const key of keysOf(s)) {
        first.set(key, Math.min(first.get(key) ?? Infinity, s.startedAt))
        if (each) sessions.push([key, s])
      }
    if (range.from !== undefined)
      for (const [type, ids] of idsByType(first.keys()))
        for (const page of pagesOf(ids)) for (const [id, at] of await allOf.firstSeen(siteId, { type, ids: page })) if (at < range.from) first.delete(`${type}:${id}`)
    for (const [key, s] of sessions) if (first.has(key)) each!(key, s)
    return first
  }

  if (report === 'length') {
    const fold = lengthFold(journey, range)
    const owners: OwnerLength[] = []
    // Only those who entered a stage in the range are measured, so only their touches are read, a
    // thousand of them at a time: a company's are all its people's, whatever a segment shows.
    const inRange = withinRange(range)
    const entering = { company: [] as { ownerId: string; entries: OwnerStageEntries }[], person: [] as { ownerId: string; entries: OwnerStageEntries }[] }
    for await (const { ownerType, ownerId, at } of store.queryStageTimes(siteId, journey.name, stageNames, { types: ['company', 'person'], ...range })) {
      const entries = entriesAt(at)
      if (ownerType !== 'visitor' && entries.some((e) => inRange(e.at))) entering[ownerType].push({ ownerId, entries })
    }
    for (const ownerType of ['company', 'person'] as const) {
      for (const page of pagesOf(entering[ownerType].sort((a, b) => (a.ownerId < b.ownerId ? -1 : 1)))) {
        const ids = page.map((o) => o.ownerId)
        const touches = new Map<string, Touch[]>()
        for await (const s of allOf.querySessionTouches({ siteId, to: range.to, ...(ownerType === 'company' ? { companyIds: ids } : { personIds: ids }) })) {
          const id = (ownerType === 'company' ? s.companyId : s.personId)!
          ;(touches.get(id) ?? touches.set(id, []).get(id)!).push({ at: s.startedAt, channel: s.channel })
        }
        for (const { ownerId, entries } of page) {
          const found = fold.add(ownerId, { ownerType, entries, touches: touches.get(ownerId) ?? [] })
          if (params.owners === 'all') owners.push(...found)
        }
      }
    }
    return { ...header, ...fold.result(), ...(params.owners === 'all' ? { owners } : {}) }
  }

  if (report === 'cohorts') {
    const fold = cohortsFold(journey, { ...range, asOf: Math.min(range.to ?? now, now) })
    // A company's first touch is its first person's, whoever of its people a segment shows.
    const firstTouches = await firstTouchesIn(allOf, (s) => [...(s.personId ? [`person:${s.personId}`] : []), ...(s.companyId ? [`company:${s.companyId}`] : [])])
    for await (const { ownerType, ownerId, at } of stageTimesOf(firstTouches.keys())) {
      const entries = entriesAt(at)
      if (entries.length) fold.add({ ownerType: ownerType as 'person' | 'company', entries, firstTouch: firstTouches.get(`${ownerType}:${ownerId}`)! })
    }
    return { ...header, ...fold.result() }
  }

  if (report === 'paths') {
    const goal = goalOf()
    const limit = positiveNumber(params.limit, 'limit', 20)
    // Only journeys that began in the range are counted: only owners whose first touch lies in it
    // are kept, and all their sessions and pages are in it too.
    const sessionsOf = new Map<string, PathOwner['sessions']>()
    const firstTouches = await firstTouchesIn(store, (s) => [s.personId ? `person:${s.personId}` : `visitor:${s.visitorId}`], (key, s) =>
      (sessionsOf.get(key) ?? sessionsOf.set(key, []).get(key)!).push({ at: s.startedAt, channel: s.channel }),
    )
    const owners = new Map<string, PathOwner>([...firstTouches.keys()].map((key) => [key, { sessions: sessionsOf.get(key)!, content: [], goalAt: null }]))
    sessionsOf.clear()
    await store.foldPageEvents({ siteId, ...range }, (e) => {
      const owner = owners.get(e.personId ? `person:${e.personId}` : `visitor:${e.visitorId}`)
      if (owner) owner.content.push({ at: e.occurredAt, item: e.kind === 'pageview' ? contentGroup(e.path) : `download:${(e.name ?? '').split('/').pop()}` })
    })
    const goalIndex = stageNames.indexOf(goal)
    for await (const { ownerType, ownerId, at } of stageTimesOf(owners.keys())) {
      const owner = owners.get(`${ownerType}:${ownerId}`)
      if (owner && at[goalIndex] !== null) owner.goalAt = at[goalIndex]
    }
    const fold = pathsFold({ top: limit })
    // Every owner kept has its first touch in the range: a journey that began in it.
    for (const owner of owners.values()) fold.add(owner)
    return { ...header, goal, ...fold.result() }
  }

  if (report === 'accounts') {
    const goal = goalOf()
    const limit = positiveNumber(params.limit, 'limit', 50)
    const memberCap = params.members === 'all' ? Infinity : positiveNumber(params.members, 'members', Infinity)
    const asOf = Math.min(range.to ?? now, now)
    const engagedDays = 30
    const counting = entrantCounts(asOf)

    // Every company is ranked by what it has: its stage, its people, and how many of them came in
    // the last days; only the accounts shown are then read whole. (At ten million events, reading
    // every person, session and request for all of them took minutes.)
    const companies: CompanyRow[] = []
    for await (const c of store.queryCompanies({ siteId, journey: journey.name, ...range })) companies.push(c)
    const peopleOf = new Map<string, number>()
    if (store !== allOf) for await (const p of store.queryPeople({ siteId, journey: journey.name })) if (p.companyId) peopleOf.set(p.companyId, (peopleOf.get(p.companyId) ?? 0) + 1)
    const engagedOf = new Map<string, Set<string>>()
    for await (const s of store.querySessionTouches({ siteId, from: asOf - engagedDays * DAY_MS, to: asOf }))
      if (s.personId && s.companyId) (engagedOf.get(s.companyId) ?? engagedOf.set(s.companyId, new Set()).get(s.companyId)!).add(s.personId)
    const shown = companies
      .map((c) => ({ companyId: c.id, stage: c.stage, lastSeen: c.lastSeen, people: store === allOf ? c.people : peopleOf.get(c.id) ?? 0, engagedPeople: engagedOf.get(c.id)?.size ?? 0 }))
      .sort(accountOrder(journey))
      .slice(0, limit)
      .map((c) => c.companyId)

    // Their people's sessions as of the report's end: each person's visits, first and last, and
    // whether one was lately; each company's touches, and who of all its people came first.
    const seen = new Map<string, { first: number; last: number; engaged: boolean; companyId: string }>()
    const touches = new Map<string, Touch[]>()
    for await (const s of allOf.querySessionTouches({ siteId, to: asOf, companyIds: shown })) {
      const known = seen.get(s.personId!) ?? seen.set(s.personId!, { first: s.startedAt, last: s.endedAt, engaged: false, companyId: s.companyId! }).get(s.personId!)!
      known.first = Math.min(known.first, s.startedAt)
      known.last = Math.max(known.last, s.endedAt)
      known.engaged ||= s.startedAt >= asOf - engagedDays * DAY_MS
      ;(touches.get(s.companyId!) ?? touches.set(s.companyId!, []).get(s.companyId!)!).push({ at: s.startedAt, channel: s.channel })
    }
    const firstOf = new Map<string, { id: string; at: number }>()
    for (const [id, { first: at, companyId }] of seen) {
      const known = firstOf.get(companyId)
      if (!known || at < known.at || (at === known.at && id < known.id)) firstOf.set(companyId, { id, at })
    }
    const members: PersonRow[] = []
    for await (const p of store.queryPeople({ siteId, journey: journey.name, companyIds: shown })) members.push(p)
    // Who asked first is of all the company's people, whatever the segment shows of them: the
    // earliest of their events that the goal stage's rules name as a request.
    const companyOf = new Map<string, string>()
    for await (const p of store === allOf ? members : allOf.queryPeople({ siteId, journey: journey.name, companyIds: shown })) companyOf.set(p.id, p.companyId!)
    const asks = requestsStage(journey.stages.find((s) => s.name === goal)!)
    const requestedBy = new Map<string, string>()
    const requests = { siteId, to: asOf, kinds: ['form_submit', 'track', 'cta', 'contact_click'] as StoredKind[], sessionIds: false, personIds: [...companyOf.keys()] }
    if (companyOf.size)
      for await (const e of allOf.queryEvents(requests)) {
        const company = e.personId && companyOf.get(e.personId)
        if (company && !e.isBot && !requestedBy.has(company) && asks(e)) requestedBy.set(company, e.personId!)
      }
    const goalEntries = new Map<string, { at: number; sessionId: string }>()
    for (const owners of [{ type: 'company', ids: shown }, { type: 'person', ids: members.map((p) => p.id) }] as const)
      for await (const e of store.queryStageEntries(siteId, journey.name, owners))
        if (e.stage === goal) goalEntries.set(`${e.ownerType}:${e.ownerId}`, { at: e.at, sessionId: e.sessionId })

    const fold = accountsFold(journey, { limit, members: memberCap })
    for (const p of members) {
      const visits = seen.get(p.id)
      fold.addPerson({ ...p, firstSeen: visits?.first ?? null, lastSeen: visits?.last ?? null, engaged: visits?.engaged ?? false, goalEntry: goalEntries.get(`person:${p.id}`) ?? null })
    }
    const isShown = new Set(shown)
    for (const c of companies) {
      if (!isShown.has(c.id)) continue
      const way = c.stage && c.stageEnteredAt !== null ? lengthTo(touches.get(c.id) ?? [], c.stageEnteredAt) : null
      fold.addCompany({
        ...c,
        goalEntry: goalEntries.get(`company:${c.id}`) ?? null,
        firstPersonId: firstOf.get(c.id)?.id ?? null,
        requestedBy: requestedBy.get(c.id) ?? null,
        length: way && { stage: c.stage!, touches: way.touches, days: way.days, channels: way.channels },
      })
    }
    const { accounts } = fold.result()
    return { ...header, goal, asOf: new Date(asOf).toISOString(), engagedDays, funnel: accountFunnelOf(journey, await counting), total: companies.length, accounts }
  }

  if (report === 'people' || report === 'companies') {
    const stalledDays = positiveNumber(params.stalledDays, 'stalledDays', 30)
    const options = { asOf: Math.min(range.to ?? now, now), stalledAfterMs: stalledDays * DAY_MS, last: journey.stages.at(-1)!.name, limit: Math.floor(positiveNumber(params.limit, 'limit', 100)) }
    const query = { siteId, journey: journey.name, stages: stageNames, ...range, stage, ...options }
    const { total, stalled, rows } =
      report === 'people'
        ? await store.listPeople(query).then((page) => ({ ...page, rows: page.rows.map((p) => ({ ...p, name: p.email ?? p.userId ?? p.id, people: null })) }))
        : await store.listCompanies(query).then((page) => ({ ...page, rows: page.rows.map((c) => ({ ...c, name: c.domain ?? c.groupId ?? c.id, companyId: null })) }))
    return { ...header, stage: stage ?? null, stalledDays, total, stalled, rows: listRows(rows, options) }
  }

  return { ...header, ...(await timelineOf(store, config, siteId, params, range)) }
}

/** One person's or company's sessions, events and stage changes (all journeys), in order. */
async function timelineOf(store: StoreReads, config: WaymarkConfig, siteId: string, params: ReportParams, range: { from?: number; to?: number }) {
  const person = personRef(params)
  const companyRef: CompanyRef | undefined = params.company ? { id: params.company } : params.domain ? { domain: params.domain.trim().toLowerCase() } : undefined
  if (!person && !companyRef) throw new RequestError('say whose timeline: person (id), email or userId, or company (id) or domain')
  const collect = async <T>(items: AsyncIterable<T>) => {
    const all: T[] = []
    for await (const item of items) all.push(item)
    return all
  }
  const inRange = withinRange(range)
  const stageChanges = async (type: 'person' | 'company', id: string) =>
    (await Promise.all(config.journeys.map(async (j) => (await store.ownerJourney(siteId, { type, id }, j.name)).transitions.map((t: StageTransition) => ({ ...t, journey: j.name })))))
      .flat()
      .filter((t) => inRange(t.at))
  const ofPeople = async (personIds: string[]) => {
    const sessions: SessionRecord[] = []
    const events: EventRecord[] = []
    for (const personId of personIds) {
      sessions.push(...(await collect(store.querySessions({ siteId, personId, ...range }))))
      events.push(...(await collect(store.queryEvents({ siteId, personId, ...range }))))
    }
    return { sessions, events }
  }

  if (person) {
    const found = await store.findPerson(siteId, person)
    if (!found) throw new NotFound(`no person with ${Object.entries(person)[0].join(' ')} on this site`)
    const { sessions, events } = await ofPeople([found.id])
    return { person: found, items: timeline(sessions, events, await stageChanges('person', found.id)) }
  }
  const company = await store.findCompany(siteId, companyRef!)
  if (!company) throw new NotFound(`no company with ${Object.entries(companyRef!)[0].join(' ')} on this site`)
  const { sessions, events } = await ofPeople(company.people.map((p) => p.id))
  return { company, items: timeline(sessions, events, await stageChanges('company', company.id)) }
}
