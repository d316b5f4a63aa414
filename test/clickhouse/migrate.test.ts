import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportRows, parseExport } from '../../collector/export/export'
import { runReport } from '../../collector/reports'
import { addSite } from '../../collector/sites'
import { DEFAULT_CONFIG } from '../../collector/stages/config'
import { openClickHouseStore } from '../../collector/store/clickhouse'
import { migrateToClickHouse } from '../../collector/store/clickhouse/migrate'
import { runProcessor } from '../../collector/store/clickhouse/processor'
import { openSqliteStore } from '../../collector/store/sqlite'
import type { Store } from '../../collector/store/types'
import { waymark } from '../browser/processes'
import { eventMaker, generateTraffic, random } from '../fixtures/traffic'
import { startClickHouse, type RunningClickHouse } from './server'

const SEPTEMBER = Date.UTC(2026, 8, 1)

describe('waymark migrate --to clickhouse://', () => {
  let clickhouse: RunningClickHouse
  let dir: string
  let dbPath: string
  let siteId: string
  let events: number

  beforeAll(async () => {
    clickhouse = await startClickHouse()
    dir = mkdtempSync(join(tmpdir(), 'waymark-migrate-'))
    dbPath = join(dir, 'waymark.db')
    const sqlite = openSqliteStore(dbPath)
    const { site } = await addSite(sqlite, 'example.com')
    siteId = site.id
    const traffic = generateTraffic({ siteId, visitors: 200, seed: 31, start: SEPTEMBER })
    // Some page views left with their engagement reported: SQLite keeps it on the page view's row.
    const event = eventMaker(siteId, random(4))
    const engagement = traffic.events
      .filter((e, i) => e.kind === 'pageview' && i % 2 === 0)
      .map((view, i) => event(view.visitorId, view.occurredAt + 20_000, { kind: 'page_engagement', name: view.id, props: { scrollDepth: 30 + (i % 70), engagedMs: 4_000 + i } }))
    await sqlite.appendEvents([...traffic.events, ...engagement])
    events = traffic.events.length
    await sqlite.close()
  }, 60_000)

  afterAll(async () => {
    await clickhouse?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('copies in chunks, resumes where it was stopped, checks the counts, and the processor folds the history', async () => {
    const storeUrl = clickhouse.storeUrl('moved')
    const stop = new AbortController()
    let chunks = 0
    const first = await migrateToClickHouse({ dbPath, storeUrl, chunkRows: 300, signal: stop.signal, log: () => ++chunks === 2 && stop.abort() })
    expect(first).toMatchObject({ complete: false, copied: 600 })
    expect(first.counts).toEqual([{ siteId, domain: 'example.com', sqlite: events, clickhouse: 600 }])

    // The second run, as a user types it: it resumes after the 600 copied.
    const output = await waymark('migrate', '--db', dbPath, '--to', storeUrl)
    expect(output).toContain('resuming after row 600')
    expect(output).toContain(`example.com (${siteId}): ${events} events in SQLite, ${events} in ClickHouse`)
    expect(output).toContain('every count matches')
    expect(output).toMatch(new RegExp(`Copied ${events - 600} events of 1 site`))

    const stopProcessor = new AbortController()
    const processor = runProcessor({ storeUrl, workPath: join(dir, 'processor.db'), signal: stopProcessor.signal })
    const ch = await openClickHouseStore(storeUrl)
    const sqlite = openSqliteStore(dbPath, { checkJourneys: false })
    try {
      await ch.settle()
      const report = (store: Store, name: string) => runReport(store, DEFAULT_CONFIG, siteId, name, { from: '2026-09-01', to: '2026-10-20' }, Date.UTC(2026, 9, 20))
      for (const name of ['funnel', 'sources', 'content', 'length']) expect(await report(ch, name)).toEqual(await report(sqlite, name))
      const csv = async (store: Store, dataset: 'sessions' | 'events' | 'people') => {
        let text = ''
        for await (const chunk of exportRows(store, parseExport(siteId, DEFAULT_CONFIG, { dataset, format: 'csv' }))) text += Buffer.from(chunk).toString()
        return text
      }
      for (const dataset of ['sessions', 'events', 'people'] as const) expect(await csv(ch, dataset)).toBe(await csv(sqlite, dataset))
      // Engagement came across on the page views, and into the sessions' engaged time.
      expect(await csv(ch, 'sessions')).toMatch(/,true,/)
    } finally {
      stopProcessor.abort()
      await processor
      await ch.close()
      await sqlite.close()
    }
  }, 120_000)
})
