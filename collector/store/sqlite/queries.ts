import type Database from 'better-sqlite3'
import type {
  CompanyRow, EventQuery, EventRecord, FormEvent, OwnerListQuery, OwnersEntering, OwnersOfType, PageEvent, OwnerQuery, OwnerStageTimes, OwnerType, PersonAsOf, PersonRow, SessionQuery,
  SessionRecord, SessionSourceCount, SessionTouch, SessionTouchQuery, StageEntryRecord, StageMove, StoredKind, TransitionQuery, TransitionRecord,
} from '../types'
import { longestStalledFirst, moversOf, type FunnelCounts, type FunnelQuery, type StalledPerson } from '../../reports/funnel'
import { isStalled, listOrder, type OwnerPage } from '../../reports/owners'
import type { TouchCounts, TouchQuery } from '../../reports/sources'
import { compareText, DAY_MS } from '../../reports/stats'
import { eventFromValues, STORED_EVENT_COLUMNS } from './event-rows'
import { firstTouchOf, FORM_EVENTS, PAGE_EVENTS, touchOf } from './migrations'
import { readHere, readOnThread, type Read } from './read-thread'

type Value = string | number | null
type Row = Record<string, Value>
type Params = Record<string, string | number>
/** A key of keyset pagination: the column to compare, its name in a row, and its type. */
type Key = { column: string; row: string; type: keyof typeof BEFORE_ALL }

/** How long the funnel's first read may take before its other reads go to a second thread. */
const THREAD_AFTER_MS = 20

/**
 * Reads on a second thread once what this thread reads meanwhile proves long (checked at each
 * `tick`), else here when their rows are asked for: a thread takes about 35 ms to start, which a
 * small site's whole report does not.
 */
function secondThread(reader: Database.Database, reads: Read[]) {
  const started = performance.now()
  let pending: Promise<unknown[][]> | undefined
  return {
    tick() {
      if (!pending && performance.now() - started > THREAD_AFTER_MS) pending = readOnThread(reader, reads)
    },
    rows: async () => (pending ? await pending : readHere(reader, reads)),
  }
}

/** What differs between the people list and the companies list. */
const OWNER_LISTS = {
  person: { ownerType: 'person', column: 'person_id', table: 'people' },
  company: { ownerType: 'company', column: 'company_id', table: 'companies' },
} as const
type OwnerList = (typeof OWNER_LISTS)[keyof typeof OWNER_LISTS]

/** People (or other owners) whose rows one statement reads in one go: each has few, so a page of them stays small. */
const OWNERS_PER_READ = 1000

/** Rows per page: large enough to amortise the query, small enough to keep memory flat. */
const PAGE_ROWS = 2000
/** Keys that sort before any stored value. */
const BEFORE_ALL = { number: Number.MIN_SAFE_INTEGER, text: '' }

/**
 * Streams a query page by page, each page starting after the last row of the one before (keyset
 * pagination). No cursor stays open between pages, so a slow reader (an export to a slow client)
 * never holds up the writer or other readers, and rows committed meanwhile are seen if they sort
 * after the point reached.
 * `sql` is a function of the condition that starts a page after the keys `@after0`, `@after1`…,
 * and must end in ORDER BY those keys.
 *
 * A range's start on the first key is where the first page begins (`from`), never a condition of
 * its own: given two lower bounds on one column, SQLite seeks on one of them, and when it chose the
 * range's, every page scanned the index from the range's start again. Reading 482,202 sessions
 * took 11.5 s so, 5.7 s with the start as the first position, and the gap grows with the square
 * of the rows.
 */
async function* pagedAs<T>(
  /** Makes each row's value from its column values, given the columns' names. */
  shape: (names: string[]) => (values: Value[]) => T,
  reader: Database.Database,
  sql: (afterCondition: string) => string,
  params: Params,
  keys: Key[],
  /** An index holds every key, in order, after the query's equalities: SQLite seeks on the row value itself. */
  indexedKeys = false,
  /** The first key's lowest value (inclusive), if the query has one. */
  from?: number,
): AsyncGenerator<T> {
  // Where no index holds all the keys, a row-value comparison alone does not let SQLite seek; the
  // first key's bound does. Where one does, that bound would make it seek on the first key only.
  const rowValue = `(${keys.map((k) => k.column).join(', ')}) > (${keys.map((_, i) => `@after${i}`).join(', ')})`
  const after = indexedKeys ? rowValue : `${keys[0].column} >= @after0 AND ${rowValue}`
  // Rows are read as arrays and shaped here: better-sqlite3 builds keyed rows through V8's C++ API,
  // which for rows as wide as a session's took about a third more time than a loop in JavaScript.
  const statement = reader.prepare(`${sql(after)} LIMIT ${PAGE_ROWS}`).raw(true)
  const names = statement.columns().map((column) => column.name)
  const make = shape(names)
  // A name selected twice (t.*, then a column of the same name) means its last value, as in a keyed row.
  const keyAt = keys.map((k) => names.lastIndexOf(k.row))
  // The other keys' BEFORE_ALL sorts below every stored value, so the first page takes every row at `from` too.
  let position: (string | number)[] = keys.map((k, i) => (i === 0 && from !== undefined ? from : BEFORE_ALL[k.type]))
  for (;;) {
    const rows = statement.all({ ...params, ...Object.fromEntries(position.map((value, i) => [`after${i}`, value])) }) as Value[][]
    for (const values of rows) yield make(values)
    if (rows.length < PAGE_ROWS) return
    const last = rows[rows.length - 1]
    position = keyAt.map((i) => last[i] as string | number)
  }
}

/** Rows keyed by column name (a name selected twice keeps its last value). */
const keyed = (names: string[]) => (values: Value[]): Row => {
  const row: Row = {}
  for (let i = 0; i < names.length; i++) row[names[i]] = values[i]
  return row
}

const paged = (reader: Database.Database, sql: (afterCondition: string) => string, params: Params, keys: Key[], indexedKeys = false, from?: number) =>
  pagedAs(keyed, reader, sql, params, keys, indexedKeys, from)

type Filter = [condition: string, params: Record<string, string | number | undefined>]
/** The conditions whose parameters are all given, and those parameters. */
function where(filters: Filter[]): { conditions: string; params: Params } {
  const used = filters.filter(([, params]) => Object.values(params).every((value) => value !== undefined))
  return {
    conditions: used.map(([condition]) => condition).join(' AND '),
    params: Object.assign({}, ...used.map(([, params]) => params)),
  }
}

