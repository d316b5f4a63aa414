import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSqliteStore } from '../../../collector/store/sqlite'
import type { Store } from '../../../collector/store/types'
import { BACK_TO_SCHEMA_13, BACK_TO_SCHEMA_14, BACK_TO_SCHEMA_15, BACK_TO_SCHEMA_16, BACK_TO_SCHEMA_17, BACK_TO_SCHEMA_18, BACK_TO_SCHEMA_19, BACK_TO_SCHEMA_20, BACK_TO_SCHEMA_21 } from '../../fixtures/older-schemas'
import { removeStore, storeWithTraffic } from '../../fixtures/store-file'

/** Sessions whose person or company is not the one their visitor id's identity names now. */
const WRONG_OWNERS = `
  SELECT count(s.person_id) AS people, count(s.company_id) AS companies,
    count(*) FILTER (WHERE s.person_id IS NOT i.person_id OR s.company_id IS NOT p.company_id) AS wrong
  FROM sessions s LEFT JOIN identities i ON i.site_id = s.site_id AND i.visitor_id = s.visitor_id LEFT JOIN people p ON p.id = i.person_id`

// Each session holds whose it is, so reports find the people and companies of a range from an
// index of sessions. Whatever changes whose a visitor id is, the sessions must follow.
describe('the SQLite store: sessions hold their person and company', () => {
  let dir: string
  let path: string
  let store: Store
  let siteId: string
  const owners = () => {
    const db = new Database(path, { readonly: true })
    try {
      return db.prepare(WRONG_OWNERS).get() as { people: number; companies: number; wrong: number }
    } finally {
      db.close()
    }
  }
  /** Changes the file as another writer would, with the store closed meanwhile. */
  const change = async (sql: string) => {
    await store.close()
    const db = new Database(path)
    db.exec(sql)
    db.close()
    store = openSqliteStore(path)
  }

  beforeAll(async () => {
    ;({ store, siteId, dir, path } = await storeWithTraffic({ visitors: 400, seed: 47, start: Date.UTC(2026, 2, 1) }))
  })
  // The store of the moment: change() opens another.
  afterAll(() => removeStore({ store, dir }))

  it('as the traffic arrives, out of order', () => {
    const counted = owners()
    expect(counted.people).toBeGreaterThan(50)
    expect(counted.companies).toBeGreaterThan(20)
    expect(counted.wrong).toBe(0)
  })

  it('when an identity moves to another person, a person changes company, or an identity goes', async () => {
    await change(`
      UPDATE identities SET person_id = (SELECT max(person_id) FROM identities) WHERE visitor_id = (SELECT min(visitor_id) FROM identities);
      UPDATE people SET company_id = (SELECT max(id) FROM companies) WHERE id = (SELECT min(person_id) FROM identities);
      UPDATE people SET company_id = NULL WHERE id = (SELECT max(id) FROM people WHERE company_id IS NOT NULL);
      DELETE FROM identities WHERE visitor_id = (SELECT max(visitor_id) FROM identities);
    `)
    expect(owners().wrong).toBe(0)
  })

  it('in a file an older Waymark wrote (schema 13): filled in as it opens', async () => {
    await change(BACK_TO_SCHEMA_21 + BACK_TO_SCHEMA_20 + BACK_TO_SCHEMA_19 + BACK_TO_SCHEMA_18 + BACK_TO_SCHEMA_17 + BACK_TO_SCHEMA_16 + BACK_TO_SCHEMA_15 + BACK_TO_SCHEMA_14 + BACK_TO_SCHEMA_13)
    const counted = owners()
    expect(counted.people).toBeGreaterThan(50)
    expect(counted.wrong).toBe(0)
  })

  it('after an erasure and a rebuild', async () => {
    const db = new Database(path, { readonly: true })
    const email = db.prepare('SELECT email FROM people WHERE email IS NOT NULL AND company_id IS NOT NULL LIMIT 1').pluck().get() as string
    db.close()
    expect(await store.erasePerson(siteId, { email })).toBeDefined()
    expect(owners().wrong).toBe(0)
    await store.rebuild()
    expect(owners()).toMatchObject({ wrong: 0 })
    expect(owners().people).toBeGreaterThan(50)
  })
})
