import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addSite } from '../../../collector/sites'
import { openSqliteStore } from '../../../collector/store/sqlite'
import { SESSION_SOURCES_BY_DAY } from '../../../collector/store/sqlite/migrations'
import { wholeDaysOf } from '../../../collector/store/sqlite/queries'
import type { SessionSourceCount, Store } from '../../../collector/store/types'
import { BACK_TO_SCHEMA_16, BACK_TO_SCHEMA_17, BACK_TO_SCHEMA_18, BACK_TO_SCHEMA_19, BACK_TO_SCHEMA_20, BACK_TO_SCHEMA_21 } from '../../fixtures/older-schemas'
import { removeStore, storeWithTraffic, type TrafficStore } from '../../fixtures/store-file'

const DAY = 86_400_000
const HOUR = 3_600_000
const START = Date.UTC(2026, 2, 1)

/** Counts by stage and source, each group added up over the rows it came in. */
const summed = (rows: SessionSourceCount[]) => {
  const totals = new Map<string, number>()
  for (const { sessions, ...group } of rows) {
    const key = JSON.stringify([group.stage, group.channel, group.source, group.medium, group.campaign || null])
    totals.set(key, (totals.get(key) ?? 0) + sessions)
  }
  return new Map([...totals].sort(([a], [b]) => a.localeCompare(b)))
}

describe('whole days of a range', () => {
  it('splits a range into the whole UTC days inside it and the parts of days at its ends', () => {
    const day = START / DAY
    expect(wholeDaysOf({ from: START, to: START + 3 * DAY })).toEqual({ days: { fromDay: day, toDay: day + 3 }, edges: [] })
    expect(wholeDaysOf({ from: START - HOUR, to: START + 2 * DAY + HOUR })).toEqual({
      days: { fromDay: day, toDay: day + 2 },
      edges: [{ from: START - HOUR, to: START }, { from: START + 2 * DAY, to: START + 2 * DAY + HOUR }],
    })
  })

  it('leaves a range within one day (or none at all) to the rows', () => {
    expect(wholeDaysOf({ from: START + HOUR, to: START + 5 * HOUR })).toEqual({ edges: [{ from: START + HOUR, to: START + 5 * HOUR }] })
    expect(wholeDaysOf({ from: START + DAY - HOUR, to: START + DAY + HOUR })).toEqual({ edges: [{ from: START + DAY - HOUR, to: START + DAY + HOUR }] })
    expect(wholeDaysOf({ from: START + 2 * DAY, to: START })).toEqual({ edges: [{ from: START + 2 * DAY, to: START }] })
  })

  it('runs an open end to every day there is', () => {
    expect(wholeDaysOf({})).toEqual({ days: { fromDay: Number.MIN_SAFE_INTEGER, toDay: Number.MAX_SAFE_INTEGER }, edges: [] })
    expect(wholeDaysOf({ from: START + HOUR })).toEqual({ days: { fromDay: START / DAY + 1, toDay: Number.MAX_SAFE_INTEGER }, edges: [{ from: START + HOUR, to: START + DAY }] })
    expect(wholeDaysOf({ to: START + HOUR })).toEqual({ days: { fromDay: Number.MIN_SAFE_INTEGER, toDay: START / DAY }, edges: [{ from: START, to: START + HOUR }] })
  })
})

