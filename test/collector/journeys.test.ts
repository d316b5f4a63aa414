import Database from 'better-sqlite3'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { addSite } from '../../collector/sites'
import { DEFAULT_JOURNEY } from '../../collector/stages/config'
import { migrate, openSqliteStore } from '../../collector/store/sqlite'
import { changedEntries, entryRows, transitionsFromEntries, type StoredEntryRow } from '../../collector/store/sqlite/journeys'
import { sessionize } from '../../collector/sessions/sessionize'
import { companyProgress, ownerProgress, sessionProgress, type StageEntry } from '../../collector/stages/progress'
import type { Store } from '../../collector/store/types'
import { eventMaker, expectedStageCounts, generateTraffic, random, shuffledBatches } from '../fixtures/traffic'

const DAY = 86_400_000
const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function freshStore() {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-journeys-'))
  dirs.push(dir)
  const dbPath = join(dir, 'waymark.db')
  const store = openSqliteStore(dbPath)
  const { site } = await addSite(store, 'example.com')
  return { store, dbPath, siteId: site.id }
}

/** Every derived table, in a fixed order: what must be the same however it was computed. */
function snapshot(dbPath: string) {
  const db = new Database(dbPath, { readonly: true })
  try {
    return {
      sessions: db.prepare('SELECT * FROM sessions ORDER BY id').all(),
      sessionStages: db.prepare('SELECT * FROM session_stages ORDER BY session_id, journey').all(),
      // Transitions are kept on these rows (moved, moved_from).
      entries: db.prepare('SELECT * FROM stage_entries ORDER BY owner_type, owner_id, journey, stage').all(),
      ownerStages: db.prepare('SELECT * FROM owner_stages ORDER BY owner_type, owner_id, journey').all(),
      // A rebuild of every site refills the tables without their indexes: each must be made again.
      indexes: db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").all(),
    }
  } finally {
    db.close()
  }
}

/** The indexes a new database is made with. */
function migratedIndexes() {
  const db = new Database(':memory:')
  migrate(db)
  const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").all()
  db.close()
  return indexes
}

/**
 * Feeds the events through the store's incremental path: browsers' batches out of order, a few
 * to a commit, as the collector's group commit writes the requests that arrive together.
 */
async function ingest(store: Store, events: Parameters<typeof shuffledBatches>[0], seed: number) {
  const batches = shuffledBatches(events, seed)
  for (let i = 0; i < batches.length; i += 8) await store.appendEvents(batches.slice(i, i + 8).flat())
  await store.settle()
}

describe('A month of B2B traffic', () => {
  it('ends with the stage counts the plan says, and `waymark rebuild` reproduces every table', async () => {
    const { store, dbPath, siteId } = await freshStore()
    const start = Date.UTC(2026, 9, 1)
    const { visitors, events } = generateTraffic({ siteId, visitors: 300, seed: 7, start })
    await ingest(store, events, 8)

    const stages = DEFAULT_JOURNEY.stages.map((s) => s.name)
    const expected = expectedStageCounts(visitors, stages)
    expect(await store.stageCounts(siteId, 'b2b')).toEqual(expected)
    // Sanity of the plan itself: every funnel stage up to purchase has someone in it.
    expect(expected.slice(0, 4).every((row) => row.people + row.visitors > 0)).toBe(true)

    // Every session is in the month, and the customers' second devices merged into one person each.
    const sessions = []
    for await (const s of store.querySessions({ siteId })) sessions.push(s)
    expect(sessions.every((s) => s.startedAt >= start && s.startedAt < start + 31 * DAY)).toBe(true)
    const twoDevices = visitors.filter((v) => v.secondDevice)
    expect(twoDevices.length).toBeGreaterThan(0)
    for (const v of twoDevices) {
      const person = (await store.findPerson(siteId, { email: v.email! }))!
      expect(person.visitorIds.sort()).toEqual([v.visitorId, v.secondDevice!].sort())
    }

    // Each event's session is the visitor's last one begun by then; a reader that never uses it may go without.
    const withSessions = []
    for await (const e of store.queryEvents({ siteId, kinds: ['pageview'] })) withSessions.push(e)
    const withoutSessions = []
    for await (const e of store.queryEvents({ siteId, kinds: ['pageview'], sessionIds: false })) withoutSessions.push(e)
    const sessionsById = new Map(sessions.map((s) => [s.id, s]))
    expect(withSessions.every((e) => e.isBot || (sessionsById.get(e.sessionId!)?.visitorId === e.visitorId && sessionsById.get(e.sessionId!)!.startedAt <= e.occurredAt))).toBe(true)
    expect(withoutSessions).toEqual(withSessions.map((e) => ({ ...e, sessionId: null })))

    const before = snapshot(dbPath)
    await store.close()
    await promisify(execFile)(process.execPath, ['bin/waymark.js', 'rebuild', '--db', dbPath])
    expect(snapshot(dbPath)).toEqual(before)
  })
})

