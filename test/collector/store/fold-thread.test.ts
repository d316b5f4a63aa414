import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addSite } from '../../../collector/sites'
import { DEFAULT_CONFIG } from '../../../collector/stages/config'
import { openSqliteStore } from '../../../collector/store/sqlite'
import { foldsFromThread } from '../../../collector/store/sqlite/fold-thread'
import { ownerFolds } from '../../../collector/store/sqlite/owner-fold'
import { generateTraffic } from '../../fixtures/traffic'

// A rebuild takes its owners' folds from a worker thread that reads the events on its own
// connection; they must be the folds this thread would make, every one, in the same order.
describe("a rebuild's reader thread", () => {
  let dir: string
  let path: string
  let siteId: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-fold-thread-'))
    path = join(dir, 'waymark.db')
    const store = openSqliteStore(path)
    siteId = (await addSite(store, 'example.com')).site.id
    // Enough visitors for many batches, with customers seen on a second device (folded last, all browsers together).
    const { events, visitors } = generateTraffic({ siteId, visitors: 1500, seed: 31, start: Date.UTC(2026, 4, 1) })
    expect(visitors.some((v) => v.secondDevice)).toBe(true)
    for (let i = 0; i < events.length; i += 1000) await store.appendEvents(events.slice(i, i + 1000))
    await store.close()
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('gives every owner’s fold, as this thread makes it', () => {
    const db = new Database(path, { readonly: true })
    const here = [...ownerFolds(db, DEFAULT_CONFIG, siteId)]
    db.close()
    const fromThread = [...foldsFromThread(path, DEFAULT_CONFIG, siteId)]
    expect(fromThread.length).toBeGreaterThan(1000)
    expect(fromThread).toEqual(here)
    // A person on two browsers is one fold, with both browsers' sessions.
    const people = fromThread.filter((f) => f.owner.type === 'person')
    expect(people.some((f) => new Set(f.sessions.map((s) => s[2])).size > 1)).toBe(true)
  })

  it('says why when the worker cannot read, instead of leaving the rebuild waiting', () => {
    expect(() => [...foldsFromThread(join(dir, 'missing.db'), DEFAULT_CONFIG, siteId)]).toThrow(/reader thread failed/)
  })
})
