import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { applyGroup, applyIdentify } from '../../identity/apply'
import type { Company, Person } from '../../identity/types'
import type { Activity, CompanyRecord, EventQuery, PersonRecord, Site, Store, StoredEvent, TraitRecord } from '../types'
import { companyFromRow, personFromRow, sqliteIdentityGraph } from './identity-graph'
import { MIGRATIONS } from './migrations'

const EVENT_COLUMNS = [
  'id', 'site_id', 'visitor_id', 'kind', 'name', 'occurred_at', 'received_at', 'url', 'path', 'title',
  'referrer', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'fbclid',
  'msclkid', 'li_fat_id', 'screen_width', 'language', 'timezone', 'browser', 'os', 'device', 'is_bot', 'props',
] as const

type EventRow = Record<(typeof EVENT_COLUMNS)[number], string | number | null>

/** An event's values in EVENT_COLUMNS order: positional binding is cheaper than named on the hot path. */
const toValues = (e: StoredEvent): (string | number | null)[] => [
  e.id, e.siteId, e.visitorId, e.kind, e.name, e.occurredAt, e.receivedAt, e.url, e.path, e.title,
  e.referrer, e.utmSource, e.utmMedium, e.utmCampaign, e.utmTerm, e.utmContent, e.gclid, e.fbclid,
  e.msclkid, e.liFatId, e.screenWidth, e.language, e.timezone, e.browser, e.os, e.device, e.isBot ? 1 : 0,
  e.props ? JSON.stringify(e.props) : null,
]

const fromRow = (r: EventRow): StoredEvent => ({
  id: r.id as string, siteId: r.site_id as string, visitorId: r.visitor_id as string,
  kind: r.kind as StoredEvent['kind'], name: r.name as string | null,
  occurredAt: r.occurred_at as number, receivedAt: r.received_at as number, url: r.url as string,
  path: r.path as string, title: r.title as string | null, referrer: r.referrer as string | null,
  utmSource: r.utm_source as string | null, utmMedium: r.utm_medium as string | null,
  utmCampaign: r.utm_campaign as string | null, utmTerm: r.utm_term as string | null,
  utmContent: r.utm_content as string | null, gclid: r.gclid as string | null, fbclid: r.fbclid as string | null,
  msclkid: r.msclkid as string | null, liFatId: r.li_fat_id as string | null,
  screenWidth: r.screen_width as number | null, language: r.language as string | null,
  timezone: r.timezone as string | null, browser: r.browser as string | null, os: r.os as string | null,
  device: r.device as string | null, isBot: r.is_bot === 1,
  props: r.props === null ? null : JSON.parse(r.props as string),
})

interface SiteRow {
  id: string
  domain: string
  write_key_hash: string
  read_token_hash: string
  created_at: number
}
const siteFromRow = (r: SiteRow): Site => ({
  id: r.id, domain: r.domain, writeKeyHash: r.write_key_hash, readTokenHash: r.read_token_hash, createdAt: r.created_at,
})

/** Runs the migration steps this database has not run yet. */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > MIGRATIONS.length)
    throw new Error(
      `the database is at schema version ${current}, newer than this Waymark knows (${MIGRATIONS.length}): upgrade Waymark`,
    )
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version])
      db.pragma(`user_version = ${version + 1}`)
    })()
  }
}

/**
 * The default store: one SQLite file. WAL lets readers run beside the writer, and
 * synchronous=FULL makes each commit durable before it returns, so an acknowledged event
 * survives a crash or power loss; group commit upstream keeps that affordable.
 */
