import Database from 'better-sqlite3'
import type { Company, Person } from '../../identity/types'
import type { WaymarkConfig } from '../../stages/config'
import type { Activity, CompanyRecord, CompanyRef, PersonRecord, PersonRef, StageCount, StoreReads, TraitRecord } from '../types'
import { companyFromRow, personFromRow } from './identity-graph'
import { ownerJourneyFrom, stageCountsFrom, type EntryRow } from './journeys'
import { streamingQueries } from './queries'

/** A person or company by whichever key the reference gives (id, email, userId, domain or groupId). */
const REF_COLUMNS: Record<string, string> = { id: 'id', email: 'email', userId: 'user_id', domain: 'domain', groupId: 'group_id' }
export const rowByRef = (connection: Database.Database, table: 'people' | 'companies', siteId: string, ref: PersonRef | CompanyRef) => {
  const [key, value] = Object.entries(ref)[0]
  return connection.prepare(`SELECT * FROM ${table} WHERE site_id = ? AND ${REF_COLUMNS[key]} = ?`).get(siteId, value)
}

/**
 * Everything reports and exports read, from one connection. `catchUp` brings sessions and stages
 * up to date before each read: the store's own folds, or nothing on a connection of its own whose
 * caller settled the store first (a report thread's).
 */
export function sqliteReads(reader: Database.Database, config: WaymarkConfig, catchUp: () => void): StoreReads {
  const entriesOf = reader.prepare(
    `SELECT stage, entered_at AS at, session_id AS sessionId, channel, campaign, page, moved, moved_from AS movedFrom FROM stage_entries
     WHERE site_id = ? AND owner_type = ? AND owner_id = ? AND journey = ? ORDER BY entered_at`,
  )
  const ownerStage = reader.prepare('SELECT stage, score FROM owner_stages WHERE site_id = ? AND owner_type = ? AND owner_id = ? AND journey = ?')
  const stageCounts = reader.prepare(
    `SELECT stage, sum(owner_type = 'person') AS people, sum(owner_type = 'visitor') AS visitors, sum(owner_type = 'company') AS companies
     FROM stage_entries WHERE site_id = ? AND journey = ? GROUP BY stage`,
  )
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
    ...streamingQueries(reader, catchUp),
    async findPerson(siteId, ref) {
      const row = rowByRef(reader, 'people', siteId, ref)
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
      const row = rowByRef(reader, 'companies', siteId, ref)
      if (!row) return
      const company = companyFromRow(row as Parameters<typeof companyFromRow>[0])
      const people = (peopleOfCompany.all(company.id) as Parameters<typeof personFromRow>[0][]).map(personFromRow)
      return {
        ...company,
        traits: traitsOf(company.id),
        people: people.map((person) => ({ ...person, ...activityOf(person), traits: traitsOf(person.id) })),
      } satisfies CompanyRecord
    },
    async ownerJourney(siteId, owner, journey) {
      catchUp()
      const args = [siteId, owner.type, owner.id, journey]
      const current = ownerStage.get(...args) as { stage: string | null; score: number } | undefined
      return ownerJourneyFrom(config, journey, current, entriesOf.all(...args) as EntryRow[])
    },
    async stageCounts(siteId, journey) {
      catchUp()
      return stageCountsFrom(config, journey, stageCounts.all(siteId, journey) as StageCount[])
    },
  }
}

/**
 * A SQLite file's reads on a read-only connection of its own, for a thread that only reads (a
 * report thread). It folds nothing: its caller settles the store before asking it anything.
 */
export function openSqliteReads(path: string, config: WaymarkConfig): StoreReads & { close(): void } {
  const reader = new Database(path, { readonly: true, fileMustExist: true })
  reader.pragma('busy_timeout = 5000')
  return { ...sqliteReads(reader, config, () => {}), close: () => reader.close() }
}
