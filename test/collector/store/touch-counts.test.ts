import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attributedStages, touchCountsOf, type TouchCounts, type TouchQuery } from '../../../collector/reports/sources'
import { DEFAULT_JOURNEY } from '../../../collector/stages/config'
import { addSite } from '../../../collector/sites'
import { openSqliteStore } from '../../../collector/store/sqlite'
import { FIRST_TOUCH_FLOWS_BY_DAY, TOUCHES_BY_DAY } from '../../../collector/store/sqlite/migrations'
import type { Store } from '../../../collector/store/types'
import { BACK_TO_SCHEMA_17, BACK_TO_SCHEMA_18, BACK_TO_SCHEMA_19, BACK_TO_SCHEMA_20, BACK_TO_SCHEMA_21 } from '../../fixtures/older-schemas'
import { removeStore, storeWithTraffic, type TrafficStore } from '../../fixtures/store-file'

const DAY = 86_400_000
const HOUR = 3_600_000
const START = Date.UTC(2026, 2, 1)
const STAGES = DEFAULT_JOURNEY.stages.map((s) => s.name)
const attributed = attributedStages(DEFAULT_JOURNEY)

/** Counts as one list of groups, each added up over the rows a store gave it in, in one order. */
const merged = (counts: TouchCounts) => {
  const sum = (rows: { people: number }[]) => {
    const totals = new Map<string, number>()
    for (const { people, ...group } of rows) totals.set(JSON.stringify(group), (totals.get(JSON.stringify(group)) ?? 0) + people)
    return [...totals].sort(([a], [b]) => a.localeCompare(b))
  }
  return { attribution: sum(counts.attribution), flows: sum(counts.flows) }
}

