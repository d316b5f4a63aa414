import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attributedStages, touchCountsOf, type TouchCounts, type TouchQuery } from '../../../collector/reports/sources'
import { DEFAULT_JOURNEY } from '../../../collector/stages/config'
import type { Store } from '../../../collector/store/types'
import { removeStore, storeWithTraffic, type TrafficStore } from '../../fixtures/store-file'

const DAY = 86_400_000
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

  it('after a rebuild, for every range above', async () => {
    await store.rebuild()
    for (const [, query] of queries) await check(query)
    const { attribution, flows } = await check(queries[0][1])
    // The traffic reaches the attributed stages, from more than one touch, and stops at more than one stage.
    expect(new Set(attribution.map(([group]) => JSON.parse(group).stage)).size).toBeGreaterThan(1)
    expect(new Set(flows.map(([group]) => JSON.parse(group).stage)).size).toBeGreaterThan(2)
  })
})