export function openSqliteStore(path: string): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('busy_timeout = 5000')
  migrate(db)
  // Queries stream from their own connection: an open iterator makes a better-sqlite3
  // connection busy, and the writer must never wait for an export to finish.
  const reader = path === ':memory:' ? db : new Database(path, { readonly: true })

  const insertEvent = db.prepare(
    `INSERT OR IGNORE INTO events (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`,
  )
  const graph = sqliteIdentityGraph(db)
  const insertEvents = db.transaction((events: StoredEvent[]) => {
    const identity: StoredEvent[] = []
    for (const event of events) {
      const stored = insertEvent.run(toValues(event)).changes === 1
      if (stored && (event.kind === 'identify' || event.kind === 'group')) identity.push(event)
    }
    // In the order they happened, whatever order their requests arrived in.
    identity.sort((a, b) => a.occurredAt - b.occurredAt)
    for (const event of identity) {
      const input = {
        id: event.id,
        siteId: event.siteId,
        visitorId: event.visitorId,
        subject: event.name!,
        traits: event.props ?? {},
        at: event.occurredAt,
      }
      if (event.kind === 'identify') applyIdentify(graph, input)
      else applyGroup(graph, input)
    }
  })
  const insertSite = db.prepare(
    'INSERT INTO sites (id, domain, write_key_hash, read_token_hash, created_at) VALUES (?, ?, ?, ?, ?)',
  )
  const selectSite = db.prepare('SELECT * FROM sites WHERE id = ?')
  const selectSites = db.prepare('SELECT * FROM sites ORDER BY created_at')

  const visitorIds = reader.prepare('SELECT visitor_id FROM identities WHERE person_id = ? ORDER BY linked_at')
  const traitRows = reader.prepare('SELECT key, value, set_at FROM traits WHERE subject_id = ? ORDER BY key')
  const activity = reader.prepare(
    `SELECT min(occurred_at) AS firstSeen, max(occurred_at) AS lastSeen, count(*) AS events FROM events
     WHERE site_id = ? AND visitor_id IN (SELECT visitor_id FROM identities WHERE person_id = ?)`,
  )
  const companyById = reader.prepare('SELECT * FROM companies WHERE id = ?')
  const peopleOfCompany = reader.prepare('SELECT * FROM people WHERE company_id = ? ORDER BY created_at')
  const traitsOf = (subjectId: string): TraitRecord =>
    Object.fromEntries(
      (traitRows.all(subjectId) as { key: string; value: string; set_at: number }[]).map((r) => [
        r.key,
        { value: JSON.parse(r.value), setAt: r.set_at },
      ]),
    )
  const activityOf = (person: Person) => activity.get(person.siteId, person.id) as Activity
  const readCompany = (id: string): Company | undefined => {
    const row = companyById.get(id)
    return row ? companyFromRow(row as Parameters<typeof companyFromRow>[0]) : undefined
  }

  return {
    async appendEvents(events) {
      if (events.length) insertEvents(events)
    },
    async *queryEvents(query: EventQuery) {
      const conditions: Record<keyof EventQuery, string> = {
        siteId: 'site_id = @siteId',
        personId: 'visitor_id IN (SELECT visitor_id FROM identities WHERE site_id = @siteId AND person_id = @personId)',
        from: 'occurred_at >= @from',
        to: 'occurred_at < @to',
        visitorId: 'visitor_id = @visitorId',
        kind: 'kind = @kind',
      }
      const used = (Object.keys(conditions) as (keyof EventQuery)[]).filter((key) => query[key] !== undefined)
      const statement = reader.prepare(
        `SELECT * FROM events WHERE ${used.map((key) => conditions[key]).join(' AND ')} ORDER BY occurred_at, id`,
      )
      const params = Object.fromEntries(used.map((key) => [key, query[key]]))
      for (const row of statement.iterate(params)) yield fromRow(row as EventRow)
    },
    async findPerson(siteId, ref) {
      const [column, value] = Object.entries(ref)[0] as [string, string]
      const where = { id: 'id = ?', email: 'email = ?', userId: 'user_id = ?' }[column]
      const row = reader.prepare(`SELECT * FROM people WHERE site_id = ? AND ${where}`).get(siteId, value)
      if (!row) return
      const person = personFromRow(row as Parameters<typeof personFromRow>[0])
      const company = person.companyId ? readCompany(person.companyId) : undefined
      return {
        ...person,
        ...activityOf(person),
        traits: traitsOf(person.id),
        visitorIds: (visitorIds.all(person.id) as { visitor_id: string }[]).map((r) => r.visitor_id),
        company: company ? { ...company, traits: traitsOf(company.id) } : null,
      } satisfies PersonRecord
    },
    async findCompany(siteId, ref) {
      const [column, value] = Object.entries(ref)[0] as [string, string]
      const where = { id: 'id = ?', domain: 'domain = ?', groupId: 'group_id = ?' }[column]
      const row = reader.prepare(`SELECT * FROM companies WHERE site_id = ? AND ${where}`).get(siteId, value)
      if (!row) return
      const company = companyFromRow(row as Parameters<typeof companyFromRow>[0])
      const people = (peopleOfCompany.all(company.id) as Parameters<typeof personFromRow>[0][]).map(personFromRow)
      return {
        ...company,
        traits: traitsOf(company.id),
        people: people.map((person) => ({ ...person, ...activityOf(person), traits: traitsOf(person.id) })),
      } satisfies CompanyRecord
    },
    async addSite(site) {
      insertSite.run(site.id, site.domain, site.writeKeyHash, site.readTokenHash, site.createdAt)
    },
    async findSite(id) {
      const row = selectSite.get(id) as SiteRow | undefined
      return row && siteFromRow(row)
    },
    async listSites() {
      return (selectSites.all() as SiteRow[]).map(siteFromRow)
    },
    async writable() {
      try {
        db.exec('BEGIN IMMEDIATE; ROLLBACK')
        return true
      } catch {
        return false
      }
    },
    async close() {
      if (reader !== db) reader.close()
      db.close()
    },
  }
}
