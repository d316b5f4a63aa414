import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addSite } from '../../../collector/sites'
import { DEFAULT_CONFIG, type WaymarkConfig } from '../../../collector/stages/config'
import { openSqliteStore } from '../../../collector/store/sqlite'
import type { StageMove, Store } from '../../../collector/store/types'
import { rangesOf } from '../../fixtures/store-file'
import { generateTraffic, shuffledBatches } from '../../fixtures/traffic'

const START = Date.UTC(2026, 2, 1)
/** The default journey, and a second whose moves the first's reads must leave out. */
const CONFIG: WaymarkConfig = {
  ...DEFAULT_CONFIG,
  journeys: [...DEFAULT_CONFIG.journeys, { name: 'pricing', stages: [{ name: 'visited', when: [{ visit: true }] }, { name: 'priced', when: [{ path: '/pricing*' }] }] }],
}

// The calls-to-action report reads who moved on and when, from an index alone. What the store gives
// must be the journey's transitions as queryTransitions gives them, less their sessions.
describe('the SQLite store: moves through a journey, as who and when', () => {
  let dir: string
  let store: Store
  let siteId: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-moves-'))
    store = openSqliteStore(join(dir, 'waymark.db'), { config: CONFIG })
    siteId = (await addSite(store, 'example.com')).site.id
    const { events } = generateTraffic({ siteId, visitors: 200, seed: 67, start: START })
    for (const batch of shuffledBatches(events, 67)) await store.appendEvents(batch)
  })
  afterAll(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const inOrder = (a: StageMove, b: StageMove) => a.at - b.at || a.ownerType.localeCompare(b.ownerType) || a.ownerId.localeCompare(b.ownerId)

  it.each(rangesOf(START))('%s', async (_, range) => {
    for (const journey of ['b2b', 'pricing']) {
      const folded: StageMove[] = []
      await store.foldStageMoves({ siteId, journey, ...range }, (move) => folded.push(move))
      const transitions: StageMove[] = []
      for await (const t of store.queryTransitions({ siteId, journey, ...range })) transitions.push({ ownerType: t.ownerType, ownerId: t.ownerId, at: t.at })
      expect(folded.length, journey).toBeGreaterThan(20)
      expect(folded.sort(inOrder), journey).toEqual(transitions.sort(inOrder))
    }
  })
})
