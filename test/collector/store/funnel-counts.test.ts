import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { funnelCountsFold, type FunnelQuery } from '../../../collector/reports/funnel'
import { addSite } from '../../../collector/sites'
import { DEFAULT_JOURNEY } from '../../../collector/stages/config'
import { openSqliteStore } from '../../../collector/store/sqlite'
import type { Store } from '../../../collector/store/types'
import { BACK_TO_SCHEMA_12, BACK_TO_SCHEMA_13, BACK_TO_SCHEMA_14, BACK_TO_SCHEMA_15, BACK_TO_SCHEMA_16, BACK_TO_SCHEMA_17, BACK_TO_SCHEMA_18, BACK_TO_SCHEMA_19, BACK_TO_SCHEMA_20, BACK_TO_SCHEMA_21 } from '../../fixtures/older-schemas'
import { removeStore, storeWithTraffic } from '../../fixtures/store-file'
import { generateTraffic, shuffledBatches } from '../../fixtures/traffic'

const DAY = 86_400_000
const START = Date.UTC(2026, 2, 1)
const STAGES = DEFAULT_JOURNEY.stages.map((s) => s.name)

/** The counts by their definition: every owner's stage times, folded one by one. */
async function folded(store: Store, siteId: string, query: FunnelQuery) {
  const fold = funnelCountsFold(STAGES, query)
  for await (const owner of store.queryStageTimes(siteId, DEFAULT_JOURNEY.name, STAGES)) fold.add(owner)
  return fold.result()
}

const byStage = (counts: Awaited<ReturnType<Store['funnelCounts']>>) => ({
  ...counts,
  flows: [...counts.flows].filter((f) => f.entered > 0).sort((a, b) => `${a.stage} ${a.owners}`.localeCompare(`${b.stage} ${b.owners}`)),
})

// The store counts the funnel from each entry's own row (when its owner entered the next stage),
// kept as visitors' events arrive out of order, as sign-ups join them to people and companies, and
// by a rebuild. Its counts must be those of pairing every owner's entries, for any range.
describe('the SQLite store: the funnel counted from stage entries equals its definition', () => {
  let dir: string
  let store: Store
  let siteId: string
  const queries: [string, FunnelQuery][] = [
    ['all time, judged now', { asOf: START + 90 * DAY, stalledBefore: START + 60 * DAY, limit: 20 }],
    ['a fortnight, judged at its end', { from: START + 7 * DAY, to: START + 21 * DAY, asOf: START + 21 * DAY, stalledBefore: START + 14 * DAY, limit: 20 }],
    ['from a day on, to the millisecond', { from: START + DAY + 12_345, asOf: START + 40 * DAY + 1, stalledBefore: START + 10 * DAY + 7, limit: 5 }],
    ['up to a moment', { to: START + 10 * DAY + 3_600_000, asOf: START + 10 * DAY + 3_600_000, stalledBefore: START + 3 * DAY, limit: 1000 }],
  ]

  beforeAll(async () => {
    ;({ store, siteId, dir } = await storeWithTraffic({ visitors: 1500, seed: 41, start: START }))
  })
  // The store of the moment: the upgrade below opens another.
  afterAll(() => removeStore({ store, dir }))

  it.each(queries)('as events arrive: %s', async (_, query) => {
    const counted = byStage(await store.funnelCounts(siteId, DEFAULT_JOURNEY.name, STAGES, query))
    expect(counted.flows.length).toBeGreaterThan(4)
    expect(counted).toEqual(byStage(await folded(store, siteId, query)))
  })

  it('after a rebuild, for every range above', async () => {
    await store.rebuild()
    for (const [, query] of queries) {
      const counted = byStage(await store.funnelCounts(siteId, DEFAULT_JOURNEY.name, STAGES, query))
      expect(counted).toEqual(byStage(await folded(store, siteId, query)))
    }
    const [, allTime] = queries[0]
    const { stalled, flows } = await store.funnelCounts(siteId, DEFAULT_JOURNEY.name, STAGES, allTime)
    expect(stalled.total).toBeGreaterThan(20)
    expect(flows.find((f) => f.stage === 'decision' && f.owners === 'people')?.movedOn).toBeGreaterThan(0)
  })

  it('in a file an older Waymark wrote (schema 12, no next stage times): upgraded and rebuilt as it opens', async () => {
    const path = join(dir, 'waymark.db')
    await store.close()
    const older = new Database(path)
    older.exec(BACK_TO_SCHEMA_21 + BACK_TO_SCHEMA_20 + BACK_TO_SCHEMA_19 + BACK_TO_SCHEMA_18 + BACK_TO_SCHEMA_17 + BACK_TO_SCHEMA_16 + BACK_TO_SCHEMA_15 + BACK_TO_SCHEMA_14 + BACK_TO_SCHEMA_13 + BACK_TO_SCHEMA_12)
    older.close()
    store = openSqliteStore(path)
    for (const [, query] of queries) {
      const counted = byStage(await store.funnelCounts(siteId, DEFAULT_JOURNEY.name, STAGES, query))
      expect(counted).toEqual(byStage(await folded(store, siteId, query)))
    }
  })

  it('in a database in memory, read on one thread (no file for a second connection), the same', async () => {
    const memory = openSqliteStore(':memory:')
    try {
      const site = (await addSite(memory, 'example.com')).site.id
      for (const batch of shuffledBatches(generateTraffic({ siteId: site, visitors: 300, seed: 43, start: START }).events, 43)) await memory.appendEvents(batch)
      await memory.settle()
      for (const [, query] of queries) {
        const counted = byStage(await memory.funnelCounts(site, DEFAULT_JOURNEY.name, STAGES, query))
        expect(counted).toEqual(byStage(await folded(memory, site, query)))
      }
    } finally {
      await memory.close()
    }
  })
})
