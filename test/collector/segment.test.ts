import { gzipSync } from 'node:zlib'
import { ulid } from 'ulid'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { EventRecord } from '../../collector/store/types'
import { batch, collectorWithSite } from './helpers'

describe('the Segment-spec API (/v1)', () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>>
  beforeEach(async () => {
    c = await collectorWithSite('acme-site.example')
  })
  afterEach(() => c.close())

  const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`
  const send = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${c.url}/v1/${path}`, {
      method: 'POST',
      body: typeof body === 'string' ? body : body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Authorization: basic(c.writeKey), ...headers },
    })
  const stored = async () => {
    const events: EventRecord[] = []
    for await (const event of c.collector.store.queryEvents({ siteId: c.site.id })) events.push(event)
    return events
  }
  const stageOf = async (type: 'person' | 'company', id: string) => (await c.collector.store.ownerJourney(c.site.id, { type, id }, 'b2b')).stage

  it('takes each call of the spec and stores it as its kind', async () => {
    const calls: [string, object][] = [
      ['track', { userId: 'u1', event: 'Deal Won', properties: { amount: 12000 } }],
      ['page', { anonymousId: 'anon-1', name: 'Pricing', properties: { url: 'https://acme-site.example/pricing?utm_source=x&secret=1', title: 'Pricing' } }],
      ['screen', { userId: 'u1', name: 'Dashboard' }],
      ['identify', { userId: 'u1', traits: { email: 'Ann@Buyer.example', title: 'CTO' } }],
      ['group', { userId: 'u1', groupId: 'acct-9', traits: { name: 'Buyer Inc', industry: 'Software' } }],
      ['alias', { userId: 'u1', previousId: 'anon-1' }],
    ]
    for (const [path, message] of calls) {
      const response = await send(path, message)
      expect(response.status, path).toBe(200)
      expect(await response.json()).toEqual({ success: true })
    }
    const events = await stored()
    const byKind = Object.fromEntries(events.map((e) => [e.kind + (e.name === 'Dashboard' ? ':screen' : ''), e]))
    expect(byKind.track).toMatchObject({ name: 'Deal Won', userId: 'u1', visitorId: 'user:u1', props: { amount: 12000 }, url: '' })
    // The page's URL keeps only what the snippet's would: the UTM value, not the secret.
    expect(byKind.pageview).toMatchObject({ visitorId: 'anon-1', url: 'https://acme-site.example/pricing?utm_source=x', path: '/pricing', utmSource: 'x', title: 'Pricing' })
    expect(byKind['pageview:screen']).toMatchObject({ path: 'Dashboard', title: 'Dashboard' })
    expect(byKind.identify).toMatchObject({ name: 'u1', props: { email: 'Ann@Buyer.example', title: 'CTO' } })
    expect(byKind.group).toMatchObject({ name: 'acct-9', props: { industry: 'Software' } })
    expect(byKind.alias).toMatchObject({ name: 'u1', props: { previousId: 'anon-1' } })

    // The identity graph: one person with the user id, the email, the company; both ids theirs.
    const person = (await c.collector.store.findPerson(c.site.id, { userId: 'u1' }))!
    expect(person).toMatchObject({ email: 'ann@buyer.example', traits: { title: { value: 'CTO' } } })
    expect(person.visitorIds.sort()).toEqual(['anon-1', 'user:u1'])
    expect(person.company).toMatchObject({ groupId: 'acct-9', traits: { industry: { value: 'Software' } } })
  })

  it('takes a batch, with the write key in the body, gzipped', async () => {
    const body = gzipSync(JSON.stringify({
      writeKey: c.writeKey,
      batch: [
        { type: 'identify', userId: 'u2', traits: { email: 'bob@buyer.example' } },
        { type: 'track', userId: 'u2', event: 'Invoice Paid' },
      ],
    }))
    const response = await send('batch', body, { Authorization: '', 'Content-Encoding': 'gzip' })
    expect(response.status).toBe(200)
    expect((await stored()).map((e) => e.kind).sort()).toEqual(['identify', 'track'])
  })

  it('refuses a wrong or missing write key with 401, and stores nothing', async () => {
    const message = { userId: 'u1', event: 'Deal Won' }
    const wrong = await send('track', message, { Authorization: basic('wk_wrong') })
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toMatchObject({ success: false, error: expect.stringMatching(/write key/) })
    expect((await send('track', message, { Authorization: '' })).status).toBe(401)
    // The read token is no write key.
    expect((await send('track', message, { Authorization: basic(c.readToken) })).status).toBe(401)
    // The public site id is no write key for a server: only for a browser on the site's pages.
    expect((await send('track', message, { Authorization: basic(c.site.id) })).status).toBe(401)
    expect(await stored()).toEqual([])
  })

  it("takes a browser library's calls with the public site id from the site's own pages, never an alias", async () => {
    const headers = { Authorization: '', 'Content-Type': 'text/plain', Origin: 'https://www.acme-site.example' }
    const page = await send('p', { writeKey: c.site.id, anonymousId: 'anon-b', properties: { url: 'https://www.acme-site.example/' } }, headers)
    expect(page.status).toBe(200)
    expect(page.headers.get('access-control-allow-origin')).toBe('https://www.acme-site.example')
    const alias = await send('alias', { writeKey: c.site.id, userId: 'u9', previousId: 'u8' }, headers)
    expect(alias.status).toBe(400)
    expect((await alias.json()).rejected[0].reason).toMatch(/secret write key/)
    const elsewhere = await send('p', { writeKey: c.site.id, anonymousId: 'anon-b' }, { ...headers, Origin: 'https://evil.example' })
    expect(elsewhere.status).toBe(401)
    expect((await stored()).map((e) => e.visitorId)).toEqual(['anon-b'])
  })

  it('keeps the valid messages of a batch beside the refused ones, each refusal with its reason', async () => {
    const response = await send('batch', {
      batch: [
        { type: 'track', userId: 'u1', event: 'Deal Won', messageId: 'ok-1' },
        { type: 'track', event: 'Nobody', messageId: 'bad-1' },
        { type: 'track', userId: 'u1', messageId: 'bad-2' },
        { type: 'launch', userId: 'u1', messageId: 'bad-3' },
        { type: 'track', userId: 'u1', event: 'Big', properties: { blob: 'x'.repeat(1000), more: Array.from({ length: 40 }, () => 'y'.repeat(1000)) }, messageId: 'bad-4' },
      ],
    })
    expect(response.status).toBe(400)
    const reply = await response.json()
    expect(reply.accepted).toBe(1)
    expect(reply.rejected.map((r: { index: number; messageId: string }) => [r.index, r.messageId])).toEqual([[1, 'bad-1'], [2, 'bad-2'], [3, 'bad-3'], [4, 'bad-4']])
    expect(reply.rejected[0].reason).toMatch(/userId or an anonymousId/)
    expect(reply.rejected[1].reason).toMatch(/needs "event"/)
    expect(reply.rejected[2].reason).toMatch(/"type" must be one of/)
    expect(reply.rejected[3].reason).toMatch(/larger than 32 KB/)
    expect((await stored()).map((e) => e.id)).toEqual([`${c.site.id}:ok-1`])
  })

  it('refuses a request over 500 KB, or not JSON, with 400', async () => {
    const huge = { batch: Array.from({ length: 600 }, (_, i) => ({ type: 'track', userId: 'u1', event: 'E', properties: { pad: 'z'.repeat(900) }, messageId: `m${i}` })) }
    const tooLarge = await send('batch', huge)
    expect(tooLarge.status).toBe(400)
    expect((await tooLarge.json()).error).toMatch(/larger than 500 KB/)
    // The same when it comes small and gzipped: the limit is on what it unpacks to.
    const zipped = await send('batch', gzipSync(JSON.stringify(huge)), { 'Content-Encoding': 'gzip' })
    expect(zipped.status).toBe(400)
    expect((await send('track', '{"userId": ')).status).toBe(400)
    expect((await send('track', 'not gzip', { 'Content-Encoding': 'gzip' })).status).toBe(400)
    expect(await stored()).toEqual([])
  })

  it('refuses times no clock could mean: before 2000, or not finite', async () => {
    const reply = await send('batch', {
      batch: [
        { type: 'identify', userId: 'u1', timestamp: '1969-12-31T23:59:59Z' },
        { type: 'track', anonymousId: 'a1', event: 'E', timestamp: -8.7e15 },
        { type: 'track', anonymousId: 'a1', event: 'E', sentAt: '+275760-09-13T00:00:00.000Z', timestamp: '2026-01-01T00:00:00Z' },
      ],
    })
    expect(reply.status).toBe(400)
    const { rejected } = await reply.json()
    expect(rejected.map((r: { index: number }) => r.index)).toEqual([0, 1, 2])
    expect(rejected[0].reason).toMatch(/from 2000 on/)
    // A timestamp of 1e400 parses as Infinity.
    expect((await send('track', '{"anonymousId": "a1", "event": "E", "timestamp": -1e400}')).status).toBe(400)
    expect(await stored()).toEqual([])
  })

  it('refuses a message nested too deeply to measure, keeping the rest', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000)
    const response = await send('batch', `{"batch": [{"type": "track", "userId": "u1", "event": "Deep", "context": ${deep}}, {"type": "track", "userId": "u1", "event": "Fine"}]}`)
    expect(response.status).toBe(400)
    expect((await response.json()).rejected[0].reason).toMatch(/nests too deeply/)
    expect((await stored()).map((e) => e.name)).toEqual(['Fine'])
  })

  it('stores a resent messageId once, by whichever endpoint it comes', async () => {
    const message = { userId: 'u1', event: 'Deal Won', messageId: 'crm-deal-42' }
    await send('track', message)
    await send('track', message)
    await send('batch', { batch: [{ ...message, type: 'track' }] })
    expect((await stored()).map((e) => e.id)).toEqual([`${c.site.id}:crm-deal-42`])
  })

  it("corrects the sender's clock skew with sentAt, as the spec describes", async () => {
    // The sender's clock runs an hour fast: it stamped the event 10 s before it sent it.
    const senderNow = Date.now() + 3_600_000
    const before = Date.now()
    await send('track', { userId: 'u1', event: 'Deal Won', timestamp: new Date(senderNow - 10_000).toISOString(), sentAt: new Date(senderNow).toISOString() })
    const [event] = await stored()
    expect(event.occurredAt).toBeGreaterThanOrEqual(before - 10_000 - 50)
    expect(event.occurredAt).toBeLessThanOrEqual(Date.now() - 10_000 + 50)
    // In a batch, the batch's sentAt corrects every message.
    await send('batch', { sentAt: new Date(senderNow).toISOString(), batch: [{ type: 'track', userId: 'u1', event: 'Later', timestamp: new Date(senderNow - 60_000).toISOString() }] })
    const later = (await stored()).find((e) => e.name === 'Later')!
    expect(Math.abs(later.occurredAt - (Date.now() - 60_000))).toBeLessThan(2_000)
  })

  it("moves a person and their company to purchase on the CRM's Deal Won, joining the snippet's visitor", async () => {
    // On the website: a visitor requests a demo and identifies with a work email.
    const visitor = ulid()
    const now = Date.now()
    const page = 'https://www.acme-site.example/demo'
    await c.post(batch(c.site.id, [
      { id: ulid(), k: 'p', t: now - 60_000, u: page },
      { id: ulid(), k: 'fu', t: now - 50_000, u: page, n: 'demo-request' },
      { id: ulid(), k: 'i', t: now - 40_000, u: page, n: 'ann@buyer.example' },
    ], { v: visitor }), { Origin: 'https://www.acme-site.example' })
    // In the CRM: the same person, by user id and email; a week of work later, the deal is won.
    await send('identify', { userId: 'crm-77', traits: { email: 'ann@buyer.example' } })
    const person = (await c.collector.store.findPerson(c.site.id, { email: 'ann@buyer.example' }))!
    expect(person.userId).toBe('crm-77')
    expect(person.visitorIds).toContain(visitor)
    expect(await stageOf('person', person.id)).toBe('decision')

    await send('track', { userId: 'crm-77', event: 'Deal Won', properties: { amount: 24000 } })
    expect(await stageOf('person', person.id)).toBe('purchase')
    expect(await stageOf('company', person.companyId!)).toBe('purchase')
    // One person, not two: the snippet's identify and the CRM's are the same one.
    let people = 0
    for await (const _ of c.collector.store.queryPeople({ siteId: c.site.id, journey: 'b2b' })) people++
    expect(people).toBe(1)
    // The deal is an offline touch of its own, not a web visit.
    const sessions = []
    for await (const s of c.collector.store.querySessions({ siteId: c.site.id, personId: person.id })) sessions.push(s)
    expect(sessions.map((s) => s.channel)).toContain('Offline')
  })

  it('moves a person to purchase on an identify with the lifecycle trait the stage rules name', async () => {
    await send('identify', { userId: 'u5', traits: { email: 'cara@buyer.example', lifecycle: 'customer' } })
    const person = (await c.collector.store.findPerson(c.site.id, { userId: 'u5' }))!
    expect(await stageOf('person', person.id)).toBe('purchase')
  })

  it('merges two user ids on an alias, keeping the new one', async () => {
    await send('identify', { userId: 'old-id', traits: { email: 'dan@buyer.example', plan: 'trial' } })
    await send('track', { userId: 'new-id', event: 'Signed In' })
    await send('alias', { previousId: 'old-id', userId: 'new-id' })
    expect(await c.collector.store.findPerson(c.site.id, { userId: 'old-id' })).toBeUndefined()
    const merged = (await c.collector.store.findPerson(c.site.id, { userId: 'new-id' }))!
    expect(merged).toMatchObject({ email: 'dan@buyer.example', traits: { plan: { value: 'trial' } } })
    expect(merged.visitorIds.sort()).toEqual(['user:new-id', 'user:old-id'])
  })
})