// The store counts attribution and flows from the entries' own rows and their owners' first
// entries. Its counts must be those of folding every owner's entries with their sessions' touches.
describe('the SQLite store: attribution and flows counted from stage entries equal their definition', () => {
  let held: TrafficStore
  let store: Store
  let siteId: string
  const queries: [string, TouchQuery][] = [
    ['all time', { attributed }],
    ['a fortnight', { from: START + 7 * DAY, to: START + 21 * DAY, attributed }],
    ['from a moment on', { from: START + DAY + 12_345, attributed }],
    ['up to a moment', { to: START + 10 * DAY + 3_600_000, attributed }],
    // The generated visits begin between 8:00 and 18:00 UTC: these ends fall among them.
    ['from mid-day to a day’s start', { from: START + 4 * DAY + 13 * HOUR, to: START + 18 * DAY, attributed }],
    ['from and to mid-day', { from: START + 4 * DAY + 13 * HOUR, to: START + 18 * DAY + 12 * HOUR, attributed }],
    ['within one day', { from: START + 6 * DAY + 9 * HOUR, to: START + 6 * DAY + 16 * HOUR, attributed }],
    ['from mid-day on', { from: START + 9 * DAY + 14 * HOUR, attributed }],
  ]

  beforeAll(async () => {
    held = await storeWithTraffic({ visitors: 1200, seed: 43, start: START })
    ;({ store, siteId } = held)
  })
  afterAll(() => removeStore(held))

  const check = async (query: TouchQuery) => {
    const counted = merged(await store.touchCounts(siteId, DEFAULT_JOURNEY.name, STAGES, query))
    expect(counted).toEqual(merged(await touchCountsOf(store.queryStageEntries(siteId, DEFAULT_JOURNEY.name), STAGES, query)))
    return counted
  }

  it.each(queries)('as events arrive: %s', async (_, query) => {
    const counted = await check(query)
    expect(counted.flows.length).toBeGreaterThan(3)
  })

  /** Each rollup's rows that count something, against what counting the entries gives now. */
  const rollupsAgainstRecount = () => {
    const db = new Database(held.path, { readonly: true })
    try {
      const rows = (sql: string) => db.prepare(`${sql} ORDER BY 1, 2, 3, 4, 5, 6, 7`).raw(true).all()
      return {
        rollups: [rows('SELECT * FROM touches_by_day WHERE owners != 0'), rows('SELECT * FROM first_touch_flows_by_day WHERE owners != 0')],
        recounts: [rows(TOUCHES_BY_DAY), rows(FIRST_TOUCH_FLOWS_BY_DAY)],
      }
    } finally {
      db.close()
    }
  }
  const expectRollupsCurrent = () => {
    const { rollups, recounts } = rollupsAgainstRecount()
    expect(rollups[0].length).toBeGreaterThan(20)
    expect(rollups[1].length).toBeGreaterThan(20)
    expect(rollups).toEqual(recounts)
  }

  it('keeps the rollups as the entries are written, as events arrive late and out of order', expectRollupsCurrent)

  it('keeps the rollups whichever of an owner’s entries is written or deleted first', () => {
    const db = new Database(held.path)
    try {
      const entries = db.prepare("SELECT * FROM stage_entries WHERE owner_type = ? AND owner_id = ? AND journey = 'b2b'")
      const insert = (row: Record<string, unknown>) =>
        db.prepare(`INSERT INTO stage_entries (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row).map((k) => `@${k}`).join(', ')})`).run(row)
      const remove = db.prepare('DELETE FROM stage_entries WHERE owner_type = @owner_type AND owner_id = @owner_id AND journey = @journey AND stage = @stage')
      const owners = db.prepare("SELECT owner_type, owner_id FROM stage_entries WHERE stage = 'decision' AND owner_type != 'company' ORDER BY owner_id LIMIT 3").all() as { owner_type: string; owner_id: string }[]
      const held0 = entries.all(owners[0].owner_type, owners[0].owner_id) as Record<string, unknown>[]
      const [first, ...later] = [held0.find((e) => e.stage === STAGES[0])!, ...held0.filter((e) => e.stage !== STAGES[0])]
      // The first-stage entry deleted first and written last; the others deleted and written around it.
      remove.run(first)
      for (const e of later) remove.run(e)
      insert(later[0])
      insert(first)
      for (const e of later.slice(1)) insert(e)
      // Another owner left without a first-stage entry, another without their later ones.
      remove.run((entries.all(owners[1].owner_type, owners[1].owner_id) as Record<string, unknown>[]).find((e) => e.stage === STAGES[0])!)
      for (const e of entries.all(owners[2].owner_type, owners[2].owner_id) as Record<string, unknown>[]) if (e.stage !== STAGES[0]) remove.run(e)
    } finally {
      db.close()
    }
    expectRollupsCurrent()
  })

  it('keeps the rollups through an erasure and a rebuild of one site among several', async () => {
    const person = held.events.find((e) => e.kind === 'identify')!
    expect(await store.erasePerson(siteId, { email: person.name! })).toBeDefined()
    expectRollupsCurrent()
    await addSite(store, 'other.example')
    await store.rebuild(siteId)
    expectRollupsCurrent()
    for (const [, query] of queries) await check(query)
  })

  it('after a rebuild, for every range above', async () => {
    await store.rebuild()
    // A rebuild of every site counts the rollups from the folds it stores, not from the tables.
    expectRollupsCurrent()
    for (const [, query] of queries) await check(query)
    const { attribution, flows } = await check(queries[0][1])
    // The traffic reaches the attributed stages, from more than one touch, and stops at more than one stage.
    expect(new Set(attribution.map(([group]) => JSON.parse(group).stage)).size).toBeGreaterThan(1)
    expect(new Set(flows.map(([group]) => JSON.parse(group).stage)).size).toBeGreaterThan(2)
  })

  it('in a file an older Waymark wrote (schema 17, no rollups of entries): the same counts once it opens', async () => {
    const before = await Promise.all(queries.map(([, query]) => store.touchCounts(siteId, DEFAULT_JOURNEY.name, STAGES, query).then(merged)))
    await store.close()
    const older = new Database(held.path)
    older.exec(BACK_TO_SCHEMA_21 + BACK_TO_SCHEMA_20 + BACK_TO_SCHEMA_19 + BACK_TO_SCHEMA_18 + BACK_TO_SCHEMA_17)
    older.close()
    store = held.store = openSqliteStore(held.path)
    for (const [i, [, query]] of queries.entries()) expect(merged(await store.touchCounts(siteId, DEFAULT_JOURNEY.name, STAGES, query))).toEqual(before[i])
    expectRollupsCurrent()
  })
})
