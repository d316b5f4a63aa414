import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addSite } from '../../collector/sites'
import { openClickHouseStore } from '../../collector/store/clickhouse'
import { connectClickHouse } from '../../collector/store/clickhouse/connection'
import { runProcessor } from '../../collector/store/clickhouse/processor'
import { MIRRORED_TABLES } from '../../collector/store/clickhouse/schema'
import type { Store } from '../../collector/store/types'
import { eventMaker, generateTraffic, random, shuffledBatches } from '../fixtures/traffic'
import { startClickHouse, type RunningClickHouse } from './server'

const SEPTEMBER = Date.UTC(2026, 8, 1)

describe('a processor whose fold starts from nothing: a backlog folded in one go', () => {
  let clickhouse: RunningClickHouse
  let dir: string
  let store: Store
  let siteId: string
  let stop = new AbortController()
  let processor: Promise<void> | undefined
  let logs: string[] = []
  const startProcessor = (workFile: string) => {
    stop = new AbortController()
    logs = []
    processor = runProcessor({ storeUrl: clickhouse.storeUrl('takeover'), workPath: join(dir, workFile), signal: stop.signal, log: (line) => logs.push(line) })
  }
  const stopProcessor = async () => {
    stop.abort()
    await processor
  }
  /** Every published row that stands (tombstones left out), without its version, in one order; and the lowest version among them. */
  const published = async () => {
    const raw = connectClickHouse(clickhouse.storeUrl('takeover'))
    const tables: Record<string, string[]> = {}
    let lowest = Infinity
    for (const table of Object.keys(MIRRORED_TABLES)) {
      const rows = await raw.rows<Record<string, unknown>>(`SELECT * FROM (SELECT * FROM takeover.${table} FINAL) WHERE _deleted = 0`)
      tables[table] = rows.map(({ _version, _deleted, ...row }) => {
        lowest = Math.min(lowest, _version as number)
        return JSON.stringify(row)
      }).sort()
    }
    let highest = 0
    for (const table of Object.keys(MIRRORED_TABLES))
      highest = Math.max(highest, (await raw.rows<{ v: number }>(`SELECT max(_version) AS v FROM takeover.${table}`))[0].v)
    await raw.close()
    return { tables, lowest, highest }
  }

  beforeAll(async () => {
    clickhouse = await startClickHouse()
    dir = mkdtempSync(join(tmpdir(), 'waymark-takeover-'))
    store = await openClickHouseStore(clickhouse.storeUrl('takeover'))
    ;({ site: { id: siteId } } = await addSite(store, 'example.com'))
    // The first processor folds pass by pass, as the events arrive in small batches, out of order.
    startProcessor('first.db')
    const traffic = generateTraffic({ siteId, visitors: 200, seed: 21, start: SEPTEMBER })
    const batches = shuffledBatches(traffic.events, 4)
    for (let i = 0; i < batches.length; i += 40) await store.appendEvents(batches.slice(i, i + 40).flat().map((e) => ({ ...e, receivedAt: store.now() })))
    await store.settle()
  }, 120_000)

  afterAll(async () => {
    await stopProcessor()
    await store?.close()
    await clickhouse?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('publishes, taking over, what the processor before it folded pass by pass, row for row; then folds pass by pass', async () => {
    const { tables: before, highest } = await published()
    expect(before.sessions.length).toBeGreaterThan(100)
    expect(before.people.length).toBeGreaterThan(10)
    expect(before.stage_entries.length).toBeGreaterThan(100)

    await stopProcessor()
    startProcessor('second.db')
    await store.settle()
    expect(logs.join('\n')).toMatch(/taking over from another processor[\s\S]*folded the \d+ events received so far in one go/)
    const after = await published()
    expect(after.tables).toEqual(before)
    // Each of them published again by the new processor, not left standing from the one before.
    expect(after.lowest).toBeGreaterThan(highest)

    // New events after it: folded as they arrive.
    const visitor = ulid()
    await store.appendEvents([{ ...eventMaker(siteId, random(3))(visitor, Date.now() - 1000, { path: '/after', url: 'https://www.example.com/after' }), receivedAt: store.now() }])
    await store.settle()
    const sessions = []
    for await (const session of store.querySessions({ siteId, visitorId: visitor })) sessions.push(session)
    expect(sessions).toMatchObject([{ visitorId: visitor, entryPath: '/after', events: 1 }])
  }, 120_000)
})