/** The range's bounds that are given, as parameters (for SQL that leaves out the others). */
const givenBounds = (query: { from?: number; to?: number }) => ({
  ...(query.from === undefined ? {} : { from: query.from }),
  ...(query.to === undefined ? {} : { to: query.to }),
})

/** The conditions that a column lies in a range, on the parameters givenBounds names (a missing bound is no bound). */
const bounded = (column: string, bounds: { from?: number; to?: number }) =>
  [bounds.from === undefined ? '' : `AND ${column} >= @from`, bounds.to === undefined ? '' : `AND ${column} < @to`].join(' ')

/**
 * A range as the whole UTC days inside it, which a rollup by day answers, and the parts of days at
 * its ends (at most two), which must be read from the rows themselves. Days are numbered from the
 * epoch, as the rollups key them; a range within one day is all edge.
 */
export function wholeDaysOf(query: { from?: number; to?: number }): { days?: { fromDay: number; toDay: number }; edges: { from?: number; to?: number }[] } {
  const fromDay = query.from === undefined ? Number.MIN_SAFE_INTEGER : Math.ceil(query.from / DAY_MS)
  const toDay = query.to === undefined ? Number.MAX_SAFE_INTEGER : Math.floor(query.to / DAY_MS)
  if (fromDay >= toDay) return { edges: [{ from: query.from, to: query.to }] }
  const edges = []
  if (query.from !== undefined && query.from < fromDay * DAY_MS) edges.push({ from: query.from, to: fromDay * DAY_MS })
  if (query.to !== undefined && toDay * DAY_MS < query.to) edges.push({ from: toDay * DAY_MS, to: query.to })
  return { days: { fromDay, toDay }, edges }
}

/** Both ends of a range when either is given, so one condition can test it. */
const range = (query: { from?: number; to?: number }) =>
  query.from === undefined && query.to === undefined
    ? { from: undefined, to: undefined }
    : { from: query.from ?? Number.MIN_SAFE_INTEGER, to: query.to ?? Number.MAX_SAFE_INTEGER }

const activityFrom = (json: string | null) => {
  const [firstSeen, lastSeen, sessions, events] = json ? (JSON.parse(json) as (number | null)[]) : [null, null, 0, 0]
  return { firstSeen, lastSeen, sessions: sessions ?? 0, events: events ?? 0 }
}

/** The owner's place in the journey, from the columns every owner query selects. */
const positionFrom = (r: Row, journey: string) => ({
  journey,
  stage: r.stage as string | null,
  stageEnteredAt: r.stage_entered_at as number | null,
  score: (r.score as number | null) ?? 0,
})

export const sessionFromRow = (r: Row): SessionRecord => ({
  id: r.id as string, siteId: r.site_id as string, visitorId: r.visitor_id as string,
  startedAt: r.started_at as number, endedAt: r.ended_at as number, durationMs: r.duration_ms as number,
  pageviews: r.pageviews as number, events: r.events as number, conversions: r.conversions as number,
  entryUrl: r.entry_url as string, entryPath: r.entry_path as string, exitPath: r.exit_path as string,
  referrer: r.referrer as string | null, source: r.source as string, medium: r.medium as string,
  campaign: r.campaign as string | null, term: r.term as string | null, content: r.content as string | null,
  gclid: r.gclid as string | null, fbclid: r.fbclid as string | null, msclkid: r.msclkid as string | null,
  liFatId: r.li_fat_id as string | null, channel: r.channel as SessionRecord['channel'],
  browser: r.browser as string | null, os: r.os as string | null, device: r.device as string | null,
  engagedMs: r.engaged_ms as number, engaged: r.engaged === 1, arrivalKey: r.arrival_key as string,
  personId: r.person_id as string | null, companyId: r.company_id as string | null,
  stages: r.stages ? JSON.parse(r.stages as string) : {},
})

/**
 * The store's streaming reads. Each brings sessions and stages up to date first (`catchUp`), so
 * what it returns reflects every event committed before it was called.
 */
