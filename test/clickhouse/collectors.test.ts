import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCollector, type RunningCollector } from '../../collector/server'
import { addSite, hashSecret, randomToken } from '../../collector/sites'
import { eventRow } from '../../collector/store/clickhouse'
import { connectClickHouse } from '../../collector/store/clickhouse/connection'
import { runProcessor } from '../../collector/store/clickhouse/processor'
import type { EventRecord } from '../../collector/store/types'
import { batch, CHROME_UA, pageview } from '../collector/helpers'
import { eventMaker, random } from '../fixtures/traffic'
import { startClickHouse, type RunningClickHouse } from './server'

describe('several collectors writing to one ClickHouse', () => {
  let clickhouse: RunningClickHouse
  let dir: string
  let a: RunningCollector
  let b: RunningCollector
  let siteId: string
  let readToken: string
  let adminToken: string
  let stopProcessor = new AbortController()
  let processor: Promise<void>
  const startProcessor = (localClock?: () => number) => {
    stopProcessor = new AbortController()
    processor = runProcessor({ storeUrl: clickhouse.storeUrl('shared'), workPath: join(dir, 'processor.db'), signal: stopProcessor.signal, reconcileEveryMs: 500, localClock })
  }

  const post = (collector: RunningCollector, body: unknown) =>
    fetch(`${collector.url}/e`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'text/plain', Origin: 'https://www.example.com', 'User-Agent': CHROME_UA },
    })
  const eventsOf = async (visitorId: string) => {
    const found: EventRecord[] = []
    for await (const event of b.store.queryEvents({ siteId, visitorId })) found.push(event)
    return found
  }

  beforeAll(async () => {
    clickhouse = await startClickHouse()
    dir = mkdtempSync(join(tmpdir(), 'waymark-collectors-'))
    const storeUrl = clickhouse.storeUrl('shared')
    const start = (name: string) => startCollector({ port: 0, host: '127.0.0.1', dbPath: join(dir, `${name}-unused.db`), storeUrl, maxLoopLagMs: Infinity })
    ;[a, b] = [await start('a'), await start('b')]
    ;({ site: { id: siteId }, readToken, adminToken } = await addSite(a.store, 'example.com'))
    startProcessor()
  })

  afterAll(async () => {
    stopProcessor.abort()
    await processor
    await a?.close()
    await b?.close()
    await clickhouse?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('stores an event once when the tag retries it against another collector', async () => {
    const visitor = ulid()
    const now = Date.now()
    const sent = batch(siteId, [pageview({ id: ulid(), t: now - 2000 }), pageview({ id: ulid(), t: now - 1000, u: 'https://www.example.com/pricing' })], { v: visitor })
    for (const collector of [a, b, a]) expect((await post(collector, sent)).status).toBe(200)
    await b.store.settle()
    const stored = await eventsOf(visitor)
    expect(stored.map((e) => e.id).sort()).toEqual(sent.e.map((e) => e.id).sort())
    const sessions = []
    for await (const session of a.store.querySessions({ siteId, visitorId: visitor })) sessions.push(session)
    expect(sessions).toHaveLength(1)
    expect(sessions[0]).toMatchObject({ pageviews: 2, events: 2, entryPath: '/', exitPath: '/pricing' })
  })

  it('refuses a malformed event with its reason, and keeps the valid one beside it', async () => {
    const visitor = ulid()
    const good = pageview({ id: ulid() })
    const response = await post(a, batch(siteId, [good, { id: ulid(), k: 'p', t: 'yesterday' }], { v: visitor }))
    expect(response.status).toBe(400)
    const reply = await response.json()
    expect(reply.accepted).toBe(1)
    expect(reply.rejected[0]).toMatchObject({ index: 1 })
    expect(reply.rejected[0].reason).toEqual(expect.any(String))
    await a.store.settle()
    expect((await eventsOf(visitor)).map((e) => e.id)).toEqual([good.id])
  })

  it('joins a visit and a sign-up that reached different collectors into one person and one session', async () => {
    const visitor = ulid()
    const now = Date.now()
    expect((await post(a, batch(siteId, [pageview({ id: ulid(), t: now - 5000, u: 'https://www.example.com/demo' })], { v: visitor }))).status).toBe(200)
    const identify = { id: ulid(), k: 'i', t: now - 1000, u: 'https://www.example.com/demo', n: 'jane@acme-corp.example', p: { firstName: 'Jane' } }
    expect((await post(b, batch(siteId, [identify], { v: visitor }))).status).toBe(200)
    await a.store.settle()
    const person = await a.store.findPerson(siteId, { email: 'jane@acme-corp.example' })
    expect(person).toMatchObject({ visitorIds: [visitor], traits: { firstName: { value: 'Jane' } }, company: { domain: 'acme-corp.example' } })
    const sessions = []
    for await (const session of b.store.querySessions({ siteId, personId: person!.id })) sessions.push(session)
    expect(sessions).toHaveLength(1)
    expect(sessions[0]).toMatchObject({ personId: person!.id, companyId: person!.company!.id, events: 2 })
  })

  it('erases a person asked of one collector: their events leave ClickHouse for good, old versions of their rows included', async () => {
    const person = await a.store.findPerson(siteId, { email: 'jane@acme-corp.example' })
    expect(person).toBeDefined()
    const response = await fetch(`${b.url}/api/people?email=jane@acme-corp.example`, { method: 'DELETE', headers: { Authorization: `Bearer ${adminToken}` } })
    expect(response.status).toBe(200)
    expect((await response.json()).erased).toEqual({ personId: person!.id, visitorIds: 1, events: 2, sessions: 1 })
    expect(await a.store.findPerson(siteId, { email: 'jane@acme-corp.example' })).toBeUndefined()
    expect(await eventsOf(person!.visitorIds[0])).toEqual([])
    // Not hidden behind a tombstone: gone from every version of every row (no FINAL here).
    const raw = connectClickHouse(clickhouse.storeUrl('shared'))
    const visitor = `'${person!.visitorIds[0]}'`
    const left = await raw.rows<{ n: number }>(
      `SELECT (SELECT count() FROM shared.events WHERE visitor_id = ${visitor}) + (SELECT count() FROM shared.people WHERE email = 'jane@acme-corp.example' OR id = '${person!.id}')
         + (SELECT count() FROM shared.identities WHERE visitor_id = ${visitor}) + (SELECT count() FROM shared.sessions WHERE visitor_id = ${visitor})
         + (SELECT count() FROM shared.traits WHERE subject_id = '${person!.id}') AS n`,
    )
    await raw.close()
    expect(left[0].n).toBe(0)
    const again = await fetch(`${a.url}/api/people?email=jane@acme-corp.example`, { method: 'DELETE', headers: { Authorization: `Bearer ${adminToken}` } })
    expect(again.status).toBe(404)
  })

  it('folds an event whose insert landed long after its collector stamped it (past the passes’ overlap)', async () => {
    // The processor's passes have moved past that moment already.
    await a.store.settle()
    const visitor = ulid()
    const stamped = Date.now() - 60_000
    const late = eventMaker(siteId, random(5))(visitor, stamped, { path: '/late', url: 'https://www.example.com/late' })
    const raw = connectClickHouse(clickhouse.storeUrl('shared'))
    await raw.insert('events', [eventRow(late)])
    await raw.close()
    const sessionsOf = async () => {
      const found = []
      for await (const session of a.store.querySessions({ siteId, visitorId: visitor })) found.push(session)
      return found
    }
    const asked = Date.now()
    while (!(await sessionsOf()).length) {
      expect(Date.now() - asked).toBeLessThan(15_000)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(await sessionsOf()).toMatchObject([{ visitorId: visitor, entryPath: '/late', events: 1 }])
  })

  it('stamps, folds and settles by the server’s clock, whatever the clocks of the collectors’ and the processor’s machines say', async () => {
    const off = 20 * 60_000
    stopProcessor.abort()
    await processor
    startProcessor(() => Date.now() - off)
    const storeUrl = clickhouse.storeUrl('shared')
    const start = (name: string, skew: number) =>
      startCollector({ port: 0, host: '127.0.0.1', dbPath: join(dir, `${name}-unused.db`), storeUrl, maxLoopLagMs: Infinity, localClock: () => Date.now() + skew })
    const skewed = [await start('behind', -off), await start('ahead', off)]
    try {
      for (const collector of skewed) {
        const visitor = ulid()
        const sent = Date.now()
        expect((await post(collector, batch(siteId, [pageview({ id: ulid(), t: sent - 1000 })], { v: visitor, t: sent }))).status).toBe(200)
        // Stamped by its own clock, an event of the one behind would land where the passes had been
        // for good, and the one ahead would wait for passes twenty minutes away.
        await collector.store.settle()
        const [event] = await eventsOf(visitor)
        expect(Math.abs(event.receivedAt - sent)).toBeLessThan(3000)
        expect(Math.abs(event.occurredAt - (sent - 1000))).toBeLessThan(3000)
        const sessions = []
        for await (const session of a.store.querySessions({ siteId, visitorId: visitor })) sessions.push(session)
        expect(sessions).toMatchObject([{ visitorId: visitor, events: 1 }])
      }
    } finally {
      for (const collector of skewed) await collector.close()
      stopProcessor.abort()
      await processor
      startProcessor()
    }
  })

  it('queues an erasure asked while no processor runs, and carries it out once one does', async () => {
    const visitor = ulid()
    const identify = { id: ulid(), k: 'i', t: Date.now() - 1000, u: 'https://www.example.com/demo', n: 'max@acme-corp.example' }
    expect((await post(a, batch(siteId, [identify], { v: visitor }))).status).toBe(200)
    await a.store.settle()
    stopProcessor.abort()
    await processor
    const response = await fetch(`${a.url}/api/people?email=max@acme-corp.example`, { method: 'DELETE', headers: { Authorization: `Bearer ${adminToken}` } })
    expect(response.status).toBe(202)
    expect(await response.json()).toMatchObject({ queued: expect.any(String), message: expect.stringMatching(/no `waymark process` is running/) })
    expect(await a.store.findPerson(siteId, { email: 'max@acme-corp.example' })).toBeDefined()
    startProcessor()
    const asked = Date.now()
    // The person is gone from what collectors read first, then their events.
    while ((await a.store.findPerson(siteId, { email: 'max@acme-corp.example' })) || (await eventsOf(visitor)).length) {
      expect(Date.now() - asked).toBeLessThan(20_000)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  })

  it('refuses a read token replaced through one collector on every collector within seconds', async () => {
    const ask = (collector: RunningCollector, token: string) =>
      fetch(`${collector.url}/api/reports/funnel`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.status)
    expect(await ask(b, readToken)).toBe(200)
    const replacement = 'rt_' + randomToken(32)
    await a.store.updateSite(siteId, { readTokenHash: hashSecret(replacement) })
    const changed = Date.now()
    // Each collector keeps its own 5 s cache of sites: both must have turned it over within seconds.
    for (const collector of [b, a]) {
      while ((await ask(collector, readToken)) !== 401) {
        expect(Date.now() - changed).toBeLessThan(10_000)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      expect(await ask(collector, replacement)).toBe(200)
    }
  })
})
