import Database from 'better-sqlite3'
import { ulid } from 'ulid'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { applyRetention } from '../../collector/retention'
import { waymark } from '../browser/processes'
import { batch, collectorWithSite, pageview } from './helpers'

describe('erasure, retention and privacy signals', () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>>
  beforeEach(async () => {
    c = await collectorWithSite()
  })
  afterEach(() => c.close())

  /** A person on two browsers (a page view and an identify on each: 4 events), with a company; and a bystander. */
  async function twoPeople() {
    const [ann1, ann2, bob] = [ulid(), ulid(), ulid()]
    const now = Date.now()
    for (const v of [ann1, ann2])
      await c.post(batch(c.site.id, [pageview({ t: now - 5000, u: 'https://www.example.com/pricing' }), { id: ulid(), k: 'i', t: now - 4000, u: 'https://www.example.com/', n: 'ann@buyer.example', p: { title: 'CTO' } }], { v }))
    await c.post(batch(c.site.id, [pageview({ t: now - 3000 }), { id: ulid(), k: 'i', t: now - 2000, u: 'https://www.example.com/', n: 'bob@buyer.example' }], { v: bob }))
    const ann = (await c.collector.store.findPerson(c.site.id, { email: 'ann@buyer.example' }))!
    return { ann, annVisitors: [ann1, ann2], bob }
  }
  /** Every row of every table that names any of these strings. */
  const traces = (needles: string[]) => {
    const db = new Database(c.dbPath, { readonly: true })
    const found: string[] = []
    for (const table of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[])
      for (const row of db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[])
        if (needles.some((n) => JSON.stringify(row).includes(n))) found.push(table)
    db.close()
    return found
  }

  it('erases a person over HTTP with the admin token: events of every browser, sessions, stages, identity, traits', async () => {
    const { ann, annVisitors, bob } = await twoPeople()
    expect(traces([ann.id, ...annVisitors, 'ann@buyer.example']).length).toBeGreaterThan(0)
    const erase = (token: string | null, query = 'email=Ann@Buyer.example') =>
      fetch(`${c.url}/api/people?${query}`, { method: 'DELETE', headers: token ? { Authorization: `Bearer ${token}` } : {} })
    expect((await erase(null)).status).toBe(401)
    // The read token reads; it does not erase.
    expect((await erase(c.readToken)).status).toBe(401)
    const response = await erase(c.adminToken)
    expect(response.status).toBe(200)
    expect((await response.json()).erased).toMatchObject({ personId: ann.id, visitorIds: 2, events: 4, sessions: 2 })
    // Nothing left that names her, her browsers or her email, in any table.
    expect(traces([ann.id, ...annVisitors, 'ann@buyer.example'])).toEqual([])
    // Her company is recomputed from the people left: Bob.
    const company = (await c.collector.store.findCompany(c.site.id, { domain: 'buyer.example' }))!
    expect(company.people.map((p) => p.email)).toEqual(['bob@buyer.example'])
    expect((await c.collector.store.ownerJourney(c.site.id, { type: 'company', id: company.id }, 'b2b')).entries[0].sessionId).not.toBe(undefined)
    expect(traces([bob]).length).toBeGreaterThan(0)
    expect((await erase(c.adminToken)).status).toBe(404)
  })

  it('on a shared browser, erasing one person leaves the other’s refused identify, and erasing the other removes it', async () => {
    const shared = ulid()
    const now = Date.now()
    const identify = (email: string, t: number) => ({ id: ulid(), k: 'i', t, u: 'https://www.example.com/', n: email })
    await c.post(batch(c.site.id, [pageview({ t: now - 9000 }), identify('ann@buyer.example', now - 8000)], { v: shared }))
    // Bob on Ann's computer: the browser stays Ann's; Bob's identify is refused and recorded.
    await c.post(batch(c.site.id, [identify('bob@other.example', now - 7000)], { v: shared }))
    const erase = (email: string) => fetch(`${c.url}/api/people?email=${email}`, { method: 'DELETE', headers: { Authorization: `Bearer ${c.adminToken}` } })
    expect((await erase('ann@buyer.example')).status).toBe(200)
    expect(traces(['ann@buyer.example'])).toEqual([])
    expect(traces(['bob@other.example'])).toContain('events')
    expect((await erase('bob@other.example')).status).toBe(200)
    expect(traces(['bob@other.example'])).toEqual([])
  })

  it('erases what a server sent under the person’s user id, aliases included', async () => {
    const send = (path: string, body: object) =>
      fetch(`${c.url}/v1/${path}`, { method: 'POST', body: JSON.stringify(body), headers: { Authorization: `Basic ${Buffer.from(c.writeKey + ':').toString('base64')}` } })
    await send('identify', { userId: 'old-carol', traits: { email: 'carol@buyer.example' } })
    await send('alias', { previousId: 'old-carol', userId: 'carol-42' })
    await send('track', { userId: 'carol-42', event: 'Deal Won' })
    const response = await fetch(`${c.url}/api/people?userId=carol-42`, { method: 'DELETE', headers: { Authorization: `Bearer ${c.adminToken}` } })
    expect(response.status).toBe(200)
    expect(traces(['carol-42', 'old-carol', 'carol@buyer.example'])).toEqual([])
  })

  it('erases a person from the command line', async () => {
    const { annVisitors } = await twoPeople()
    await c.collector.close()
    const output = await waymark('person', 'delete', 'ann@buyer.example', '--db', c.dbPath)
    expect(output).toMatch(/Erased person \S+ from example.com: 4 events, 2 sessions, 2 browser ids/)
    expect(traces([...annVisitors, 'ann@buyer.example'])).toEqual([])
    await expect(waymark('person', 'delete', 'ann@buyer.example', '--db', c.dbPath)).rejects.toThrow(/no person/)
  })

  it('deletes raw events older than a site’s retention', async () => {
    const old = Date.now() - 40 * 86_400_000
    const event = (at: number) => ({ ...pageview(), id: ulid(at) })
    // Stored straight into the store: /e refuses events older than a week.
    const { events } = { events: [event(old), event(Date.now() - 1000)] }
    await c.collector.store.appendEvents(events.map((e) => ({
      id: e.id, siteId: c.site.id, visitorId: ulid(), kind: 'pageview' as const, name: null, occurredAt: ulidTime(e.id), receivedAt: Date.now(),
      url: e.u, path: '/', title: null, referrer: null, utmSource: null, utmMedium: null, utmCampaign: null, utmTerm: null, utmContent: null,
      gclid: null, fbclid: null, msclkid: null, liFatId: null, screenWidth: null, language: null, timezone: null, browser: null, os: null,
      device: null, isBot: false, props: null,
    })))
    expect(await applyRetention(c.collector.store)).toEqual([])
    await c.collector.store.updateSite(c.site.id, { retentionDays: 30 })
    expect(await applyRetention(c.collector.store)).toEqual([{ domain: 'example.com', deleted: 1 }])
    expect((await c.events()).map((e) => e.id)).toEqual([events[1].id])
  })

  it('stores nothing from a browser sending Global Privacy Control or Do Not Track, when the site honours them', async () => {
    const send = (headers: Record<string, string>) => c.post(batch(c.site.id, [pageview()]), headers)
    expect((await send({ 'Sec-GPC': '1' })).status).toBe(200)
    expect((await c.events()).length).toBe(1) // not honoured yet: stored
    await c.collector.store.updateSite(c.site.id, { honorPrivacySignals: true })
    await new Promise((resolve) => setTimeout(resolve, 5100)) // the collector's site cache
    const gpc = await send({ 'Sec-GPC': '1' })
    expect(gpc.status).toBe(200)
    expect(await gpc.json()).toEqual({ accepted: 0, rejected: [] })
    await send({ DNT: '1' })
    await send({})
    expect((await c.events()).length).toBe(2)
  }, 20_000)
})

/** The time a ULID was made at. */
function ulidTime(id: string) {
  return [...id.slice(0, 10)].reduce((t, ch) => t * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(ch), 0)
}