export function streamingQueries(reader: Database.Database, catchUp: () => void) {
  // Whole days from the rollups of sources (migrations 17 and 18). Rows that count nothing are left
  // in a rollup when what they counted moves on (deleting them would cost every move a statement
  // more), and left out here.
  const touchesOfDays = reader.prepare(
    `SELECT stage, first_channel, first_source, first_campaign, channel, source, campaign, sum(owners) FROM touches_by_day
     WHERE site_id = @siteId AND journey = @journey AND stage IN (SELECT value FROM json_each(@attributed)) AND day >= @fromDay AND day < @toDay
     GROUP BY stage, first_channel, first_source, first_campaign, channel, source, campaign HAVING sum(owners) > 0`,
  ).raw(true)
  // An entry is its owner's furthest at the start of day toDay when it was entered before and its
  // next stage was not (-1: not at all).
  const flowsOfDays = reader.prepare(
    `SELECT first_channel, stage, sum(owners) FROM first_touch_flows_by_day
     WHERE site_id = @siteId AND journey = @journey AND first_day >= @fromDay AND first_day < @toDay AND day < @toDay AND (next_day = -1 OR next_day >= @toDay)
     GROUP BY first_channel, stage HAVING sum(owners) > 0`,
  ).raw(true)
  const sessionSourcesOfDays = reader.prepare(
    `SELECT stage, channel, source, medium, nullif(campaign, '') AS campaign, sum(sessions) AS sessions FROM session_sources_by_day
     WHERE site_id = @siteId AND journey = @journey AND day >= @fromDay AND day < @toDay
     GROUP BY stage, channel, source, medium, campaign HAVING sum(sessions) > 0`,
  )
  // The funnel's reads, each a range of an index of stage_entries and nothing else. Owners enter a
  // journey's stages in order (reaching one enters those before it at the same moment), so an entry
  // is its owner's furthest at asOf exactly when the next stage was not entered before asOf. A bound
  // the range does not have is left out of the SQL rather than made endless: each condition costs
  // every entry read (at ten million events, a quarter of a stage's time).
  const funnelStatements = new Map<string, Database.Statement>()
  const funnelStatement = (sql: string) => funnelStatements.get(sql) ?? funnelStatements.set(sql, reader.prepare(sql).raw(true)).get(sql)!
  const funnelReads = (hasFrom: boolean, hasTo: boolean) => {
    const ofStage = 'FROM stage_entries WHERE site_id = @siteId AND journey = @journey AND owner_type = @ownerType AND stage = @stage'
    const inRange = [hasFrom ? 'entered_at >= @from' : '', hasTo ? 'entered_at < @to' : ''].filter(Boolean).join(' AND ')
    // The movers' times come back as one JSON array: a row each cost three times as much.
    const movers = `json_group_array(next_at - entered_at) FILTER (WHERE ${hasTo ? 'next_at < @to' : 'next_at IS NOT NULL'})`
    const flow = `SELECT count(*), ${movers} ${ofStage} ${inRange && `AND ${inRange}`}`
    // The stalled are known people entered before the threshold whose next stage was not entered
    // before asOf: either not at all (stage_entries_furthest) or at asOf or later (stage_entries_by_next,
    // none when asOf is now). Two ranges of two partial indexes, rather than every entry of the stage
    // before the threshold: at ten million events, the whole history of each stage took 430 to 650 ms.
    const furthest = `FROM stage_entries INDEXED BY stage_entries_furthest WHERE site_id = @siteId AND journey = @journey
      AND owner_type = 'person' AND stage = @stage AND next_at IS NULL AND entered_at < @stalledBefore`
    const movedLate = `FROM stage_entries INDEXED BY stage_entries_by_next WHERE site_id = @siteId AND journey = @journey
      AND owner_type = 'person' AND stage = @stage AND next_at >= @asOf AND entered_at < @stalledBefore`
    const longest = 'ORDER BY entered_at, owner_id LIMIT @limit'
    return {
      flow,
      peopleFlow: funnelStatement(flow),
      stalled: funnelStatement(`SELECT (SELECT count(*) ${furthest}) + (SELECT count(*) ${movedLate})`),
      stalledFirst: funnelStatement(
        `SELECT * FROM (SELECT owner_id, entered_at ${furthest} ${longest}) UNION ALL SELECT * FROM (SELECT owner_id, entered_at ${movedLate} ${longest})`,
      ),
    }
  }
  async function* peopleRows(query: OwnerQuery): AsyncGenerator<PersonRow> {
    catchUp()
    // Their sessions, each of which holds its person (kept by triggers as identities change).
    const sessionsOfPerson = 'FROM sessions s INDEXED BY sessions_of_people WHERE s.site_id = p.site_id AND s.person_id = p.id'
    const { conditions, params } = where([
      ['p.site_id = @siteId', { siteId: query.siteId }],
      ['p.id IN (SELECT value FROM json_each(@ids))', { ids: query.ids && JSON.stringify(query.ids) }],
      ['p.company_id IN (SELECT value FROM json_each(@companyIds))', { companyIds: query.companyIds && JSON.stringify(query.companyIds) }],
      ['os.stage = @stage', { stage: query.stage }],
      [`EXISTS (SELECT 1 ${sessionsOfPerson} AND s.started_at >= @from AND s.started_at < @to)`, range(query)],
    ])
    const sql = (after: string) =>
      `SELECT p.*, os.stage, os.score,
         (SELECT entered_at FROM stage_entries e WHERE e.owner_type = 'person' AND e.owner_id = p.id AND e.journey = @journey AND e.stage = os.stage) AS stage_entered_at,
         (SELECT json_group_object(key, json(value)) FROM traits WHERE subject_id = p.id) AS traits,
         (SELECT count(*) FROM identities WHERE person_id = p.id) AS visitor_ids,
         (SELECT json_array(min(s.started_at), max(s.ended_at), count(*), sum(s.events)) ${sessionsOfPerson}) AS activity
       FROM people p LEFT JOIN owner_stages os ON os.owner_type = 'person' AND os.owner_id = p.id AND os.journey = @journey
       WHERE ${conditions} AND ${after} ORDER BY p.id`
    for await (const r of paged(reader, sql, { ...params, journey: query.journey }, [{ column: 'p.id', row: 'id', type: 'text' }]))
      yield {
        id: r.id as string, siteId: r.site_id as string, userId: r.user_id as string | null, email: r.email as string | null,
        companyId: r.company_id as string | null, companySource: r.company_source as PersonRow['companySource'],
        createdAt: r.created_at as number, ...activityFrom(r.activity as string | null), ...positionFrom(r, query.journey),
        traits: r.traits ? JSON.parse(r.traits as string) : {}, visitorIds: r.visitor_ids as number,
      }
  }

  async function* companyRows(query: OwnerQuery): AsyncGenerator<CompanyRow> {
    catchUp()
    // Its people's sessions, each of which holds the company (kept by triggers as identities and people change).
    const sessionsOfCompany = 'FROM sessions s INDEXED BY sessions_of_companies WHERE s.site_id = c.site_id AND s.company_id = c.id'
    const { conditions, params } = where([
      ['c.site_id = @siteId', { siteId: query.siteId }],
      ['c.id IN (SELECT value FROM json_each(@ids))', { ids: query.ids && JSON.stringify(query.ids) }],
      ['c.id IN (SELECT value FROM json_each(@companyIds))', { companyIds: query.companyIds && JSON.stringify(query.companyIds) }],
      ['os.stage = @stage', { stage: query.stage }],
      [`EXISTS (SELECT 1 ${sessionsOfCompany} AND s.started_at >= @from AND s.started_at < @to)`, range(query)],
    ])
    const sql = (after: string) =>
      `SELECT c.*, os.stage, os.score,
         (SELECT entered_at FROM stage_entries e WHERE e.owner_type = 'company' AND e.owner_id = c.id AND e.journey = @journey AND e.stage = os.stage) AS stage_entered_at,
         (SELECT json_group_object(key, json(value)) FROM traits WHERE subject_id = c.id) AS traits,
         (SELECT count(*) FROM people WHERE company_id = c.id) AS people,
         (SELECT json_array(min(s.started_at), max(s.ended_at), count(*), sum(s.events)) ${sessionsOfCompany}) AS activity
       FROM companies c LEFT JOIN owner_stages os ON os.owner_type = 'company' AND os.owner_id = c.id AND os.journey = @journey
       WHERE ${conditions} AND ${after} ORDER BY c.id`
    for await (const r of paged(reader, sql, { ...params, journey: query.journey }, [{ column: 'c.id', row: 'id', type: 'text' }]))
      yield {
        id: r.id as string, siteId: r.site_id as string, groupId: r.group_id as string | null, domain: r.domain as string | null,
        createdAt: r.created_at as number, ...activityFrom(r.activity as string | null), ...positionFrom(r, query.journey),
        traits: r.traits ? JSON.parse(r.traits as string) : {}, people: r.people as number,
      }
  }

  /**
   * A page of the people or companies list, found from indexes rather than by reading every owner
   * (see ownerPageFold for the definition): the stalled are each stage's furthest entries entered
   * before the threshold, longest first, from stage_entries_furthest; the rest, most recently seen
   * first, by walking known people's sessions back from the latest end, each owner's first the
   * latest it has; those who came in a range are known people's sessions of the range. Only the
   * page's owners are then read whole.
   */
  async function listPage<T extends PersonRow | CompanyRow>(query: OwnerListQuery, list: OwnerList, rowsOf: (query: OwnerQuery & { ids: string[] }) => AsyncIterable<T>): Promise<OwnerPage<T>> {
    catchUp()
    const { siteId, journey, stage, limit } = query
    const { ownerType, column, table } = list
    const ofOwners = { siteId, journey, ownerType }
    const ranged = query.from !== undefined || query.to !== undefined
    const cameInRange = ranged
      ? new Set(reader.prepare(
          // A session ends no earlier than it starts: those of the range are among those ending after its start.
          // Made distinct by the Set (at ten million events, 0.1 s sooner than SQLite's DISTINCT).
          `SELECT ${column} FROM sessions INDEXED BY sessions_of_people_by_end
           WHERE site_id = @siteId AND ended_at >= @from AND started_at >= @from AND started_at < @to AND person_id IS NOT NULL AND ${column} IS NOT NULL`,
        ).pluck().all({ siteId, ...range(query) }) as string[])
      : undefined
    const listed = (id: string) => !cameInRange || cameInRange.has(id)

    let total: number
    if (stage === undefined) total = cameInRange ? cameInRange.size : (reader.prepare(`SELECT count(*) FROM ${table} WHERE site_id = ?`).pluck().get(siteId) as number)
    else {
      const atStage = reader.prepare('SELECT owner_id FROM owner_stages WHERE site_id = @siteId AND journey = @journey AND owner_type = @ownerType AND stage = @stage').pluck()
      total = 0
      for (const id of atStage.iterate({ ...ofOwners, stage }) as Iterable<string>) if (listed(id)) total++
    }

    // The stalled: an owner's furthest entry is the one with no next stage's time, and those alone
    // are in stage_entries_furthest, by stage and time of entry.
    const stalledStages = (stage === undefined ? query.stages : [stage]).filter((s) => s !== query.last)
    const stalledBefore = query.asOf - query.stalledAfterMs
    const ofStalled = `FROM stage_entries INDEXED BY stage_entries_furthest
      WHERE site_id = @siteId AND journey = @journey AND owner_type = @ownerType AND stage = @stage AND entered_at < @stalledBefore AND next_at IS NULL`
    const longest = reader.prepare(`SELECT owner_id, entered_at ${ofStalled} ORDER BY entered_at, owner_id LIMIT @limit`).raw(true)
    const longestFound = reader.prepare(`SELECT owner_id, entered_at ${ofStalled} AND owner_id IN (SELECT value FROM json_each(@found)) ORDER BY entered_at, owner_id LIMIT @limit`).raw(true)
    let stalled = 0
    const first: { id: string; at: number }[] = []
    for (const s of stalledStages) {
      const params = { ...ofOwners, stage: s, stalledBefore }
      if (!cameInRange) {
        stalled += reader.prepare(`SELECT count(*) ${ofStalled}`).pluck().get(params) as number
        for (const [id, at] of longest.all({ ...params, limit }) as [string, number][]) first.push({ id, at })
        continue
      }
      // In a range, every stalled owner is checked against those who came in it: their ids read as
      // one JSON array in no order (at ten million events, half the time of one in order, and a
      // third of a row each); then the longest stalled of those found, in the index's order.
      const stalledIds = JSON.parse(reader.prepare(`SELECT json_group_array(owner_id) ${ofStalled}`).pluck().get(params) as string) as string[]
      const found = stalledIds.filter((id) => cameInRange.has(id))
      stalled += found.length
      for (const [id, at] of longestFound.all({ ...params, found: JSON.stringify(found), limit }) as [string, number][]) first.push({ id, at })
    }
    const ids = first.sort((a, b) => a.at - b.at || compareText(a.id, b.id)).slice(0, limit).map((o) => o.id)

    // The rest, most recently seen first, once the stalled do not fill the page.
    const wanted = limit - ids.length
    if (wanted > 0) {
      const positionOf = reader.prepare(
        `SELECT os.stage, e.entered_at FROM owner_stages os
         LEFT JOIN stage_entries e ON e.owner_type = os.owner_type AND e.owner_id = os.owner_id AND e.journey = os.journey AND e.stage = os.stage
         WHERE os.owner_type = @ownerType AND os.owner_id = @id AND os.journey = @journey`,
      ).raw(true)
      const fits = (id: string) => {
        const [ownStage, enteredAt] = (positionOf.get({ ...ofOwners, id }) as [string | null, number | null] | undefined) ?? [null, null]
        return (stage === undefined || ownStage === stage) && !isStalled({ id, stage: ownStage, stageEnteredAt: enteredAt, lastSeen: null }, query)
      }
      const seen = new Set<string>()
      const found: { id: string; lastSeen: number }[] = []
      const latestFirst = reader.prepare(
        `SELECT ${column}, ended_at FROM sessions INDEXED BY sessions_of_people_by_end
         WHERE site_id = ? AND person_id IS NOT NULL AND ${column} IS NOT NULL ORDER BY ended_at DESC`,
      ).raw(true)
      let walkedAll = true
      for (const [id, endedAt] of latestFirst.iterate(siteId) as Iterable<[string, number]>) {
        // Ties at the last place taken are all read, so the page keeps the lowest ids of them.
        if (found.length >= wanted && endedAt < found[wanted - 1].lastSeen) {
          walkedAll = false
          break
        }
        if (seen.has(id)) continue
        seen.add(id)
        if (listed(id) && fits(id)) found.push({ id, lastSeen: endedAt })
      }
      found.sort((a, b) => b.lastSeen - a.lastSeen || compareText(a.id, b.id))
      ids.push(...found.slice(0, wanted).map((o) => o.id))
      // Never seen: last, by id (none came in a range).
      if (walkedAll && !ranged && ids.length < limit)
        for (const id of reader.prepare(`SELECT id FROM ${table} WHERE site_id = ? ORDER BY id`).pluck().iterate(siteId) as Iterable<string>) {
          if (ids.length >= limit) break
          if (!seen.has(id) && fits(id)) ids.push(id)
        }
    }

    const rows: T[] = []
    for await (const row of rowsOf({ siteId, journey, ids })) rows.push(row)
    return { total, stalled, rows: rows.sort(listOrder(query)) }
  }
  return {
    async *queryEvents(query: EventQuery): AsyncGenerator<EventRecord> {
      catchUp()
      const { conditions, params } = where([
        ['e.site_id = @siteId', { siteId: query.siteId }],
        ['e.visitor_id IN (SELECT visitor_id FROM identities WHERE site_id = @siteId AND person_id = @personId)', { personId: query.personId }],
        [
          'e.visitor_id IN (SELECT visitor_id FROM identities WHERE site_id = @siteId AND person_id IN (SELECT value FROM json_each(@personIds)))',
          { personIds: query.personIds && JSON.stringify(query.personIds) },
        ],
        ['e.visitor_id = @visitorId', { visitorId: query.visitorId }],
        ['e.occurred_at < @to', { to: query.to }],
        ['e.kind IN (SELECT value FROM json_each(@kinds))', { kinds: query.kinds && JSON.stringify(query.kinds) }],
      ])
      const sessionId = query.sessionIds === false
        ? 'NULL AS session_id'
        : `CASE WHEN e.is_bot THEN NULL ELSE (SELECT s.id FROM sessions s WHERE s.site_id = e.site_id AND s.visitor_id = e.visitor_id
             AND s.started_at <= e.occurred_at ORDER BY s.started_at DESC LIMIT 1) END AS session_id`
      // Some visitors' events are found by their visitor ids, each a range of the visitor's index; left
      // to itself, SQLite walked every event of the range in time order (at a million events, 1.8 s
      // for the requests of 4,525 people, against 0.2 s).
      const byVisitor = query.personId !== undefined || query.personIds !== undefined || query.visitorId !== undefined
      // The event's own columns first, in the order eventFromValues reads them.
      const sql = (after: string) =>
        `SELECT ${STORED_EVENT_COLUMNS.map((column) => `e.${column}`).join(', ')}, i.person_id, ${sessionId}
         FROM events e ${byVisitor ? 'INDEXED BY events_by_visitor' : ''} LEFT JOIN identities i ON i.site_id = e.site_id AND i.visitor_id = e.visitor_id
         WHERE ${conditions} AND ${after} ORDER BY e.occurred_at, e.id`
      const keys = [{ column: 'e.occurred_at', row: 'occurred_at', type: 'number' }, { column: 'e.id', row: 'id', type: 'text' }] as const
      const record = (names: string[]) => {
        const [person, session] = [names.indexOf('person_id'), names.indexOf('session_id')]
        return (values: Value[]): EventRecord =>
          Object.assign(eventFromValues(values), { personId: values[person] as string | null, sessionId: values[session] as string | null })
      }
      yield* pagedAs(record, reader, sql, params, [...keys], false, query.from)
    },

    async *querySessions(query: SessionQuery): AsyncGenerator<SessionRecord> {
      catchUp()
      const { conditions, params } = where([
        ['d.site_id = @siteId', { siteId: query.siteId }],
        ['d.started_at < @to', { to: query.to }],
        ['d.visitor_id = @visitorId', { visitorId: query.visitorId }],
        // By the person's visitor ids: the sessions' own person_id is indexed only with their time.
        ['d.visitor_id IN (SELECT visitor_id FROM identities WHERE site_id = @siteId AND person_id = @personId)', { personId: query.personId }],
        ['(SELECT stage FROM session_stages WHERE session_id = d.id AND journey = @journey) = @stage', { journey: query.journey, stage: query.stage }],
      ])
      const sql = (after: string) =>
        `SELECT d.*, (SELECT json_group_object(journey, stage) FROM session_stages WHERE session_id = d.id) AS stages
         FROM session_details d WHERE ${conditions} AND ${after} ORDER BY d.started_at, d.id`
      const keys = [{ column: 'd.started_at', row: 'started_at', type: 'number' }, { column: 'd.id', row: 'id', type: 'text' }] as const
      for await (const row of paged(reader, sql, params, [...keys], false, query.from)) yield sessionFromRow(row)
    },

    async *querySessionTouches(query: SessionTouchQuery): AsyncGenerator<SessionTouch> {
      catchUp()
      // The columns of a touch, in the order touchOf reads them.
      const columns = 's.id, s.started_at, s.ended_at, s.channel, s.visitor_id, s.person_id, s.company_id'
      const touchOf = (v: Value[]): SessionTouch => ({
        id: v[0] as string, startedAt: v[1] as number, endedAt: v[2] as number, channel: v[3] as string,
        visitorId: v[4] as string, personId: v[5] as string | null, companyId: v[6] as string | null,
      })
      const touchesOf = (companyId?: string) => {
        const { conditions, params } = where([
          ['s.site_id = @siteId', { siteId: query.siteId }],
          ['s.company_id = @companyId', { companyId }],
          ['s.started_at < @to', { to: query.to }],
        ])
        const sql = (after: string) => `SELECT ${columns} FROM sessions s WHERE ${conditions} AND ${after} ORDER BY s.started_at, s.id`
        const keys = [{ column: 's.started_at', row: 'started_at', type: 'number' }, { column: 's.id', row: 'id', type: 'text' }] as const
        return pagedAs(() => touchOf, reader, sql, params, [...keys], false, query.from)
      }
      // The sessions of the site that started in the range (for people and for ids; touchesOf pages its own way).
      const startedIn = where([['s.site_id = @siteId', { siteId: query.siteId }], ['s.started_at >= @from', { from: query.from }], ['s.started_at < @to', { to: query.to }]])
      // A company at a time, each along sessions_of_companies in the order of start: a list of them
      // in one query would sort all their sessions again for every page.
      if (query.companyIds) for (const companyId of query.companyIds) yield* touchesOf(companyId)
      else if (query.personIds) {
        // A page of people at a time, each along sessions_of_people.
        const read = reader.prepare(
          `SELECT ${columns} FROM sessions s INDEXED BY sessions_of_people
           WHERE ${startedIn.conditions} AND s.person_id IN (SELECT value FROM json_each(@ids)) ORDER BY s.person_id, s.started_at, s.id`,
        ).raw(true)
        for (let i = 0; i < query.personIds.length; i += OWNERS_PER_READ)
          for (const v of read.all({ ...startedIn.params, ids: JSON.stringify(query.personIds.slice(i, i + OWNERS_PER_READ)) }) as Value[][]) yield touchOf(v)
      } else if (query.ids) {
        // Each a seek of the sessions' primary key.
        const read = reader.prepare(`SELECT ${columns} FROM sessions s WHERE ${startedIn.conditions} AND s.id IN (SELECT value FROM json_each(@ids)) ORDER BY s.started_at, s.id`).raw(true)
        for (const v of read.all({ ...startedIn.params, ids: JSON.stringify(query.ids) }) as Value[][]) yield touchOf(v)
      } else yield* touchesOf()
    },

    async countSessionSources(query: { siteId: string; journey: string; from?: number; to?: number }): Promise<SessionSourceCount[]> {
      catchUp()
      const { days, edges } = wholeDaysOf(query)
      const counted: SessionSourceCount[] = []
      if (days) counted.push(...(sessionSourcesOfDays.all({ siteId: query.siteId, journey: query.journey, ...days }) as SessionSourceCount[]))
      for (const edge of edges) {
        const { conditions, params } = where([
          ['s.site_id = @siteId', { siteId: query.siteId }],
          ['s.started_at >= @from', { from: edge.from }],
          ['s.started_at < @to', { to: edge.to }],
        ])
        counted.push(...(reader.prepare(
          `SELECT st.stage, s.channel, s.source, s.medium, s.campaign, count(*) AS sessions
           FROM sessions s JOIN session_stages st ON st.session_id = s.id AND st.journey = @journey
           WHERE ${conditions} AND st.stage IS NOT NULL GROUP BY st.stage, s.channel, s.source, s.medium, s.campaign`,
        ).all({ ...params, journey: query.journey }) as SessionSourceCount[]))
      }
      return counted
    },

    async foldFormEvents(query: { siteId: string; from?: number; to?: number }, add: (event: FormEvent) => void) {
      catchUp()
      const { conditions, params } = where([
        ['site_id = @siteId', { siteId: query.siteId }],
        ['occurred_at >= @from', { from: query.from }],
        ['occurred_at < @to', { to: query.to }],
      ])
      const read = reader.prepare(`SELECT kind, name, props FROM events WHERE ${conditions} AND ${FORM_EVENTS}`).raw(true)
      for (const [kind, name, props] of read.iterate(params) as Iterable<[StoredKind, string | null, string | null]>)
        add({ kind, name, props: props === null ? null : JSON.parse(props) })
    },

    async foldPageEvents(query: { siteId: string; from?: number; to?: number }, add: (event: PageEvent) => void) {
      catchUp()
      const { conditions, params } = where([
        ['e.site_id = @siteId', { siteId: query.siteId }],
        ['e.occurred_at >= @from', { from: query.from }],
        ['e.occurred_at < @to', { to: query.to }],
      ])
      // From events_of_pages_by_time alone, which holds every column read here but the person.
      const read = reader.prepare(
        `SELECT e.kind, e.name, e.path, e.occurred_at, i.person_id, e.visitor_id, e.scroll_depth, e.engaged_ms
         FROM events e LEFT JOIN identities i ON i.site_id = e.site_id AND i.visitor_id = e.visitor_id
         WHERE ${conditions} AND ${PAGE_EVENTS}`,
      ).raw(true)
      for (const [kind, name, path, occurredAt, personId, visitorId, scrollDepth, engagedMs] of read.iterate(params) as Iterable<Value[]>)
        add({
          kind: kind as PageEvent['kind'], name: name as string | null, path: path as string, occurredAt: occurredAt as number, personId: personId as string | null,
          visitorId: visitorId as string, isBot: false, scrollDepth: scrollDepth as number | null, engagedMs: engagedMs as number | null,
        })
    },

    queryPeople: (query: OwnerQuery) => peopleRows(query),
    queryCompanies: (query: OwnerQuery) => companyRows(query),
    listPeople: (query: OwnerListQuery) => listPage(query, OWNER_LISTS.person, peopleRows),
    listCompanies: (query: OwnerListQuery) => listPage(query, OWNER_LISTS.company, companyRows),

    async foldStageMoves(query: { siteId: string; journey: string; from?: number; to?: number }, add: (move: StageMove) => void) {
      catchUp()
      const { conditions, params } = where([
        ['site_id = @siteId', { siteId: query.siteId }],
        ['journey = @journey', { journey: query.journey }],
        ['moved = 1', {}],
        ['entered_at >= @from', { from: query.from }],
        ['entered_at < @to', { to: query.to }],
      ])
      // The key columns and the time: all in stage_moves_by_site, so the table is not read.
      const read = reader.prepare(`SELECT owner_type, owner_id, entered_at FROM stage_entries WHERE ${conditions}`).raw(true)
      for (const [ownerType, ownerId, at] of read.iterate(params) as Iterable<[OwnerType, string, number]>) add({ ownerType, ownerId, at })
    },

    async *queryTransitions(query: TransitionQuery): AsyncGenerator<TransitionRecord> {
      catchUp()
      // A transition is stored on the entry of the stage it moved the owner to (moved = 1).
      const { conditions, params } = where([
        ['t.site_id = @siteId', { siteId: query.siteId }],
        ['t.journey = @journey', { journey: query.journey }],
        ['t.moved = 1', {}],
        ['t.entered_at < @to', { to: query.to }],
        ['t.stage = @stage', { stage: query.stage }],
        ['t.owner_type = @ownerType', { ownerType: query.ownerType }],
      ])
      const sql = (after: string) =>
        `SELECT t.site_id, t.owner_type, t.owner_id, t.journey, t.moved_from, t.stage, t.entered_at, t.session_id, s.channel, s.source, s.medium, s.campaign
         FROM stage_entries t LEFT JOIN sessions s ON s.id = t.session_id
         WHERE ${conditions} AND ${after} ORDER BY t.entered_at, t.owner_type, t.owner_id, t.journey, t.stage`
      // Unique together (an entry's key, time first): no page boundary can skip a row.
      const keys = [
        { column: 't.entered_at', row: 'entered_at', type: 'number' },
        { column: 't.owner_type', row: 'owner_type', type: 'text' },
        { column: 't.owner_id', row: 'owner_id', type: 'text' },
        { column: 't.journey', row: 'journey', type: 'text' },
        { column: 't.stage', row: 'stage', type: 'text' },
      ] as const
      for await (const r of paged(reader, sql, params, [...keys], false, query.from))
        yield {
          siteId: r.site_id as string, ownerType: r.owner_type as TransitionRecord['ownerType'], ownerId: r.owner_id as string,
          journey: r.journey as string, from: r.moved_from as string | null, to: r.stage as string, at: r.entered_at as number,
          sessionId: r.session_id as string, channel: r.channel as string | null, source: r.source as string | null,
          medium: r.medium as string | null, campaign: r.campaign as string | null,
        }
    },

    async peopleAsOf(siteId: string, personIds: string[], asOf: number): Promise<Map<string, PersonAsOf>> {
      catchUp()
      const rows = reader.prepare(
        `SELECT p.id, p.email, p.user_id, p.company_id,
           (SELECT s.ended_at FROM sessions s INDEXED BY sessions_of_people
            WHERE s.site_id = p.site_id AND s.person_id = p.id AND s.started_at < @asOf ORDER BY s.started_at DESC, s.id DESC LIMIT 1) AS last_seen
         FROM people p WHERE p.site_id = @siteId AND p.id IN (SELECT value FROM json_each(@ids))`,
      ).all({ siteId, asOf, ids: JSON.stringify(personIds) }) as { id: string; email: string | null; user_id: string | null; company_id: string | null; last_seen: number | null }[]
      return new Map(rows.map((r) => [r.id, { email: r.email, userId: r.user_id, companyId: r.company_id, lastSeen: r.last_seen }]))
    },

    async *queryStageEntries(siteId: string, journey: string, owners?: OwnersOfType): AsyncGenerator<StageEntryRecord> {
      catchUp()
      const select = `SELECT e.owner_type, e.owner_id, e.stage, e.entered_at, e.session_id, e.channel, e.campaign, e.page, s.source, s.medium
         FROM stage_entries e LEFT JOIN sessions s ON s.id = e.session_id WHERE e.site_id = @siteId AND e.journey = @journey`
      const entryOf = (r: Row): StageEntryRecord => ({
        ownerType: r.owner_type as StageEntryRecord['ownerType'], ownerId: r.owner_id as string, stage: r.stage as string,
        at: r.entered_at as number, sessionId: r.session_id as string, channel: r.channel as string | null,
        source: r.source as string | null, medium: r.medium as string | null, campaign: r.campaign as string | null,
        page: r.page as string | null,
      })
      if (owners) {
        // Some owners (a page of them), read in one go, each by a seek of its own: paged, the keys
        // would walk every owner of the type for each page.
        const rows = reader.prepare(`${select} AND e.owner_type = @type AND e.owner_id IN (SELECT value FROM json_each(@ids)) ORDER BY e.owner_id, e.stage`)
          .all({ siteId, journey, type: owners.type, ids: JSON.stringify(owners.ids) }) as Row[]
        for (const r of rows) yield entryOf(r)
        return
      }
      const sql = (after: string) => `${select} AND ${after} ORDER BY e.owner_type, e.owner_id, e.stage`
      // The keys follow the index stage_entries_by_owner (site, journey, then these), so each page
      // seeks straight to where the last one ended rather than sorting every entry again.
      const keys = [
        { column: 'e.owner_type', row: 'owner_type', type: 'text' },
        { column: 'e.owner_id', row: 'owner_id', type: 'text' },
        { column: 'e.stage', row: 'stage', type: 'text' },
      ] as const
      for await (const r of paged(reader, sql, { siteId, journey }, [...keys], true)) yield entryOf(r)
    },

    async funnelCounts(siteId: string, journey: string, stages: string[], query: FunnelQuery): Promise<FunnelCounts> {
      catchUp()
      const reads = funnelReads(query.from !== undefined, query.to !== undefined)
      const params = { siteId, journey, stalledBefore: query.stalledBefore, asOf: query.asOf, limit: query.limit }
      const bounds = givenBounds(query)
      const flowOf = ([entered, msToNext]: unknown[]) => ({ entered: entered as number, msToNext: JSON.parse(msToNext as string) as number[] })
      // Visitors' and companies' flows on a second thread while this one reads known people's: at
      // ten million events the two halves took about 330 and 540 ms one after the other (the first
      // stage's read alone, 170 ms).
      const others = secondThread(reader, stages.flatMap((stage) => (['visitor', 'company'] as const).map((ownerType) => ({ sql: reads.flow, params: { siteId, journey, ...bounds, ownerType, stage } }))))
      const last = stages.length - 1
      let total = 0
      const first: StalledPerson[] = []
      const people = stages.map((stage, i) => {
        const counted = flowOf(reads.peopleFlow.get({ siteId, journey, ...bounds, ownerType: 'person', stage }) as unknown[])
        others.tick()
        const stalled = i < last ? (reads.stalled.get({ ...params, stage }) as [number])[0] : 0
        if (stalled) {
          total += stalled
          // Each stage's longest stalled, from the indexes in order; the longest of all are among them.
          for (const [personId, enteredAt] of reads.stalledFirst.all({ ...params, stage }) as [string, number][]) first.push({ personId, stage, enteredAt })
        }
        return counted
      })
      const otherRows = await others.rows()
      const flows = stages.flatMap((stage, i) => {
        const [visitors, companies] = [flowOf(otherRows[2 * i]), flowOf(otherRows[2 * i + 1])]
        return [
          { stage, owners: 'people' as const, entered: people[i].entered + visitors.entered, known: people[i].entered, ...moversOf([...people[i].msToNext, ...visitors.msToNext]) },
          { stage, owners: 'companies' as const, entered: companies.entered, known: 0, ...moversOf(companies.msToNext) },
        ]
      })
      return { flows, stalled: { total, first: first.sort(longestStalledFirst).slice(0, query.limit) } }
    },

    async touchCounts(siteId: string, journey: string, stages: string[], query: TouchQuery): Promise<TouchCounts> {
      catchUp()
      const counts: TouchCounts = { attribution: [], flows: [] }
      const { days, edges } = wholeDaysOf(query)
      // The whole days from the rollups, the parts of days at the ends from the entries. The flows
      // count how far people had gone by the range's end, which the rollup knows only at a day's start.
      const flowsByDay = days && (query.to === undefined || query.to % DAY_MS === 0)
      const attributed = JSON.stringify(query.attributed)
      // A row of touches as both reads give it: each touch keyed as touchOf keys it ('' for no campaign).
      const addAttribution = ([stage, firstChannel, firstSource, firstCampaign, channel, source, campaign, people]: unknown[]) =>
        counts.attribution.push({
          stage: stage as string, people: people as number,
          firstTouch: { channel: firstChannel as string, source: firstSource as string, campaign: (firstCampaign as string) || null },
          lastTouch: { channel: channel as string, source: source as string, campaign: (campaign as string) || null },
        })
      if (days) for (const row of touchesOfDays.all({ siteId, journey, ...days, attributed }) as unknown[][]) addAttribution(row)
      if (flowsByDay)
        for (const [channel, stage, people] of flowsOfDays.all({ siteId, journey, ...days }) as [string, string, number][]) counts.flows.push({ channel, stage, people })

      const ofPeople = (['person', 'visitor'] as const).map((ownerType) => ({ siteId, journey, first: stages[0], ownerType }))
      // Each entry into an attributed stage in the part-day, with its owner's entry into the first
      // stage (a lookup by the entries' key). One stage at a time: a list of stages kept SQLite from
      // reading them by stage and time (0.7 s for eleven hours at ten million events, against a few ms).
      for (const edge of edges) {
        const attribution = reader.prepare(`SELECT e.stage, ${[...firstTouchOf('f', 'e'), ...touchOf('e')].join(', ')}, count(*) AS people
          FROM stage_entries e LEFT JOIN stage_entries f ON f.owner_type = e.owner_type AND f.owner_id = e.owner_id AND f.journey = e.journey AND f.stage = @first
          WHERE e.site_id = @siteId AND e.journey = @journey AND e.owner_type = @ownerType AND e.stage = @stage ${bounded('e.entered_at', edge)}
          GROUP BY 1, 2, 3, 4, 5, 6, 7`).raw(true)
        for (const params of ofPeople)
          for (const stage of query.attributed)
            for (const row of attribution.all({ ...params, stage, ...givenBounds(edge) }) as unknown[][]) addAttribution(row)
      }
      // Those whose first entry is in the range (or its first part-day), by its channel and how far
      // they had gone by the range's end: the furthest of their entries before it, from the owner index alone.
      // (With the flows by day, the range ends at a day's start: its only part-day is its first.)
      const firstIn = flowsByDay ? edges[0] : query
      if (firstIn) {
        const furthest = `CASE x.stage ${stages.map((_, i) => `WHEN @stage${i} THEN ${i}`).join(' ')} END`
        const flows = `SELECT f.channel, count(*) AS people,
            (SELECT max(${furthest}) FROM stage_entries x WHERE x.site_id = f.site_id AND x.journey = f.journey AND x.owner_type = f.owner_type
               AND x.owner_id = f.owner_id ${query.to === undefined ? '' : 'AND x.entered_at < @end'}) AS furthest
          FROM stage_entries f WHERE f.site_id = @siteId AND f.journey = @journey AND f.owner_type = @ownerType AND f.stage = @first ${bounded('f.entered_at', firstIn)}
          GROUP BY 1, 3`
        const stageParams = Object.fromEntries(stages.map((stage, i) => [`stage${i}`, stage]))
        const end = query.to === undefined ? {} : { end: query.to }
        const flowsOf = reader.prepare(flows).raw(true)
        for (const params of ofPeople)
          for (const [channel, people, reached] of flowsOf.all({ ...params, ...stageParams, ...givenBounds(firstIn), ...end }) as [string | null, number, number][])
            counts.flows.push({ channel: channel ?? 'unknown', stage: stages[reached], people })
      }
      return counts
    },

    async *queryStageTimes(siteId: string, journey: string, stages: string[], owners?: OwnersOfType | OwnersEntering): AsyncGenerator<OwnerStageTimes> {
      catchUp()
      const times = stages.map((_, i) => `MAX(CASE WHEN stage = @stage${i} THEN entered_at END)`).join(', ')
      const stageParams = Object.fromEntries(stages.map((stage, i) => [`stage${i}`, stage]))
      const shapeOf = (values: Value[]): OwnerStageTimes => ({ ownerType: values[0] as OwnerType, ownerId: values[1] as string, at: values.slice(2) as (number | null)[] })
      // Some owners (a page of them), in one go, each a seek of stage_entries_by_owner.
      const ofOwners = reader.prepare(
        `SELECT owner_type, owner_id, ${times} FROM stage_entries WHERE site_id = @siteId AND journey = @journey AND owner_type = @type
         AND owner_id IN (SELECT value FROM json_each(@ids)) GROUP BY owner_type, owner_id`,
      ).raw(true)
      const timesOf = (type: OwnerType, ids: string[]) => (ofOwners.all({ siteId, journey, ...stageParams, type, ids: JSON.stringify(ids) }) as Value[][]).map(shapeOf)
      if (owners && 'types' in owners) {
        // Who entered a stage in the range, from a range of stage_entries_by_site a type and stage,
        // then their rows a page at a time: at ten million events, the 35,194 people and companies
        // of 30 days rather than each of 2,224,965 owners.
        const bounds = givenBounds(owners)
        const entering = reader.prepare(
          `SELECT owner_id FROM stage_entries WHERE site_id = @siteId AND journey = @journey AND owner_type = @type AND stage = @stage ${bounded('entered_at', bounds)}`,
        ).pluck()
        for (const type of owners.types) {
          const ids = new Set<string>()
          for (const stage of stages) for (const id of entering.all({ siteId, journey, type, stage, ...bounds }) as string[]) ids.add(id)
          const all = [...ids]
          for (let i = 0; i < all.length; i += OWNERS_PER_READ) yield* timesOf(type, all.slice(i, i + OWNERS_PER_READ))
        }
        return
      }
      if (owners) {
        yield* timesOf(owners.type, owners.ids)
        return
      }
      // Grouped along stage_entries_by_owner, which holds entered_at too: no row of the table is read.
      const sql = (after: string) =>
        `SELECT owner_type, owner_id, ${times} FROM stage_entries
         WHERE site_id = @siteId AND journey = @journey AND ${after} GROUP BY owner_type, owner_id ORDER BY owner_type, owner_id`
      const keys = [
        { column: 'owner_type', row: 'owner_type', type: 'text' },
        { column: 'owner_id', row: 'owner_id', type: 'text' },
      ] as const
      yield* pagedAs(() => shapeOf, reader, sql, { siteId, journey, ...stageParams }, [...keys], true)
    },

    async firstSeen(siteId: string, owners: OwnersOfType): Promise<Map<string, number>> {
      catchUp()
      // The earliest start of each one's sessions: a seek of the visitors', the company's or the person's session index.
      const sql = owners.type === 'visitor'
        ? `SELECT visitor_id, min(started_at) FROM sessions WHERE site_id = @siteId AND visitor_id IN (SELECT value FROM json_each(@ids)) GROUP BY visitor_id`
        : owners.type === 'company'
        ? `SELECT s.company_id, min(s.started_at) FROM sessions s INDEXED BY sessions_of_companies
           WHERE s.site_id = @siteId AND s.company_id IN (SELECT value FROM json_each(@ids)) GROUP BY s.company_id`
        : `SELECT s.person_id, min(s.started_at) FROM sessions s INDEXED BY sessions_of_people
           WHERE s.site_id = @siteId AND s.person_id IN (SELECT value FROM json_each(@ids)) GROUP BY s.person_id`
      return new Map(reader.prepare(sql).raw(true).all({ siteId, ids: JSON.stringify(owners.ids) }) as [string, number][])
    },
  }
}
