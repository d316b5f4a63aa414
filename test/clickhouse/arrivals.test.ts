import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openClickHouseStore } from '../../collector/store/clickhouse'
import { connectClickHouse, type ClickHouse } from '../../collector/store/clickhouse/connection'
import { dropOldArrivals, ensureSchema } from '../../collector/store/clickhouse/schema'
import type { Store } from '../../collector/store/types'
import { eventMaker, random } from '../fixtures/traffic'
import { startClickHouse, type RunningClickHouse } from './server'

const DAY = 86_400_000

describe('arrivals: the events by the time they were received, for the processor', () => {
  let clickhouse: RunningClickHouse
  let store: Store
  let ch: ClickHouse
  const event = eventMaker('site', random(9))
  const count = async (table: string) => (await ch.rows<{ n: number }>(`SELECT count() AS n FROM arrivals.${table}`))[0].n

  beforeAll(async () => {
    clickhouse = await startClickHouse()
    store = await openClickHouseStore(clickhouse.storeUrl('arrivals'))
    ch = connectClickHouse(clickhouse.storeUrl('arrivals'))
  })
  afterAll(async () => {
    await ch?.close()
    await store?.close()
    await clickhouse?.stop()
  })

  it('copies every stored event as it is inserted, and keeps this month and the last when old months are dropped', async () => {
    const now = Date.UTC(2026, 10, 23, 12)
    const received = [now, Date.UTC(2026, 9, 2), Date.UTC(2026, 8, 30), Date.UTC(2026, 5, 1)]
    await store.appendEvents(received.map((at, i) => ({ ...event(`v${i}`, at, {}), receivedAt: at })))
    expect(await count('events')).toBe(4)
    expect(await count('arrivals')).toBe(4)
    await dropOldArrivals(ch, now)
    // November and October stay; September and June go from arrivals, not from events.
    expect((await ch.rows<{ received_at: number }>('SELECT received_at FROM arrivals.arrivals ORDER BY received_at DESC')).map((r) => r.received_at)).toEqual(received.slice(0, 2))
    expect(await count('events')).toBe(4)
  })

  it('is filled with the last four weeks of events when an older database is upgraded', async () => {
    const now = Date.now()
    await store.appendEvents([3, 20, 40].map((days) => ({ ...event(`old${days}`, now - days * DAY, {}), receivedAt: now - days * DAY })))
    // The database as a Waymark before arrivals left it: no arrivals, schema at the step before.
    await ch.exec('DROP TABLE arrivals.arrivals_feed')
    await ch.exec('DROP TABLE arrivals.arrivals')
    await ch.exec('ALTER TABLE arrivals.schema_migrations DELETE WHERE version = 5')
    while ((await ch.rows<{ n: number }>('SELECT count() AS n FROM arrivals.schema_migrations WHERE version = 5'))[0].n) await new Promise((r) => setTimeout(r, 50))
    await ensureSchema(ch)
    const copied = (await ch.rows<{ visitor_id: string }>("SELECT visitor_id FROM arrivals.arrivals WHERE visitor_id LIKE 'old%' ORDER BY visitor_id")).map((r) => r.visitor_id)
    expect(copied).toEqual(['old20', 'old3'])
    await store.appendEvents([{ ...event('after', now, {}), receivedAt: now }])
    expect((await ch.rows<{ n: number }>("SELECT count() AS n FROM arrivals.arrivals WHERE visitor_id = 'after'"))[0].n).toBe(1)
  })
})
