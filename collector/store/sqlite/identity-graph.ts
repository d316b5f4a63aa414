import type Database from 'better-sqlite3'
import type { Company, IdentityGraph, Person, Traits } from '../../identity/types'

interface PersonRow {
  id: string
  site_id: string
  user_id: string | null
  email: string | null
  company_id: string | null
  company_source: Person['companySource']
  created_at: number
}
interface CompanyRow {
  id: string
  site_id: string
  group_id: string | null
  domain: string | null
  created_at: number
}

export const personFromRow = (r: PersonRow): Person => ({
  id: r.id, siteId: r.site_id, userId: r.user_id, email: r.email, companyId: r.company_id,
  companySource: r.company_source, createdAt: r.created_at,
})
export const companyFromRow = (r: CompanyRow): Company => ({
  id: r.id, siteId: r.site_id, groupId: r.group_id, domain: r.domain, createdAt: r.created_at,
})

/** The identity graph on SQLite, for use inside the transaction that stores the events. */
export function sqliteIdentityGraph(db: Database.Database): IdentityGraph {
  const person = (sql: string) => {
    const statement = db.prepare(sql)
    return (...params: string[]) => {
      const row = statement.get(...params) as PersonRow | undefined
      return row && personFromRow(row)
    }
  }
  const company = (sql: string) => {
    const statement = db.prepare(sql)
    return (...params: string[]) => {
      const row = statement.get(...params) as CompanyRow | undefined
      return row && companyFromRow(row)
    }
  }
  const savePerson = db.prepare(
    `INSERT INTO people (id, site_id, user_id, email, company_id, company_source, created_at)
     VALUES (@id, @siteId, @userId, @email, @companyId, @companySource, @createdAt)
     ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, email = excluded.email,
       company_id = excluded.company_id, company_source = excluded.company_source, created_at = excluded.created_at`,
  )
  const saveCompany = db.prepare(
    `INSERT INTO companies (id, site_id, group_id, domain, created_at) VALUES (@id, @siteId, @groupId, @domain, @createdAt)
     ON CONFLICT (id) DO UPDATE SET group_id = excluded.group_id, domain = excluded.domain, created_at = min(created_at, excluded.created_at)`,
  )
  const deletePerson = db.prepare('DELETE FROM people WHERE id = ?')
  const link = db.prepare(
    `INSERT INTO identities (site_id, visitor_id, person_id, linked_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (site_id, visitor_id) DO NOTHING`,
  )
  const relink = db.prepare('UPDATE identities SET person_id = ? WHERE person_id = ?')
  const setTrait = db.prepare(
    `INSERT INTO traits (subject_id, key, value, set_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (subject_id, key) DO UPDATE SET value = excluded.value, set_at = excluded.set_at
     WHERE excluded.set_at >= traits.set_at`,
  )
  const moveTraits = db.prepare(
    `INSERT INTO traits (subject_id, key, value, set_at) SELECT ?, key, value, set_at FROM traits WHERE subject_id = ?
     ON CONFLICT (subject_id, key) DO UPDATE SET value = excluded.value, set_at = excluded.set_at
     WHERE excluded.set_at >= traits.set_at`,
  )
  const dropTraits = db.prepare('DELETE FROM traits WHERE subject_id = ?')
  const renameKept = db.prepare('UPDATE identity_conflicts SET kept_person_id = ? WHERE kept_person_id = ?')
  const renameRefused = db.prepare('UPDATE identity_conflicts SET refused_person_id = ? WHERE refused_person_id = ?')
  const latestGroup = db.prepare(
    `SELECT name, props, occurred_at FROM events WHERE site_id = ? AND visitor_id = ? AND kind = 'group'
     ORDER BY occurred_at DESC LIMIT 1`,
  )
  const conflict = db.prepare(
    `INSERT INTO identity_conflicts (site_id, visitor_id, kept_person_id, refused_person_id, event_id, at)
     VALUES (@siteId, @visitorId, @keptPersonId, @refusedPersonId, @eventId, @at)`,
  )

  return {
    personById: person('SELECT * FROM people WHERE id = ?'),
    personByUserId: person('SELECT * FROM people WHERE site_id = ? AND user_id = ?'),
    personByEmail: person('SELECT * FROM people WHERE site_id = ? AND email = ?'),
    personOfVisitor: person(
      'SELECT people.* FROM identities JOIN people ON people.id = identities.person_id WHERE identities.site_id = ? AND identities.visitor_id = ?',
    ),
    savePerson: (p) => void savePerson.run(p),
    deletePerson: (id) => void deletePerson.run(id),
    link: (siteId, visitorId, personId, at) => void link.run(siteId, visitorId, personId, at),
    relink: (from, to) => void relink.run(to, from),
    renamePerson: (from, to) => {
      renameKept.run(to, from)
      renameRefused.run(to, from)
    },
    setTraits: (subjectId, traits: Traits, at) => {
      for (const [key, value] of Object.entries(traits))
        if (value !== undefined) setTrait.run(subjectId, key, JSON.stringify(value), at)
    },
    moveTraits: (from, to) => {
      moveTraits.run(to, from)
      dropTraits.run(from)
    },
    companyById: company('SELECT * FROM companies WHERE id = ?'),
    companyByGroupId: company('SELECT * FROM companies WHERE site_id = ? AND group_id = ?'),
    companyByDomain: company('SELECT * FROM companies WHERE site_id = ? AND domain = ?'),
    saveCompany: (c) => void saveCompany.run(c),
    latestGroupOfVisitor: (siteId, visitorId) => {
      const row = latestGroup.get(siteId, visitorId) as { name: string; props: string | null; occurred_at: number } | undefined
      return row && { groupId: row.name, traits: row.props ? JSON.parse(row.props) : {}, at: row.occurred_at }
    },
    recordConflict: (c) => void conflict.run(c),
  }
}