describe('Incremental sessions and stages', () => {
  it('equal a rebuild from the stored events, of one site or of all, on a history of thousands of visitors sent out of order', async () => {
    const { store, dbPath, siteId } = await freshStore()
    const { site: other } = await addSite(store, 'other.example')
    const { events } = generateTraffic({ siteId, visitors: 3000, seed: 11, start: Date.UTC(2026, 8, 1), days: 25 })
    const { events: elsewhere } = generateTraffic({ siteId: other.id, visitors: 200, seed: 13, start: Date.UTC(2026, 8, 1), days: 25 })
    await ingest(store, [...events, ...elsewhere], 12)
    const incremental = snapshot(dbPath)
    expect(incremental.sessions.length).toBeGreaterThan(3200)
    await store.rebuild(siteId) // one site's rows replaced, the other's left as they are
    expect(snapshot(dbPath)).toEqual(incremental)
    await store.rebuild() // every site's: the tables emptied and refilled
    expect(snapshot(dbPath)).toEqual(incremental)
    expect(incremental.indexes).toEqual(migratedIndexes())
    await store.close()
  })

  it('puts a late event in the session it belongs to, joining two that it bridges', async () => {
    const { store, siteId } = await freshStore()
    const { events } = generateTraffic({ siteId, visitors: 1, seed: 3, start: Date.UTC(2026, 8, 1) }) // a bouncer
    const first = events[0]
    const late = { ...first, id: first.id.slice(0, 10) + 'ZZZZZZZZZZZZZZZZ', occurredAt: first.occurredAt + 25 * 60_000, path: '/pricing', referrer: null }
    const next = { ...first, id: first.id.slice(0, 10) + 'ZZZZZZZZZZZZZZZY', occurredAt: first.occurredAt + 50 * 60_000, path: '/docs', referrer: null }
    await store.appendEvents([first])
    await store.appendEvents([next]) // 50 min later: a second session
    const sessions = async () => {
      const all = []
      for await (const s of store.querySessions({ siteId })) all.push([s.id, s.pageviews, s.stages.b2b])
      return all
    }
    expect(await sessions()).toEqual([[first.id, 1, 'awareness'], [next.id, 1, 'consideration']])
    await store.appendEvents([late]) // arrives last, happened between: one session of three pages
    expect(await sessions()).toEqual([[first.id, 3, 'consideration']])
    await store.close()
  })

  it('keeps following every other visitor when one visitor’s recomputation fails, and retries that one on its next event', async () => {
    const { store, dbPath, siteId } = await freshStore()
    const make = eventMaker(siteId, random(5))
    const t0 = Date.UTC(2026, 8, 1, 9)
    await store.appendEvents([make('broken', t0, {}), make('broken', t0 + 2 * DAY, { path: '/pricing' })])
    await store.settle()
    // Its first session's stored progress made unreadable, as a bug in an earlier version might leave it.
    const db = new Database(dbPath)
    db.prepare("UPDATE session_stages SET progress = 'not json' WHERE session_id IN (SELECT id FROM sessions WHERE visitor_id = 'broken' AND started_at = ?)").run(t0)
    db.close()
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    await store.appendEvents([make('broken', t0 + 4 * DAY, { path: '/docs' }), make('fine', t0 + 4 * DAY, { path: '/pricing' })])
    await store.settle()
    expect(errors.mock.calls.some(([message]) => String(message).includes('recomputing the stages of'))).toBe(true)
    errors.mockRestore()
    // The other visitor is followed, and the failing one's newest session is stored.
    expect((await store.ownerJourney(siteId, { type: 'visitor', id: 'fine' }, 'b2b')).stage).toBe('consideration')
    const broken = []
    for await (const s of store.querySessions({ siteId })) if (s.visitorId === 'broken') broken.push(s.entryPath)
    expect(broken).toEqual(['/', '/pricing', '/docs'])
    await store.close()
  })
})

