import { ulid } from 'ulid'
import { DEFAULT_CONFIG, type WaymarkConfig } from '../../stages/config'
import type { FunnelOwners } from '../../reports/funnel'
import { FORM_KINDS } from '../../reports/forms'
import { ownerPageOf } from '../../reports/owners'
import { touchCountsOf } from '../../reports/sources'
import { between } from '../../reports/stats'
import { EVENT_COLUMNS, eventFromValues, eventValues, STORED_EVENT_COLUMNS } from '../sqlite/event-rows'
import { hookFromRow, type HookRow } from '../sqlite/alerts'
import { ownerJourneyFrom, stageCountsFrom, type EntryRow } from '../sqlite/journeys'
import { sessionFromRow } from '../sqlite/queries'
import {
  NotSupportedByStore, QueuedInStore,
  type AlertHook, type AlertLogEntry, type CompanyRecord, type CompanyRow, type Erasure, type EventRecord, type FormEvent, type OwnerQuery, type OwnersEntering, type OwnersOfType, type OwnerType, type PersonRecord, type PersonRow, type Site, type SessionRecord, type SessionSourceCount, type SessionTouch, type Store,
  type StoredEvent, type TraitRecord,
} from '../types'
import { OTHERS_UNCERTAINTY_MS, startSharedClock } from './clock'
import { connectClickHouse, sqlList, sqlNumber, sqlString } from './connection'
import { deleteRows, ensureSchema, readLease } from './schema'

type Row = Record<string, unknown>

/**
 * Rows per chunk of a streamed read: as on SQLite, memory stays flat whatever the size. Large, as
 * each chunk costs round trips (its sessions' stages, its events' sessions): 10,000 rather than 2,000 took
 * sources, content and paths from 514, 547 and 855 ms to 377, 338 and 650 ms on 11,334 events.
 */
const PAGE_ROWS = 10_000
/** How long settle() waits for the processor before saying it is not running. */
const SETTLE_TIMEOUT_MS = 60_000
/** How long a collector waits for the processor to carry out a request before answering that it is queued. */
const REQUEST_WAIT_MS = { erase: 60_000, rebuild: 3_600_000 }

const siteRow = (site: Site, version: number) => ({
  id: site.id, domain: site.domain, write_key_hash: site.writeKeyHash, read_token_hash: site.readTokenHash, admin_token_hash: site.adminTokenHash,
  created_at: site.createdAt, retention_days: site.retentionDays, honor_privacy_signals: site.honorPrivacySignals ? 1 : 0, _version: version,
})
const siteFromRow = (r: Row): Site => ({
  id: r.id as string, domain: r.domain as string, writeKeyHash: r.write_key_hash as string, readTokenHash: r.read_token_hash as string,
  adminTokenHash: (r.admin_token_hash as string | null) ?? null, createdAt: r.created_at as number,
  retentionDays: (r.retention_days as number | null) ?? null, honorPrivacySignals: r.honor_privacy_signals === 1,
})

/** An event as a row of the events table; a page_engagement keeps its figures where the page view's go. */
export function eventRow(event: StoredEvent): Row {
  const values = eventValues(event)
  const row: Row = Object.fromEntries(EVENT_COLUMNS.map((column, i) => [column, values[i]]))
  const engagement = event.kind === 'page_engagement' ? event.props ?? {} : {}
  row.scroll_depth = typeof engagement.scrollDepth === 'number' ? engagement.scrollDepth : (event.scrollDepth ?? null)
  row.engaged_ms = typeof engagement.engagedMs === 'number' ? engagement.engagedMs : (event.engagedMs ?? null)
  return row
}

export const eventFromRow = (row: Row): StoredEvent => eventFromValues(STORED_EVENT_COLUMNS.map((c) => row[c] as string | number | null))

export interface ClickHouseOptions {
  config?: WaymarkConfig
  /** Rows per chunk of streamed reads (tests make it small, so that every read spans many chunks). */
  pageRows?: number
  /** This machine's clock, which the shared clock is kept against (tests set one that is off). */
  localClock?: () => number
}

/**
 * A store in ClickHouse, shared by any number of collectors. Events are written here straight
 * away; sessions, people and stages are folded from them by `waymark process` (one at a time,
 * under a lease) and published to tables read here. See the README's "Outgrowing one machine".
 */