// The store counts whole days of sessions from a rollup its triggers keep, and the parts of days
// at a range's ends from the sessions. Its counts must be those of reading every session of the
// range, however the sessions and their stages were written, moved and deleted.
describe('the SQLite store: sessions by stage and source, counted from the rollup by day, equal their definition', () => {
  let held: TrafficStore
  let store: Store
  let siteId: string
  const ranges: [string, { from?: number; to?: number }][] = [
    ['all time', {}],
    ['a fortnight of whole days', { from: START + 7 * DAY, to: START + 21 * DAY }],
    ['from and to mid-day', { from: START + 3 * DAY + 13 * HOUR + 17, to: START + 19 * DAY + 11 * HOUR }],
    ['within one day', { from: START + 9 * DAY + 10 * HOUR, to: START + 9 * DAY + 15 * HOUR }],
    ['from a moment on', { from: START + 12 * DAY + 12 * HOUR }],
    ['up to a moment', { to: START + 10 * DAY + 15 * HOUR }],
  ]

  // The generated visits begin between 8:00 and 18:00 UTC: the ranges' ends fall among them.
  /** What reading every session that began in the range counts, by its stage in the journey. */
  const definition = async (range: { from?: number; to?: number }) => {
    const rows: SessionSourceCount[] = []
    for await (const s of store.querySessions({ siteId, ...range }))
      if (s.stages.b2b) rows.push({ stage: s.stages.b2b, channel: s.channel, source: s.source, medium: s.medium, campaign: s.campaign, sessions: 1 })
    return summed(rows)
  }
  const counted = async (range: { from?: number; to?: number }) => summed(await store.countSessionSources({ siteId, journey: 'b2b', ...range }))

  /** The rollup's rows that count something, against what a count of the sessions and their stages gives now. */
  const rollupAgainstRecount = () => {
    const db = new Database(held.path, { readonly: true })
    try {
      const rollup = db.prepare('SELECT site_id, journey, day, stage, channel, source, medium, campaign, sessions FROM session_sources_by_day WHERE sessions != 0 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8').raw(true).all()
      const recount = db.prepare(`${SESSION_SOURCES_BY_DAY} ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`).raw(true).all()
      return { rollup, recount }
    } finally {
      db.close()
    }
  }

  beforeAll(async () => {
    held = await storeWithTraffic({ visitors: 700, seed: 61, start: START })
    ;({ siteId } = held)
    store = held.store
  })
  afterAll(() => removeStore(held))

  it.each(ranges)('%s', async (_, range) => {
    const expected = await definition(range)
    expect(expected.size).toBeGreaterThan(3)
    expect(await counted(range)).toEqual(expected)
  })

  it('holds, after events arriving late and out of order, what counting the sessions gives', () => {
    const { rollup, recount } = rollupAgainstRecount()
    expect(rollup.length).toBeGreaterThan(20)
    expect(rollup).toEqual(recount)
  })

  it('keeps count whichever of a session and its stage is written, changed or deleted first', () => {
    const db = new Database(held.path)
    try {
      const ids = db.prepare("SELECT session_id FROM session_stages WHERE journey = 'b2b' AND stage IS NOT NULL ORDER BY session_id LIMIT 5").pluck().all() as string[]
      const sessionOf = db.prepare('SELECT * FROM sessions WHERE id = ?')
      const stagesOf = db.prepare('SELECT * FROM session_stages WHERE session_id = ?')
      const insert = (table: string, row: Record<string, unknown>) =>
        db.prepare(`INSERT INTO ${table} (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row).map((k) => `@${k}`).join(', ')})`).run(row)
      // A session deleted before its stages, and one written again after them.
      db.prepare('DELETE FROM sessions WHERE id = ?').run(ids[0])
      db.prepare('DELETE FROM session_stages WHERE session_id = ?').run(ids[0])
      const [session, stages] = [sessionOf.get(ids[1]) as Record<string, unknown>, stagesOf.all(ids[1]) as Record<string, unknown>[]]
      db.prepare('DELETE FROM session_stages WHERE session_id = ?').run(ids[1])
      db.prepare('DELETE FROM sessions WHERE id = ?').run(ids[1])
      for (const stage of stages) insert('session_stages', stage)
      insert('sessions', session)
      // A session moved to another day and source, and stages moved on and cleared.
      db.prepare("UPDATE sessions SET source = 'moved.example', campaign = NULL, started_at = started_at + 86400000 WHERE id = ?").run(ids[2])
      db.prepare("UPDATE session_stages SET stage = 'purchase' WHERE session_id = ?").run(ids[3])
      db.prepare('UPDATE session_stages SET stage = NULL WHERE session_id = ?').run(ids[4])
    } finally {
      db.close()
    }
    const { rollup, recount } = rollupAgainstRecount()
    expect(rollup).toEqual(recount)
  })

  it('forgets an erased person’s sessions', async () => {
    const person = held.events.find((e) => e.kind === 'identify')!
    const before = await definition({})
    expect(await store.erasePerson(siteId, { email: person.name! })).toBeDefined()
    const after = await definition({})
    expect(after).not.toEqual(before)
    expect(await counted({})).toEqual(after)
    const { rollup, recount } = rollupAgainstRecount()
    expect(rollup).toEqual(recount)
  })

  it('is counted again by a rebuild of one site among several, and of every site', async () => {
    await addSite(store, 'other.example')
    await store.rebuild(siteId)
    expect(rollupAgainstRecount().rollup).toEqual(rollupAgainstRecount().recount)
    await store.rebuild()
    const { rollup, recount } = rollupAgainstRecount()
    expect(rollup).toEqual(recount)
    expect(await counted({})).toEqual(await definition({}))
    // The triggers are back after a whole rebuild: events arriving now are counted as before.
    const late = held.events.filter((e) => e.kind === 'pageview').slice(0, 50).map((e, i) => ({ ...e, id: `late-${i}`, occurredAt: START + 40 * DAY + i * HOUR, receivedAt: START + 40 * DAY + i * HOUR }))
    await store.appendEvents(late)
    await store.settle()
    expect(await counted({ from: START + 40 * DAY })).toEqual(await definition({ from: START + 40 * DAY }))
    expect(rollupAgainstRecount().rollup).toEqual(rollupAgainstRecount().recount)
  })

  it('in a file an older Waymark wrote (schema 16, no rollup): the same counts once it opens', async () => {
    const before = await Promise.all(ranges.map(([, range]) => definition(range)))
    await store.close()
    const older = new Database(held.path)
    older.exec(BACK_TO_SCHEMA_21 + BACK_TO_SCHEMA_20 + BACK_TO_SCHEMA_19 + BACK_TO_SCHEMA_18 + BACK_TO_SCHEMA_17 + BACK_TO_SCHEMA_16)
    older.close()
    store = held.store = openSqliteStore(held.path)
    for (const [i, [, range]] of ranges.entries()) expect(await counted(range)).toEqual(before[i])
  })
})