describe('When identities merge', () => {
  it("recomputes the person's stages from the merged history, and the anonymous visitor's go", async () => {
    const { store, siteId } = await freshStore()
    const { events } = generateTraffic({ siteId, visitors: 1, seed: 5, start: Date.UTC(2026, 8, 1) })
    const laptop = events[0].visitorId
    const phone = '01JPHONE000000000000000000'
    const day1 = events[0].occurredAt
    const make = (visitorId: string, at: number, fields: object) => ({ ...events[0], visitorId, occurredAt: at, receivedAt: at, ...fields })
    // Day 1, the laptop, anonymous: pricing.
    await store.appendEvents([events[0], make(laptop, day1 + 60_000, { id: '01JLAPTOP00000000000000002', path: '/pricing', referrer: null })])
    expect((await store.ownerJourney(siteId, { type: 'visitor', id: laptop }, 'b2b')).stage).toBe('consideration')
    // Day 3, the phone: identifies.
    await store.appendEvents([
      make(phone, day1 + 2 * DAY, { id: '01JPHONE000000000000000001', path: '/', referrer: null }),
      make(phone, day1 + 2 * DAY + 1000, { id: '01JPHONE000000000000000002', kind: 'identify', name: 'dana@initech.example', referrer: null }),
    ])
    // Day 5, the laptop identifies as the same person: one person, the laptop's history theirs.
    await store.appendEvents([make(laptop, day1 + 4 * DAY, { id: '01JLAPTOP00000000000000003', kind: 'identify', name: 'dana@initech.example', referrer: null })])
    const dana = (await store.findPerson(siteId, { email: 'dana@initech.example' }))!
    const journey = await store.ownerJourney(siteId, { type: 'person', id: dana.id }, 'b2b')
    expect(journey.entries.map((e) => [e.stage, e.at - day1])).toEqual([
      ['awareness', 0],
      ['consideration', 60_000], // the laptop's pricing page, before anyone knew who it was
      ['decision', 2 * DAY + 1000],
    ])
    expect(journey.score).toBe(10 + 20 + 20) // pricing, and an identify in each of two sessions
    expect(await store.ownerJourney(siteId, { type: 'visitor', id: laptop }, 'b2b')).toEqual({ stage: null, score: 0, entries: [], transitions: [] })
    const company = (await store.findCompany(siteId, { domain: 'initech.example' }))!
    expect((await store.ownerJourney(siteId, { type: 'company', id: company.id }, 'b2b')).stage).toBe('decision')
    await store.close()
  })
})

describe('Stage transitions, kept on the entries they reached', () => {
  it("read back exactly as the fold made them, for every visitor and company of a generated month", () => {
    const { events } = generateTraffic({ siteId: 'site', visitors: 400, seed: 11, start: Date.UTC(2026, 0, 1), days: 30 })
    const byVisitor = new Map<string, typeof events>()
    for (const event of events) byVisitor.set(event.visitorId, [...(byVisitor.get(event.visitorId) ?? []), event])
    const everyonesEntries: StageEntry[][] = []
    let sameMoment = 0
    for (const own of byVisitor.values()) {
      const sessions = sessionize(own.sort((a, b) => a.occurredAt - b.occurredAt || a.id.localeCompare(b.id))).map(({ session, events }) => ({
        ...session,
        progress: sessionProgress(DEFAULT_JOURNEY, session, events),
      }))
      const { entries, transitions } = ownerProgress(DEFAULT_JOURNEY, sessions)
      expect(transitionsFromEntries(DEFAULT_JOURNEY, entryRows(entries, transitions))).toEqual(transitions)
      everyonesEntries.push(entries)
      sameMoment += transitions.filter((t, i) => i > 0 && transitions[i - 1].at === t.at).length
    }
    // Some move twice in one moment, which only the journey's order puts back in order (jumps are in the stages tests).
    expect(sameMoment).toBeGreaterThan(0)
    for (let i = 0; i < everyonesEntries.length; i += 7) {
      const company = companyProgress(DEFAULT_JOURNEY, everyonesEntries.slice(i, i + 7))
      expect(transitionsFromEntries(DEFAULT_JOURNEY, entryRows(company.entries, company.transitions))).toEqual(company.transitions)
    }
  })
})

describe('An owner’s stored entries, rewritten only where they changed', () => {
  const entry = (stage: string, at: number, nextAt: number | null, extra: Partial<StoredEntryRow> = {}): StoredEntryRow => ({
    stage, at, sessionId: `s-${at}`, channel: 'Direct', campaign: null, page: '/', moved: 0, movedFrom: null, nextAt, ...extra,
  })
  const stored = [entry('awareness', 1, 5), entry('consideration', 5, null, { moved: 1, movedFrom: 'awareness' })]

  it('writes nothing when the refold finds what is stored', () => {
    expect(changedEntries(stored, stored.map((e) => ({ ...e })))).toEqual({ gone: [], added: [] })
  })

  it('writes the new stage and the one before it (its next stage’s time changed), and leaves the first', () => {
    const moved = [entry('awareness', 1, 5), entry('consideration', 5, 9, { moved: 1, movedFrom: 'awareness' }), entry('decision', 9, null, { moved: 1, movedFrom: 'consideration' })]
    expect(changedEntries(stored, moved)).toEqual({ gone: ['consideration'], added: moved.slice(1) })
  })

  it('deletes a stage no longer entered, and rewrites one entered by another session', () => {
    const refolded = [entry('awareness', 1, null, { sessionId: 'earlier', channel: 'Email' })]
    expect(changedEntries(stored, refolded)).toEqual({ gone: ['awareness', 'consideration'], added: refolded })
  })
})
