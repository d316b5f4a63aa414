import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newHook } from '../../collector/alerts/hooks'
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
import { sleep } from '../collector/alerts-receiver'
import { startClickHouse, type RunningClickHouse } from './server'

const SEPTEMBER = Date.UTC(2026, 8, 1)

describe('waymark migrate --to clickhouse://', () => {
  let clickhouse: RunningClickHouse
  let dir: string
  let dbPath: string
  let siteId: string
  let events: number
  let alerted: number

  beforeAll(async () => {
    clickhouse = await startClickHouse()
    dir = mkdtempSync(join(tmpdir(), 'waymark-migrate-'))
    dbPath = join(dir, 'waymark.db')
    const sqlite = openSqliteStore(dbPath)
    const { site } = await addSite(sqlite, 'example.com')
    siteId = site.id
    // A stage hook made before the history, whose alerts SQLite has queued and delivered: nowhere to send them again.
    await sqlite.addAlertHook(newHook(DEFAULT_CONFIG, { siteId, url: 'http://127.0.0.1:9/hooks', stage: 'consideration' }, SEPTEMBER - 1))
    const traffic = generateTraffic({ siteId, visitors: 200, seed: 31, start: SEPTEMBER })
    // Some page views left with their engagement reported: SQLite keeps it on the page view's row.
    const event = eventMaker(siteId, random(4))
    const engagement = traffic.events
      .filter((e, i) => e.kind === 'pageview' && i % 2 === 0)
      .map((view, i) => event(view.visitorId, view.occurredAt + 20_000, { kind: 'page_engagement', name: view.id, props: { scrollDepth: 30 + (i % 70), engagedMs: 4_000 + i } }))
    await sqlite.appendEvents([...traffic.events, ...engagement])
    events = traffic.events.length
    await sqlite.settle()
    for (const alert of await sqlite.claimAlerts(Date.now(), Date.now() + 60_000, 10_000))
      await sqlite.recordAlertAttempt(alert.id, { at: Date.now(), durationMs: 12.5, status: 200, error: null, next: { delivered: true } })
    alerted = (await sqlite.listAlertHooks())[0].delivered
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
      // The hook and its delivered alerts came across; the fold of the history queued none again.
      expect(alerted).toBeGreaterThan(10)
      await sleep(1000)
      expect(await ch.listAlertHooks(siteId)).toMatchObject([{ stage: 'consideration', delivered: alerted, pending: 0, gaveUp: 0 }])
    } finally {
      stopProcessor.abort()
      await processor
      await ch.close()
      await sqlite.close()
    }
  }, 120_000)
})