export async function openClickHouseStore(url: string, options: ClickHouseOptions = {}): Promise<Store> {
  const config = options.config ?? DEFAULT_CONFIG
  const pageRows = options.pageRows ?? PAGE_ROWS
  const ch = connectClickHouse(url)
  await ensureSchema(ch)
  const clock = await startSharedClock(ch, options.localClock)
  const db = ch.target.database
  /**
   * A published table as it stands: one row per key, tombstones left out. `where` may only test
   * sort-key columns (the same in every version of a row); it ends in a WHERE, so callers add
   * conditions on other columns with AND.
   */
  const live = (table: string, where: string) => `(SELECT * FROM ${db}.${table} FINAL WHERE ${where}) WHERE _deleted = 0`

  /** The conditions that a column lies in a range (its start included, its end not; a missing bound is no bound). */
  const rangeConditions = (column: string, range: { from?: number; to?: number }) => [
    ...(range.from === undefined ? [] : [`${column} >= ${sqlNumber(range.from)}`]),
    ...(range.to === undefined ? [] : [`${column} < ${sqlNumber(range.to)}`]),
  ]

  /** The conditions on sessions of a site that started in a range (either end may be open). */
  const sessionsOfRange = (query: { siteId: string; from?: number; to?: number }) => {
    return [`site_id = ${sqlString(query.siteId)}`, ...rangeConditions('started_at', query)]
  }

  /**
   * Sessions matching `conditions` with their person and company, in order of start, as one query:
   * joined on the server (18.16 takes one join a SELECT, hence the nesting). Looked up a chunk at a
   * time, every chunk read the identities again, as a chunk's visitors are spread over all of them.
   */
  const sessionsWithOwners = (siteId: string, conditions: string[], columns: string) => {
    const site = `site_id = ${sqlString(siteId)}`
    const owners = `(SELECT visitor_id, person_id, company_id, 1 AS identified FROM (SELECT visitor_id, person_id FROM ${live('identities', site)})
      GLOBAL ANY LEFT JOIN (SELECT id AS person_id, company_id FROM ${live('people', site)}) USING person_id)`
    return `SELECT * FROM (SELECT ${columns} FROM ${live('sessions', site)} AND ${conditions.join(' AND ')}) GLOBAL ANY LEFT JOIN ${owners} USING visitor_id ORDER BY started_at, id`
  }

  /** The person and company a sessionsWithOwners (or events') row was joined to; none where the visitor is not known. */
  const joinedOwner = (row: Row) =>
    row.identified ? { personId: row.person_id as string, companyId: (row.company_id as string | null | undefined) || null } : { personId: null, companyId: null }

  /** Streams a query's rows a chunk at a time: one query, so the table goes through FINAL once, whatever its size. */
  const paged = (sql: string) => ch.stream<Row>(sql, pageRows)

  const visitorsOfPerson = async (siteId: string, personId: string) =>
    (await ch.rows<{ visitor_id: string }>(
      `SELECT visitor_id, linked_at FROM ${live('identities', `site_id = ${sqlString(siteId)}`)} AND person_id = ${sqlString(personId)} ORDER BY linked_at`,
    )).map((r) => r.visitor_id)
  /** The conditions on stage entries of some types of owners into some stages in a range. */
  const enteringIn = (owners: OwnersEntering, stages: string[]) =>
    [`owner_type IN ${sqlList(owners.types)}`, `stage IN ${sqlList(stages)}`, ...rangeConditions('entered_at', owners)].join(' AND ')
  /** A condition, to add outside FINAL, that keeps some owners' rows of a table keyed by owner. */
  const onlyOwners = (owners?: OwnersOfType) => (owners ? ` AND owner_type = ${sqlString(owners.type)} AND owner_id IN ${sqlList(owners.ids)}` : '')
  const visitorsOfPeople = async (siteId: string, personIds: string[]) =>
    (await ch.rows<{ visitor_id: string }>(
      `SELECT visitor_id FROM ${live('identities', `site_id = ${sqlString(siteId)}`)} AND person_id IN ${sqlList(personIds)}`,
    )).map((r) => r.visitor_id)
  const traitsOf = async (subjects: Iterable<string>) => {
    const traits = new Map<string, TraitRecord>()
    const rows = await ch.rows<{ subject_id: string; key: string; value: string; set_at: number }>(
      `SELECT subject_id, key, value, set_at FROM ${live('traits', `subject_id IN ${sqlList(new Set(subjects))}`)} ORDER BY subject_id, key`,
    )
    for (const r of rows) {
      const record = traits.get(r.subject_id) ?? traits.set(r.subject_id, {}).get(r.subject_id)!
      record[r.key] = { value: JSON.parse(r.value), setAt: r.set_at }
    }
    return traits
  }
  const plainTraits = (record: TraitRecord | undefined) => Object.fromEntries(Object.entries(record ?? {}).map(([k, t]) => [k, t.value]))

  /** min(started_at), max(ended_at), sessions and events over each group's visitors (people, or companies' people). */
  async function sessionActivity(siteId: string, visitorsOf: Map<string, string[]>, range?: { from: number; to: number }) {
    const visitors = [...visitorsOf.values()].flat()
    const rows = await ch.rows<{ visitor_id: string; first: number; last: number; sessions: number; events: number; in_range: number }>(
      `SELECT visitor_id, min(started_at) AS first, max(ended_at) AS last, count() AS sessions, sum(events) AS events,
         ${range ? `countIf(started_at >= ${sqlNumber(range.from)} AND started_at < ${sqlNumber(range.to)})` : '0'} AS in_range
       FROM ${live('sessions', `site_id = ${sqlString(siteId)} AND visitor_id IN ${sqlList(visitors)}`)} GROUP BY visitor_id`,
    )
    const byVisitor = new Map(rows.map((r) => [r.visitor_id, r]))
    return new Map(
      [...visitorsOf].map(([owner, ids]) => {
        const own = ids.map((v) => byVisitor.get(v)).filter((r) => r !== undefined)
        const sessions = own.reduce((n, r) => n + r.sessions, 0)
        return [owner, {
          firstSeen: sessions ? Math.min(...own.map((r) => r.first)) : null,
          lastSeen: sessions ? Math.max(...own.map((r) => r.last)) : null,
          sessions,
          events: own.reduce((n, r) => n + r.events, 0),
          inRange: own.some((r) => r.in_range > 0),
        }]
      }),
    )
  }

  /** Where each owner stands in a journey: stage, score, and when the stage was entered. */
  async function positions(siteId: string, type: 'person' | 'company', ids: string[], journey: string) {
    const where = `site_id = ${sqlString(siteId)} AND journey = ${sqlString(journey)} AND owner_type = ${sqlString(type)} AND owner_id IN ${sqlList(ids)}`
    const stages = await ch.rows<{ owner_id: string; stage: string | null; score: number }>(`SELECT owner_id, stage, score FROM ${live('owner_stages', where)}`)
    const entries = await ch.rows<{ owner_id: string; stage: string; entered_at: number }>(`SELECT owner_id, stage, entered_at FROM ${live('stage_entries', where)}`)
    const enteredAt = new Map(entries.map((e) => [`${e.owner_id}\n${e.stage}`, e.entered_at]))
    return new Map(
      stages.map((s) => [s.owner_id, { journey, stage: s.stage, score: s.score, stageEnteredAt: (s.stage === null ? undefined : enteredAt.get(`${s.owner_id}\n${s.stage}`)) ?? null }]),
    )
  }
  const noPosition = (journey: string) => ({ journey, stage: null, score: 0, stageEnteredAt: null })

  /** Every session of these visitors that started by `until`, each visitor's in order of start. */
  async function sessionsOfVisitors(siteId: string, visitors: Set<string>, until: number) {
    const rows = await ch.rows<{ visitor_id: string; id: string; started_at: number }>(
      `SELECT visitor_id, id, started_at FROM ${live('sessions', `site_id = ${sqlString(siteId)} AND visitor_id IN ${sqlList(visitors)}`)}
       AND started_at <= ${sqlNumber(until)} ORDER BY visitor_id, started_at`,
    )
    const byVisitor = new Map<string, { id: string; started_at: number }[]>()
    for (const r of rows) (byVisitor.get(r.visitor_id) ?? byVisitor.set(r.visitor_id, []).get(r.visitor_id)!).push(r)
    return byVisitor
  }

  /**
   * Waits for a pass of the processor that read the events after this call began: every event
   * acknowledged before it is then folded and published. (The watermark is the shared clock less
   * the processor's read lag at the start of a pass's read; events are stamped by the same clock,
   * as each collector knows it: the latest it may be on any of them is what is waited for.)
   */
  async function settle() {
    const asked = clock.now() + clock.uncertainty() + OTHERS_UNCERTAINTY_MS
    const started = Date.now()
    for (;;) {
      const lease = await readLease(ch)
      if (lease && lease.watermark > asked) return
      if (Date.now() - started > SETTLE_TIMEOUT_MS)
        throw new Error('sessions and stages have not caught up with the events in a minute: is `waymark process` running against this store?')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  /**
   * Asks the processor, which holds the fold, to carry out a request, and waits for its answer.
   * The request stays queued in ClickHouse: when no processor runs, or it takes longer than the
   * wait, the request is still carried out later, and the caller is told so.
   */
  async function ask<T>(kind: keyof typeof REQUEST_WAIT_MS, siteId: string, body: object): Promise<T> {
    const id = ulid()
    const asked = clock.now()
    const started = Date.now()
    await ch.insert('requests', [{ id, kind, site_id: siteId, body: JSON.stringify(body), asked_at: asked, answered_at: 0, answer: '', _version: 1 }])
    const lease = await readLease(ch)
    const what = kind === 'erase' ? 'the erasure' : 'the rebuild'
    if (!lease || lease.expires_at < asked)
      throw new QueuedInStore(`no \`waymark process\` is running against this store: ${what} is queued as request ${id} and is carried out once one runs`, id)
    for (;;) {
      const [row] = await ch.rows<{ answered_at: number; answer: string }>(`SELECT answered_at, answer FROM ${db}.requests FINAL WHERE id = ${sqlString(id)}`)
      if (row?.answered_at) {
        const answer = JSON.parse(row.answer) as { result: T } | { error: string }
        if ('error' in answer) throw new Error(`the processor could not carry out ${what}: ${answer.error}`)
        return answer.result
      }
      if (Date.now() - started > REQUEST_WAIT_MS[kind])
        throw new QueuedInStore(`${what} is queued as request ${id}; the processor has not finished it yet (\`waymark process\` logs it when it does)`, id)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  const hookRow = (hook: AlertHook) => ({
    id: hook.id, site_id: hook.siteId, kind: hook.kind, journey: hook.journey, stage: hook.stage, owner_type: hook.owner, url: hook.url, secret: hook.secret,
    stalled_days: hook.stalledDays, created_at: hook.createdAt,
  })
  const liveHooks = async (siteId?: string): Promise<AlertHook[]> =>
    (await ch.rows<HookRow>(
      `SELECT * FROM (SELECT * FROM ${db}.alert_hooks FINAL) WHERE _deleted = 0 ${siteId === undefined ? '' : `AND site_id = ${sqlString(siteId)}`} ORDER BY created_at, id`,
    )).map(hookFromRow)

  const processorsWork = (what: string) => async () => {
    throw new NotSupportedByStore(`${what} is the processor's work on a ClickHouse store: run \`waymark process\` against it`)
  }

  const readPerson = async (siteId: string, row: Row) => {
    const visitorIds = await visitorsOfPerson(siteId, row.id as string)
    const [activity] = await ch.rows<{ firstSeen: number | null; lastSeen: number | null; events: number }>(
      `SELECT if(count() = 0, NULL, min(occurred_at)) AS firstSeen, if(count() = 0, NULL, max(occurred_at)) AS lastSeen, count() AS events
       FROM ${db}.events FINAL WHERE site_id = ${sqlString(siteId)} AND visitor_id IN ${sqlList(visitorIds)} AND kind != 'page_engagement'`,
    )
    return { person: personFrom(row), activity, visitorIds }
  }
  const personFrom = (r: Row) => ({
    id: r.id as string, siteId: r.site_id as string, userId: r.user_id as string | null, email: r.email as string | null,
    companyId: r.company_id as string | null, companySource: r.company_source as PersonRow['companySource'], createdAt: r.created_at as number,
  })
  const companyFrom = (r: Row) => ({
    id: r.id as string, siteId: r.site_id as string, groupId: r.group_id as string | null, domain: r.domain as string | null, createdAt: r.created_at as number,
  })
  const REF_COLUMNS: Record<string, string> = { id: 'id', email: 'email', userId: 'user_id', domain: 'domain', groupId: 'group_id' }
  const byRef = async (table: 'people' | 'companies', siteId: string, ref: object) => {
    const [key, value] = Object.entries(ref)[0] as [string, string]
    const [row] = await ch.rows<Row>(`SELECT * FROM ${live(table, `site_id = ${sqlString(siteId)}`)} AND ${REF_COLUMNS[key]} = ${sqlString(value)} LIMIT 1`)
    return row
  }

  /**
   * A page of people or companies with what both lists add to each: activity over their visitors'
   * sessions, their place in the journey and their traits; those outside the query's range or
   * stage left out.
   */
  async function ownersOf(query: OwnerQuery, type: 'person' | 'company', ids: string[], visitorsOf: Map<string, string[]>) {
    const range = query.from === undefined && query.to === undefined ? undefined : { from: query.from ?? Number.MIN_SAFE_INTEGER, to: query.to ?? Number.MAX_SAFE_INTEGER }
    const activity = await sessionActivity(query.siteId, visitorsOf, range)
    const places = await positions(query.siteId, type, ids, query.journey)
    const traits = await traitsOf(ids)
    return ids.flatMap((id, index) => {
      const { inRange, ...active } = activity.get(id)!
      const place = places.get(id) ?? noPosition(query.journey)
      if ((range && !inRange) || (query.stage !== undefined && place.stage !== query.stage)) return []
      return [{ id, index, fields: { ...active, ...place, traits: plainTraits(traits.get(id)) } }]
    })
  }

  const store: Store = {
    async appendEvents(events) {
      await ch.insert('events', events.map(eventRow))
    },

    async *queryEvents(query) {
      const site = `site_id = ${sqlString(query.siteId)}`
      const ofVisitors: string[] = []
      if (query.personId) ofVisitors.push(`visitor_id IN ${sqlList(await visitorsOfPerson(query.siteId, query.personId))}`)
      if (query.personIds) ofVisitors.push(`visitor_id IN ${sqlList(await visitorsOfPeople(query.siteId, query.personIds))}`)
      if (query.visitorId) ofVisitors.push(`visitor_id = ${sqlString(query.visitorId)}`)
      const conditions = [site, `kind != 'page_engagement'`, ...ofVisitors, ...rangeConditions('occurred_at', query)]
      if (query.kinds) conditions.push(`kind IN ${sqlList(query.kinds)}`)
      // A page view's engagement (the largest reported, as on SQLite), joined on the server in the
      // same query: the page_engagement rows of the events read, aggregated once. Looked up a chunk
      // at a time instead, every chunk scanned the events table again for its visitors.
      // Not narrowed by time: an engagement's time is the tag's, corrected batch by batch, so it may come before its page view's.
      const engagements = [site, `kind = 'page_engagement'`, ...ofVisitors]
      const engagement = `(SELECT name AS id, max(ifNull(scroll_depth, 0)) AS engaged_depth, max(ifNull(engaged_ms, 0)) AS engaged_for, 1 AS engaged
        FROM ${db}.events WHERE ${engagements.join(' AND ')} GROUP BY name)`
      const columns = STORED_EVENT_COLUMNS.join(', ')
      const withEngagement = `SELECT ${columns}, engaged_depth, engaged_for, engaged FROM (SELECT ${columns} FROM ${db}.events FINAL WHERE ${conditions.join(' AND ')})
        GLOBAL ANY LEFT JOIN ${engagement} USING id`
      // And each event's person, joined the same way (18.16 takes one join a SELECT, hence the nesting).
      const people = `(SELECT visitor_id, person_id, 1 AS identified FROM ${live('identities', site)})`
      const sql = `SELECT * FROM (${withEngagement}) GLOBAL ANY LEFT JOIN ${people} USING visitor_id ORDER BY occurred_at, id`
      for await (const rows of paged(sql)) {
        const sessions = query.sessionIds === false
          ? undefined
          : await sessionsOfVisitors(query.siteId, new Set(rows.map((r) => r.visitor_id as string)), rows[rows.length - 1].occurred_at as number)
        for (const row of rows) {
          if (row.kind === 'pageview' && row.engaged)
            Object.assign(row, {
              scroll_depth: Math.max((row.scroll_depth as number | null) ?? 0, row.engaged_depth as number),
              engaged_ms: Math.max((row.engaged_ms as number | null) ?? 0, row.engaged_for as number),
            })
          const event = eventFromRow(row)
          let sessionId: string | null = null
          if (sessions && !event.isBot) {
            const own = sessions.get(event.visitorId) ?? []
            for (let i = own.length - 1; i >= 0; i--)
              if (own[i].started_at <= event.occurredAt) {
                sessionId = own[i].id
                break
              }
          }
          yield Object.assign(event, { personId: joinedOwner(row).personId, sessionId }) satisfies EventRecord
        }
      }
    },

    settle,

    async *querySessions(query) {
      const conditions = sessionsOfRange(query)
      if (query.visitorId) conditions.push(`visitor_id = ${sqlString(query.visitorId)}`)
      if (query.personId) conditions.push(`visitor_id IN ${sqlList(await visitorsOfPerson(query.siteId, query.personId))}`)
      for await (const rows of paged(sessionsWithOwners(query.siteId, conditions, '*'))) {
        const stages = new Map<string, Record<string, string | null>>()
        for (const s of await ch.rows<{ session_id: string; journey: string; stage: string | null }>(
          `SELECT session_id, journey, stage FROM ${live('session_stages', `session_id IN ${sqlList(rows.map((r) => r.id as string))}`)} ORDER BY session_id, journey`,
        ))
          (stages.get(s.session_id) ?? stages.set(s.session_id, {}).get(s.session_id)!)[s.journey] = s.stage
        for (const row of rows) {
          const own = stages.get(row.id as string) ?? {}
          if (query.journey !== undefined && query.stage !== undefined && own[query.journey] !== query.stage) continue
          const { personId, companyId } = joinedOwner(row)
          const session: SessionRecord = sessionFromRow({
            ...(row as Record<string, string | number | null>), duration_ms: (row.ended_at as number) - (row.started_at as number),
            person_id: personId, company_id: companyId, stages: null,
          })
          session.stages = own
          yield session
        }
      }
    },

    async *querySessionTouches(query) {
      const { companyIds, personIds, ids, ...range } = query
      const conditions = sessionsOfRange(range)
      if (ids) conditions.push(`id IN ${sqlList(ids)}`)
      if (personIds) conditions.push(`visitor_id IN ${sqlList(await visitorsOfPeople(query.siteId, personIds))}`)
      // A company's sessions are its people's, known only once joined: read as all the range's, kept per company here.
      const ofCompany = new Map<string, SessionTouch[]>(companyIds?.map((id) => [id, []]))
      for await (const rows of paged(sessionsWithOwners(query.siteId, conditions, 'id, started_at, ended_at, channel, visitor_id')))
        for (const r of rows) {
          const touch: SessionTouch = {
            id: r.id as string, startedAt: r.started_at as number, endedAt: r.ended_at as number, channel: r.channel as string,
            visitorId: r.visitor_id as string, ...joinedOwner(r),
          }
          if (!companyIds) yield touch
          else if (touch.companyId !== null) ofCompany.get(touch.companyId)?.push(touch)
        }
      for (const touches of ofCompany.values()) yield* touches
    },

    async countSessionSources(query) {
      const site = `site_id = ${sqlString(query.siteId)}`
      const sessions = `(SELECT id, channel, source, medium, campaign FROM ${live('sessions', sessionsOfRange(query).join(' AND '))})`
      const reached = `(SELECT session_id AS id, stage, 1 AS staged FROM ${live('session_stages', `journey = ${sqlString(query.journey)} AND session_id GLOBAL IN (SELECT id FROM ${db}.sessions WHERE ${site})`)})`
      const rows = await ch.rows<SessionSourceCount & { reached: string | null }>(
        `SELECT if(staged = 1, stage, NULL) AS reached, channel, source, medium, campaign, count() AS sessions
         FROM ${sessions} GLOBAL ANY LEFT JOIN ${reached} USING id GROUP BY reached, channel, source, medium, campaign`,
      )
      return rows.flatMap(({ reached, ...counted }) => (reached === null ? [] : [{ ...counted, stage: reached }]))
    },

    async *queryPeople(query: OwnerQuery) {
      const only = (query.companyIds ? ` AND company_id IN ${sqlList(query.companyIds)}` : '') + (query.ids ? ` AND id IN ${sqlList(query.ids)}` : '')
      // Outside FINAL, as every condition on a column that is not of the sorting key: inside, it would pass an older row over the newer.
      const table = live('people', `site_id = ${sqlString(query.siteId)}`) + only
      for await (const rows of paged(`SELECT * FROM ${table} ORDER BY id`)) {
        const ids = rows.map((r) => r.id as string)
        const visitorsOf = new Map(ids.map((id) => [id, [] as string[]]))
        for (const r of await ch.rows<{ visitor_id: string; person_id: string }>(
          `SELECT visitor_id, person_id FROM ${live('identities', `site_id = ${sqlString(query.siteId)}`)} AND person_id IN ${sqlList(ids)}`,
        ))
          visitorsOf.get(r.person_id)?.push(r.visitor_id)
        for (const owner of await ownersOf(query, 'person', ids, visitorsOf))
          yield { ...personFrom(rows[owner.index]), ...owner.fields, visitorIds: visitorsOf.get(owner.id)!.length } satisfies PersonRow
      }
    },

    async *queryCompanies(query: OwnerQuery) {
      const only = [query.companyIds, query.ids].map((ids) => (ids ? ` AND id IN ${sqlList(ids)}` : '')).join('')
      const table = live('companies', `site_id = ${sqlString(query.siteId)}`) + only
      for await (const rows of paged(`SELECT * FROM ${table} ORDER BY id`)) {
        const ids = rows.map((r) => r.id as string)
        const people = await ch.rows<{ id: string; company_id: string }>(
          `SELECT id, company_id FROM ${live('people', `site_id = ${sqlString(query.siteId)}`)} AND company_id IN ${sqlList(ids)}`,
        )
        const companyOf = new Map(people.map((p) => [p.id, p.company_id]))
        const visitorsOf = new Map(ids.map((id) => [id, [] as string[]]))
        for (const r of await ch.rows<{ visitor_id: string; person_id: string }>(
          `SELECT visitor_id, person_id FROM ${live('identities', `site_id = ${sqlString(query.siteId)}`)} AND person_id IN ${sqlList(companyOf.keys())}`,
        ))
          visitorsOf.get(companyOf.get(r.person_id)!)?.push(r.visitor_id)
        for (const owner of await ownersOf(query, 'company', ids, visitorsOf))
          yield { ...companyFrom(rows[owner.index]), ...owner.fields, people: people.filter((p) => p.company_id === owner.id).length } satisfies CompanyRow
      }
    },

    async *queryTransitions(query) {
      const conditions = [`moved = 1`, ...rangeConditions('entered_at', query)]
      const keyed = [`site_id = ${sqlString(query.siteId)}`]
      if (query.journey !== undefined) keyed.push(`journey = ${sqlString(query.journey)}`)
      if (query.stage !== undefined) keyed.push(`stage = ${sqlString(query.stage)}`)
      if (query.ownerType !== undefined) keyed.push(`owner_type = ${sqlString(query.ownerType)}`)
      const table = live('stage_entries', keyed.join(' AND '))
      const keys = ['entered_at', 'owner_type', 'owner_id', 'journey', 'stage']
      for await (const rows of paged(`SELECT * FROM ${table} AND ${conditions.join(' AND ')} ORDER BY ${keys.join(', ')}`)) {
        const touches = await touchesOf(query.siteId, rows)
        for (const r of rows) {
          const s = touches.get(r.session_id as string)
          yield {
            siteId: r.site_id as string, ownerType: r.owner_type as 'person', ownerId: r.owner_id as string, journey: r.journey as string,
            from: r.moved_from as string | null, to: r.stage as string, at: r.entered_at as number, sessionId: r.session_id as string,
            channel: s?.channel ?? null, source: s?.source ?? null, medium: s?.medium ?? null, campaign: s?.campaign ?? null,
          }
        }
      }
    },

    async *queryStageEntries(siteId, journey, owners) {
      const site = `site_id = ${sqlString(siteId)}`
      const entries = `(SELECT * FROM ${live('stage_entries', `${site} AND journey = ${sqlString(journey)}`)}${onlyOwners(owners)})`
      // Each entry's session, joined on the server in the same query. Looked up a chunk at a time
      // instead, every chunk read the sessions table again (its ids are spread over all of it),
      // and the funnel's time grew with the square of the history. GLOBAL: on a cluster the
      // sessions are gathered once and sent to each shard, not looked up by each shard from all.
      const sessions = `(SELECT id AS session_id, source, medium, 1 AS found FROM ${live('sessions', site)})`
      const columns = 'owner_type, owner_id, stage, entered_at, session_id, channel, campaign, page, source, medium, found'
      for await (const rows of paged(`SELECT ${columns} FROM ${entries} GLOBAL ANY LEFT JOIN ${sessions} USING session_id ORDER BY owner_type, owner_id, stage`))
        for (const r of rows)
          yield {
            ownerType: r.owner_type as 'person', ownerId: r.owner_id as string, stage: r.stage as string, at: r.entered_at as number,
            sessionId: r.session_id as string, channel: r.channel as string | null, source: r.found ? (r.source as string) : null,
            medium: r.found ? (r.medium as string) : null, campaign: r.campaign as string | null, page: r.page as string | null,
          }
    },

    async foldFormEvents(query, add) {
      // The columns the fold uses, and no join: a form event needs neither its person nor an engagement.
      const conditions = [`site_id = ${sqlString(query.siteId)}`, `kind IN ${sqlList(FORM_KINDS)}`, 'is_bot = 0', ...rangeConditions('occurred_at', query)]
      for await (const rows of paged(`SELECT kind, name, props FROM ${db}.events FINAL WHERE ${conditions.join(' AND ')}`))
        for (const r of rows) add({ kind: r.kind as FormEvent['kind'], name: r.name as string | null, props: r.props === null ? null : JSON.parse(r.props as string) })
    },

    // Whole events with their person, as the reports read them before: a narrower read is the way on.
    async foldPageEvents(query, add) {
      for await (const event of store.queryEvents({ ...query, kinds: ['pageview', 'file_download'], sessionIds: false })) if (!event.isBot) add(event)
    },

    // Whole transitions with their sessions, as the report read them before.
    async foldStageMoves(query, add) {
      for await (const move of store.queryTransitions(query)) add(move)
    },

    // Folded here from every owner as they are read, as the report did before.
    listPeople: (query) => ownerPageOf(store.queryPeople(query), query),
    listCompanies: (query) => ownerPageOf(store.queryCompanies(query), query),

    // Folded here from each owner's entries as they are read, as the report did before; counting
    // on the server, as the funnel does, is the way on.
    touchCounts: (siteId, journey, stages, query) => touchCountsOf(store.queryStageEntries(siteId, journey), stages, query),

    async funnelCounts(siteId, journey, stages, query) {
      // Each owner's entry times in the journey's order, then one row an entry with the next stage's
      // time beside it, as SQLite stores it: counted, and the movers' times sorted, on the server;
      // only the ranks a percentile needs come back. maxIf gives 0 where nothing matched, and no entry
      // is at time 0, so 0 is "not entered" (a countIf a stage to tell them apart cost half as much again).
      const times = stages.map((stage) => `maxIf(entered_at, stage = ${sqlString(stage)})`)
      const entries = (only: string) =>
        `(SELECT owner_type, owner_id, [${times.join(', ')}] AS times
          FROM ${live('stage_entries', `site_id = ${sqlString(siteId)} AND journey = ${sqlString(journey)}${only}`)} GROUP BY owner_type, owner_id)
         ARRAY JOIN times AS at, arrayEnumerate(times) AS i, arrayPushBack(arraySlice(times, 2), 0) AS next_at`
      const before = (column: string, at: number | undefined) => (at === undefined ? '1' : `${column} < ${sqlNumber(at)}`)
      const inRange = `(${query.from === undefined ? '1' : `at >= ${sqlNumber(query.from)}`} AND ${before('at', query.to)})`
      // Owners enter stages in order, so an entry is its owner's furthest at asOf exactly when the next was not entered before it.
      const stalled = `owner_type = 'person' AND i < ${stages.length} AND at < ${sqlNumber(query.stalledBefore)} AND (next_at = 0 OR next_at >= ${sqlNumber(query.asOf)})`
      const ranks = [0.5, 0.75].map((p, k) => {
        const below = `toInt64(floor(${p} * (toInt64(length(ms)) - 1)))`
        return `ms[${below} + 1] AS low${k}, ms[least(${below} + 1, toInt64(length(ms)) - 1) + 1] AS high${k}`
      })
      const rows = await ch.rows<{ i: number; owners: FunnelOwners; entered: number; known: number; stalled: number; moved: number; low0: number; high0: number; low1: number; high1: number }>(
        `SELECT i, owners, entered, known, stalled, length(ms) AS moved, ${ranks.join(', ')}
         FROM (SELECT i, if(owner_type = 'company', 'companies', 'people') AS owners, countIf(${inRange}) AS entered,
                 countIf(${inRange} AND owner_type = 'person') AS known, countIf(${stalled}) AS stalled,
                 arraySort(groupArrayIf(next_at - at, ${inRange} AND next_at != 0 AND ${before('next_at', query.to)})) AS ms
               FROM ${entries('')} WHERE at != 0 GROUP BY i, owners)`,
      )
      const first = await ch.rows<{ owner_id: string; i: number; at: number }>(
        `SELECT owner_id, i, at FROM ${entries(" AND owner_type = 'person'")} WHERE at != 0 AND ${stalled} ORDER BY at, owner_id LIMIT ${sqlNumber(query.limit)}`,
      )
      const rank = (p: number, n: number) => p * (n - 1)
      return {
        flows: rows
          .filter((r) => r.entered > 0)
          .map((r) => ({
            stage: stages[r.i - 1], owners: r.owners, entered: r.entered, known: r.known, movedOn: r.moved,
            medianMsToNext: r.moved ? between(r.low0, r.high0, rank(0.5, r.moved)) : null,
            p75MsToNext: r.moved ? between(r.low1, r.high1, rank(0.75, r.moved)) : null,
          })),
        stalled: { total: rows.reduce((n, r) => n + r.stalled, 0), first: first.map((r) => ({ personId: r.owner_id, stage: stages[r.i - 1], enteredAt: r.at })) },
      }
    },

    async *queryStageTimes(siteId, journey, stages, owners) {
      // maxIf gives 0, not NULL, where nothing matched (on 18.16 even for a Nullable argument).
      const times = stages.map((stage, i) => `if(countIf(stage = ${sqlString(stage)}) = 0, NULL, maxIf(entered_at, stage = ${sqlString(stage)})) AS at${i}`)
      const ofJourney = live('stage_entries', `site_id = ${sqlString(siteId)} AND journey = ${sqlString(journey)}`)
      const entries = owners && 'types' in owners
        ? `${ofJourney} AND (owner_type, owner_id) IN (SELECT owner_type, owner_id FROM ${ofJourney} AND ${enteringIn(owners, stages)})`
        : ofJourney + onlyOwners(owners)
      for await (const rows of paged(`SELECT owner_type, owner_id, ${times.join(', ')} FROM ${entries} GROUP BY owner_type, owner_id`))
        for (const r of rows)
          yield { ownerType: r.owner_type as OwnerType, ownerId: r.owner_id as string, at: stages.map((_, i) => r[`at${i}`] as number | null) }
    },

    // From the people's or companies' rows, as their lists read them; a visitor's from its sessions.
    async firstSeen(siteId, owners) {
      const seen = new Map<string, number>()
      if (owners.type === 'visitor') {
        const sessions = `${live('sessions', `site_id = ${sqlString(siteId)}`)} AND visitor_id IN ${sqlList(owners.ids)}`
        for (const r of await ch.rows<{ visitor_id: string; at: number }>(`SELECT visitor_id, min(started_at) AS at FROM ${sessions} GROUP BY visitor_id`)) seen.set(r.visitor_id, r.at)
        return seen
      }
      const query = { siteId, journey: config.journeys[0].name, ids: owners.ids }
      for await (const o of owners.type === 'company' ? store.queryCompanies(query) : store.queryPeople(query)) if (o.firstSeen !== null) seen.set(o.id, o.firstSeen)
      return seen
    },

    async ownerJourney(siteId, owner, journey) {
      const where = `site_id = ${sqlString(siteId)} AND journey = ${sqlString(journey)} AND owner_type = ${sqlString(owner.type)} AND owner_id = ${sqlString(owner.id)}`
      const [current] = await ch.rows<{ stage: string | null; score: number }>(`SELECT stage, score FROM ${live('owner_stages', where)}`)
      const entries = (await ch.rows<Row>(
        `SELECT stage, entered_at, session_id, channel, campaign, page, moved, moved_from FROM ${live('stage_entries', where)} ORDER BY entered_at`,
      )).map((r) => ({
        stage: r.stage as string, at: r.entered_at as number, sessionId: r.session_id as string, channel: r.channel as EntryRow['channel'],
        campaign: r.campaign as EntryRow['campaign'], page: r.page as EntryRow['page'], moved: r.moved as 0 | 1, movedFrom: r.moved_from as string | null,
      })) satisfies EntryRow[]
      return ownerJourneyFrom(config, journey, current, entries)
    },

    async peopleAsOf(siteId, personIds, asOf) {
      const people = await ch.rows<{ id: string; email: string | null; user_id: string | null; company_id: string | null }>(
        `SELECT id, email, user_id, company_id FROM ${live('people', `site_id = ${sqlString(siteId)} AND id IN ${sqlList(personIds)}`)}`,
      )
      const personOf = new Map(
        (await ch.rows<{ visitor_id: string; person_id: string }>(
          `SELECT visitor_id, person_id FROM ${live('identities', `site_id = ${sqlString(siteId)}`)} AND person_id IN ${sqlList(people.map((p) => p.id))}`,
        )).map((r) => [r.visitor_id, r.person_id]),
      )
      // Each person's latest session by (start, id), as querySessions orders them.
      const latest = new Map<string, { started_at: number; id: string; ended_at: number }>()
      for (const s of await ch.rows<{ visitor_id: string; id: string; started_at: number; ended_at: number }>(
        `SELECT visitor_id, id, started_at, ended_at FROM ${live('sessions', `site_id = ${sqlString(siteId)} AND visitor_id IN ${sqlList(personOf.keys())}`)}
         AND started_at < ${sqlNumber(asOf)}`,
      )) {
        const person = personOf.get(s.visitor_id)!
        const best = latest.get(person)
        if (!best || s.started_at > best.started_at || (s.started_at === best.started_at && s.id > best.id)) latest.set(person, s)
      }
      return new Map(people.map((p) => [p.id, { email: p.email, userId: p.user_id, companyId: p.company_id, lastSeen: latest.get(p.id)?.ended_at ?? null }]))
    },

    async stageCounts(siteId, journey) {
      const rows = await ch.rows<{ stage: string; people: number; visitors: number; companies: number }>(
        `SELECT stage, countIf(owner_type = 'person') AS people, countIf(owner_type = 'visitor') AS visitors, countIf(owner_type = 'company') AS companies
         FROM ${live('stage_entries', `site_id = ${sqlString(siteId)} AND journey = ${sqlString(journey)}`)} GROUP BY stage`,
      )
      return stageCountsFrom(config, journey, rows)
    },

    async findPerson(siteId, ref) {
      const row = await byRef('people', siteId, ref)
      if (!row) return
      const { person, activity, visitorIds } = await readPerson(siteId, row)
      const companyRow = person.companyId ? (await ch.rows<Row>(`SELECT * FROM ${live('companies', `site_id = ${sqlString(siteId)} AND id = ${sqlString(person.companyId)}`)}`))[0] : undefined
      const traits = await traitsOf([person.id, ...(companyRow ? [companyRow.id as string] : [])])
      return {
        ...person, ...activity, traits: traits.get(person.id) ?? {}, visitorIds,
        company: companyRow ? { ...companyFrom(companyRow), traits: traits.get(companyRow.id as string) ?? {} } : null,
      } satisfies PersonRecord
    },

    async findCompany(siteId, ref) {
      const row = await byRef('companies', siteId, ref)
      if (!row) return
      const company = companyFrom(row)
      const people = await ch.rows<Row>(`SELECT * FROM ${live('people', `site_id = ${sqlString(siteId)}`)} AND company_id = ${sqlString(company.id)} ORDER BY created_at`)
      const traits = await traitsOf([company.id, ...people.map((p) => p.id as string)])
      const members = []
      for (const p of people) {
        const { person, activity } = await readPerson(siteId, p)
        members.push({ ...person, ...activity, traits: traits.get(person.id) ?? {} })
      }
      return { ...company, traits: traits.get(company.id) ?? {}, people: members } satisfies CompanyRecord
    },

    // Both change the fold, which only the processor holds: they are asked of it.
    async rebuild(siteId) {
      return ask<{ sites: number; visitors: number }>('rebuild', siteId ?? '', {})
    },
    async erasePerson(siteId, ref) {
      return (await ask<Erasure | null>('erase', siteId, ref)) ?? undefined
    },

    async deleteEventsBefore(siteId, before) {
      const where = `site_id = ${sqlString(siteId)} AND occurred_at < ${sqlNumber(before)}`
      const [{ events }] = await ch.rows<{ events: number }>(`SELECT count() AS events FROM ${db}.events WHERE ${where}`)
      if (events) for (const table of ['events', 'arrivals'] as const) await deleteRows(ch, table, where, false)
      return events
    },

    async addSite(site) {
      await ch.insert('sites', [siteRow(site, clock.now())])
    },
    async updateSite(id, settings) {
      const site = await store.findSite(id)
      if (!site) return
      // Later than the row it replaces, whatever this machine's clock says.
      const [{ v }] = await ch.rows<{ v: number }>(`SELECT max(_version) AS v FROM ${db}.sites WHERE id = ${sqlString(id)}`)
      await ch.insert('sites', [siteRow({ ...site, ...settings }, Math.max(clock.now(), v + 1))])
    },
    async findSite(id) {
      const [row] = await ch.rows<Row>(`SELECT * FROM ${db}.sites FINAL WHERE id = ${sqlString(id)}`)
      return row && siteFromRow(row)
    },
    async listSites() {
      return (await ch.rows<Row>(`SELECT * FROM ${db}.sites FINAL ORDER BY created_at`)).map(siteFromRow)
    },

    // Stage alerts: hooks are kept here for every collector; the processor queues and delivers the
    // alerts in its fold and publishes the outbox and its log, which collectors read.
    async addAlertHook(hook) {
      await ch.insert('alert_hooks', [{ ...hookRow(hook), _version: clock.now() * 1000, _deleted: 0 }])
    },
    async listAlertHooks(siteId) {
      const hooks = await liveHooks(siteId)
      const counts = new Map(
        (await ch.rows<{ hook_id: string; pending: number; delivered: number; gave_up: number; last_day: string }>(
          `SELECT hook_id, countIf(next_attempt_at IS NOT NULL) AS pending, countIf(delivered_at IS NOT NULL) AS delivered,
             countIf(gave_up_at IS NOT NULL) AS gave_up, max(if(startsWith(subject, 'day:'), substring(subject, 5), '')) AS last_day
           FROM ${live('alert_outbox', siteId === undefined ? '1' : `site_id = ${sqlString(siteId)}`)} GROUP BY hook_id`,
        )).map((r) => [r.hook_id, r]),
      )
      return hooks.map((hook) => {
        const c = counts.get(hook.id)
        return { ...hook, pending: c?.pending ?? 0, delivered: c?.delivered ?? 0, gaveUp: c?.gave_up ?? 0, lastDay: c?.last_day || null }
      })
    },
    async removeAlertHook(id) {
      const [row] = await ch.rows<Row>(`SELECT * FROM ${db}.alert_hooks FINAL WHERE id = ${sqlString(id)}`)
      if (!row || row._deleted) return undefined
      const [{ pending }] = await ch.rows<{ pending: number }>(
        `SELECT count() AS pending FROM ${live('alert_outbox', `site_id = ${sqlString(row.site_id as string)}`)} AND hook_id = ${sqlString(id)} AND next_attempt_at IS NOT NULL`,
      )
      // The processor removes it from its fold at its next pass, with its alerts, delivered or not.
      await ch.insert('alert_hooks', [{ ...row, _version: Math.max(clock.now() * 1000, (row._version as number) + 1), _deleted: 1 }])
      return { dropped: pending }
    },
    enqueueAlert: processorsWork('Queuing alerts'),
    // The processor delivers alerts: a collector on ClickHouse claims none.
    async claimAlerts() {
      return []
    },
    recordAlertAttempt: processorsWork('Sending alerts'),
    async alertLog({ siteId, limit }) {
      const ofSite = siteId === undefined ? '1' : `site_id = ${sqlString(siteId)}`
      const outboxOfSite = `SELECT id FROM ${live('alert_outbox', ofSite)}`
      const tried = await ch.rows<{ at: number; alertId: string; attempt: number; status: number | null; error: string | null; durationMs: number | null }>(
        `SELECT at, outbox_id AS alertId, attempt, status, error, duration_ms AS durationMs FROM ${live('alert_deliveries', `outbox_id GLOBAL IN (${outboxOfSite})`)}
         ORDER BY at DESC, attempt DESC LIMIT ${sqlNumber(limit)}`,
      )
      const untried = await ch.rows<{ at: number; alertId: string }>(
        `SELECT created_at AS at, id AS alertId FROM ${live('alert_outbox', ofSite)} AND attempts = 0 ORDER BY created_at DESC LIMIT ${sqlNumber(limit)}`,
      )
      const lines = [...tried, ...untried.map((u) => ({ ...u, attempt: 0, status: null, error: null, durationMs: null }))]
        .sort((x, y) => y.at - x.at || y.attempt - x.attempt)
        .slice(0, limit)
      const alerts = new Map(
        (await ch.rows<Row>(`SELECT * FROM ${live('alert_outbox', `id IN ${sqlList(new Set(lines.map((l) => l.alertId)))}`)}`)).map((r) => [r.id as string, r]),
      )
      const hooks = new Map((await liveHooks()).map((h) => [h.id, h]))
      const owners = new Map<string, string | null>()
      for (const [table, type, name] of [['people', 'person', 'coalesce(email, user_id)'], ['companies', 'company', 'coalesce(domain, group_id)']] as const) {
        const ids = [...alerts.values()].filter((a) => a.owner_type === type).map((a) => a.owner_id as string)
        if (ids.length) for (const r of await ch.rows<{ id: string; name: string | null }>(`SELECT id, ${name} AS name FROM ${live(table, `id IN ${sqlList(ids)}`)}`)) owners.set(r.id, r.name)
      }
      return lines.flatMap((line): AlertLogEntry[] => {
        const alert = alerts.get(line.alertId)
        const hook = alert && hooks.get(alert.hook_id as string)
        if (!alert || !hook) return []
        return [{
          ...line, hookId: hook.id, siteId: alert.site_id as string, kind: hook.kind, stage: alert.stage as string | null,
          ownerType: alert.owner_type as AlertLogEntry['ownerType'], owner: alert.owner_id ? (owners.get(alert.owner_id as string) ?? null) : null,
          ownerId: alert.owner_id as string | null, stalled: hook.kind === 'stalled' ? (JSON.parse(alert.body as string).total ?? null) : null,
          attempts: alert.attempts as number, nextAttemptAt: alert.next_attempt_at as number | null, deliveredAt: alert.delivered_at as number | null,
          gaveUpAt: alert.gave_up_at as number | null,
        }]
      })
    },

    async writable() {
      return ch.rows('SELECT 1').then(() => true, () => false)
    },
    now: () => clock.now(),
    close() {
      clock.stop()
      return ch.close()
    },
  }

  /** Each session's channel and source, for the touches that moved owners. */
  async function touchesOf(siteId: string, rows: Row[]) {
    const ids = new Set(rows.map((r) => r.session_id as string))
    const sessions = await ch.rows<{ id: string; channel: string | null; source: string | null; medium: string | null; campaign: string | null }>(
      `SELECT id, channel, source, medium, campaign FROM ${live('sessions', `site_id = ${sqlString(siteId)} AND id IN ${sqlList(ids)}`)}`,
    )
    return new Map(sessions.map((s) => [s.id, s]))
  }

  return store
}
