import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newHook } from '../../collector/alerts/hooks'
import { startCollector, type RunningCollector } from '../../collector/server'
import { addSite } from '../../collector/sites'
import { DEFAULT_CONFIG } from '../../collector/stages/config'
import { connectClickHouse } from '../../collector/store/clickhouse/connection'
import { runProcessor } from '../../collector/store/clickhouse/processor'
import type { AlertHookStatus } from '../../collector/store/types'
import { receiver, sleep, verify } from '../collector/alerts-receiver'
import { batch, CHROME_UA, demoRequest, pageview } from '../collector/helpers'
import { startClickHouse, startClickHouseCluster, type RunningClickHouse } from './server'

describe.each([
  ['one server', startClickHouse],
  ['two shards', () => startClickHouseCluster(2)],
])('stage alerts on ClickHouse (%s): queued and sent by the processor, read by every collector', (_, start: () => Promise<RunningClickHouse>) => {
  let clickhouse: RunningClickHouse
  let dir: string
  let collector: RunningCollector
  let siteId: string
  let adminToken: string
  let stop = new AbortController()
  let processor: Promise<void>
  const startProcessor = (workFile: string) => {
    stop = new AbortController()
    processor = runProcessor({ storeUrl: clickhouse.storeUrl('alerts'), workPath: join(dir, workFile), signal: stop.signal, alerts: { pollMs: 100 } })
  }
  const stopProcessor = async () => {
    stop.abort()
    await processor
  }
  const send = (visitor: string, events: unknown[]) =>
    fetch(`${collector.url}/e`, {
      method: 'POST',
      body: JSON.stringify(batch(siteId, events, { v: visitor })),
      headers: { 'Content-Type': 'text/plain', Origin: 'https://www.example.com', 'User-Agent': CHROME_UA },
    }).then((response) => expect(response.status).toBe(200))
  /** Waits until the collector reads what the processor published. */
  const until = async <T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000) => {
    const started = Date.now()
    for (;;) {
      const value = await read()
      if (ok(value)) return value
      if (Date.now() - started > timeoutMs) return value
      await sleep(100)
    }
  }

  beforeAll(async () => {
    clickhouse = await start()
    dir = mkdtempSync(join(tmpdir(), 'waymark-ch-alerts-'))
    collector = await startCollector({ port: 0, host: '127.0.0.1', dbPath: join(dir, 'unused.db'), storeUrl: clickhouse.storeUrl('alerts'), maxLoopLagMs: Infinity })
    ;({ site: { id: siteId }, adminToken } = await addSite(collector.store, 'example.com'))
    startProcessor('first.db')
  })

  afterAll(async () => {
    await stopProcessor()
    await collector?.close()
    await clickhouse?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('alerts once when a person enters the stage, through a takeover that folds everything again; erasing them erases their alerts', async () => {
    const r = await receiver()
    const hook = newHook(DEFAULT_CONFIG, { siteId, url: r.url, stage: 'decision' })
    await collector.store.addAlertHook(hook)
    expect((await collector.store.listAlertHooks(siteId)).map((h) => h.id)).toEqual([hook.id])

    const visitor = ulid()
    await send(visitor, demoRequest('https://www.example.com', 'ada@acme.io', { firstName: 'Ada' }))
    await r.waitFor(1, 15_000)
    const [{ headers, raw, body }] = r.received
    expect(verify(hook.secret, headers['waymark-signature'] as string, raw)).toBe(true)
    expect(body).toMatchObject({ type: 'stage.entered', stage: 'decision', from: 'consideration', owner: { email: 'ada@acme.io', name: 'Ada' } })

    // What any collector lists and logs: the delivery, published by the processor.
    const delivered = (hooks: AlertHookStatus[]) => hooks[0]?.delivered === 1
    expect(await until(() => collector.store.listAlertHooks(siteId), delivered)).toMatchObject([{ id: hook.id, pending: 0, delivered: 1, gaveUp: 0 }])
    expect(await collector.store.alertLog({ siteId, limit: 10 })).toMatchObject([
      { alertId: body.id, hookId: hook.id, siteId, kind: 'stage', stage: 'decision', ownerType: 'person', owner: 'ada@acme.io', attempt: 1, status: 200, error: null },
    ])

    // Another processor, with a fold of its own, takes over and folds every event again: the entry alerts no second time.
    await stopProcessor()
    startProcessor('second.db')
    await send(visitor, [pageview({ u: 'https://www.example.com/pricing' })])
    await collector.store.settle()
    await sleep(1000)
    expect(r.received).toHaveLength(1)
    expect(await collector.store.listAlertHooks(siteId)).toMatchObject([{ delivered: 1, pending: 0 }])

    // Erased: their alert and its log go, in every version ClickHouse held.
    const response = await fetch(`${collector.url}/api/people?email=ada@acme.io`, { method: 'DELETE', headers: { Authorization: `Bearer ${adminToken}` } })
    expect(response.status).toBe(200)
    expect(await collector.store.alertLog({ siteId, limit: 10 })).toEqual([])
    const raw_ = connectClickHouse(clickhouse.storeUrl('alerts'))
    const [{ n }] = await raw_.rows<{ n: number }>(
      `SELECT (SELECT count() FROM alerts.alert_outbox WHERE position(body, 'ada@acme.io') > 0 OR id = '${body.id}') + (SELECT count() FROM alerts.alert_deliveries WHERE outbox_id = '${body.id}') AS n`,
    )
    await raw_.close()
    expect(n).toBe(0)

    // Removed through the collector: gone from the list, and the processor alerts for it no more.
    expect(await collector.store.removeAlertHook(hook.id)).toEqual({ dropped: 0 })
    expect(await collector.store.listAlertHooks(siteId)).toEqual([])
    expect(await collector.store.removeAlertHook(hook.id)).toBeUndefined()
    await send(ulid(), demoRequest('https://www.example.com', 'bob@acme.io'))
    await collector.store.settle()
    await sleep(1000)
    expect(r.received).toHaveLength(1)
    await r.close()
  }, 90_000)

})
