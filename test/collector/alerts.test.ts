import Database from 'better-sqlite3'
import { ulid } from 'ulid'
import { afterEach, describe, expect, it } from 'vitest'
import { newHook } from '../../collector/alerts/hooks'
import { signBody } from '../../collector/alerts/signature'
import { retryDelay, type AlertWorkerOptions } from '../../collector/alerts/worker'
import { startCollector } from '../../collector/server'
import { DEFAULT_CONFIG } from '../../collector/stages/config'
import type { AlertHook } from '../../collector/store/types'
import type { WireEvent } from '../../shared/wire'
import { receiver, sleep, verify } from './alerts-receiver'
import { batch, collectorWithSite, pageview } from './helpers'

/** Fast enough for tests: the outbox looked at every 20 ms, retries after 100 ms, 200 ms, 400 ms… */
const FAST: AlertWorkerOptions = { pollMs: 20, retryBaseMs: 100, timeoutMs: 2000, stalledCheckMs: 50 }
const DAY = 86_400_000

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setUp(alerts: AlertWorkerOptions = FAST) {
  const c = await collectorWithSite('example.com', { alerts })
  cleanups.push(() => c.close())
  return c
}
type Collector = Awaited<ReturnType<typeof setUp>>

async function addHook(c: Collector, request: Omit<Parameters<typeof newHook>[1], 'siteId'>): Promise<AlertHook> {
  const hook = newHook(DEFAULT_CONFIG, { siteId: c.site.id, ...request })
  await c.collector.store.addAlertHook(hook)
  // Entries at the very millisecond the hook was made alert too; a moment later keeps tests clear of it.
  await sleep(5)
  return hook
}

const identify = (email: string, traits: Record<string, unknown> = {}, t = Date.now()): WireEvent => ({
  id: ulid(), k: 'i', t, u: 'https://www.example.com/demo', n: email, p: traits as never,
})
const demoRequest = (t = Date.now()): WireEvent => ({ id: ulid(), k: 'fu', t, u: 'https://www.example.com/demo', n: 'demo-request' })
const contactClick = (t = Date.now()): WireEvent => ({ id: ulid(), k: 'c', t, u: 'https://www.example.com/contact', n: 'mailto:sales@example.com' })

/** One browser's events, sent as the tag sends them. */
async function visit(c: Collector, events: WireEvent[], visitor = ulid()) {
  const response = await c.post(batch(c.site.id, events, { v: visitor }))
  expect(response.status).toBe(200)
  return visitor
}

/** A visitor reads the pricing page, then requests a demo and identifies: consideration, then decision. */
async function demoRequested(c: Collector, email: string, traits: Record<string, unknown> = {}) {
  const t = Date.now()
  return visit(c, [pageview({ t: t - 3, u: 'https://www.example.com/pricing' }), demoRequest(t - 2), identify(email, traits, t - 1)])
}

function alertRows(dbPath: string) {
  const db = new Database(dbPath, { readonly: true })
  try {
    return db.prepare('SELECT * FROM alert_outbox ORDER BY created_at').all() as Record<string, any>[]
  } finally {
    db.close()
  }
}

describe('Stage alerts: a signed POST when someone enters a stage', () => {
  it('posts one signed alert when a person enters decision, with the documented body', async () => {
    const c = await setUp()
    const r = await receiver()
    cleanups.push(r.close)
    const hook = await addHook(c, { url: r.url, stage: 'decision' })
    const visitor = await demoRequested(c, 'ada@acme.io', { firstName: 'Ada', lastName: 'Lovelace', title: 'CTO' })
    await r.waitFor(1)
    await sleep(200)
    expect(r.received).toHaveLength(1)

    const [{ headers, raw, body }] = r.received
    expect(headers['content-type']).toBe('application/json')
    expect(verify(hook.secret, headers['waymark-signature'] as string, raw)).toBe(true)
    expect(verify('whsec_someone-else', headers['waymark-signature'] as string, raw)).toBe(false)
    expect(verify(hook.secret, headers['waymark-signature'] as string, raw.replace('Ada', 'Eve'))).toBe(false)
    // A captured request replayed ten minutes on is refused, though its signature is genuine.
    expect(verify(hook.secret, signBody(hook.secret, raw, Math.floor(Date.now() / 1000) - 600), raw)).toBe(false)
    expect(verify(hook.secret, signBody(hook.secret, raw, Math.floor(Date.now() / 1000) - 60), raw)).toBe(true)
    expect(headers['waymark-delivery']).toBe(body.id)

    const ada = (await c.collector.store.findPerson(c.site.id, { email: 'ada@acme.io' }))!
    const journey = await c.collector.store.ownerJourney(c.site.id, { type: 'person', id: ada.id }, 'b2b')
    const entry = journey.entries.find((e) => e.stage === 'decision')!
    expect(body).toEqual({
      type: 'stage.entered',
      id: expect.stringMatching(/^[0-9A-Z]{26}$/),
      site: c.site.id,
      journey: 'b2b',
      stage: 'decision',
      from: 'consideration',
      at: new Date(entry.at).toISOString(),
      owner: {
        type: 'person',
        id: ada.id,
        email: 'ada@acme.io',
        userId: null,
        name: 'Ada Lovelace',
        traits: { firstName: 'Ada', lastName: 'Lovelace', title: 'CTO' },
        company: { id: ada.companyId, domain: 'acme.io', groupId: null, name: null },
      },
      touch: { sessionId: entry.sessionId, channel: 'Direct', campaign: null, page: '/demo' },
      score: 30,
    })
    expect(ada.visitorIds).toEqual([visitor])

    const log = await c.collector.store.alertLog({ limit: 10 })
    expect(log).toMatchObject([{ alertId: body.id, hookId: hook.id, owner: 'ada@acme.io', stage: 'decision', attempt: 1, status: 200, error: null, deliveredAt: expect.any(Number) }])
  })

  it('retries a receiver that fails (500, then a dropped connection) until it takes the alert, with the same id', async () => {
    const c = await setUp()
    const r = await receiver((n, request, response) => {
      if (n === 1) return response.writeHead(500).end('down for maintenance')
      if (n === 2) return request.socket.destroy()
      response.end('ok')
    })
    cleanups.push(r.close)
    const hook = await addHook(c, { url: r.url, stage: 'decision' })
    await demoRequested(c, 'grace@hopper.example')
    await r.waitFor(3)
    await sleep(300)
    expect(r.received).toHaveLength(3)
    // The same alert each time: its id, and its body byte for byte; each attempt signed afresh.
    expect(new Set(r.received.map((x) => x.headers['waymark-delivery'])).size).toBe(1)
    expect(new Set(r.received.map((x) => x.raw)).size).toBe(1)
    for (const x of r.received) expect(verify(hook.secret, x.headers['waymark-signature'] as string, x.raw)).toBe(true)

    const log = (await c.collector.store.alertLog({ limit: 10 })).reverse()
    expect(log.map((e) => [e.attempt, e.status, e.error === null])).toEqual([
      [1, 500, false],
      [2, null, false],
      [3, 200, true],
    ])
    expect(log[0].error).toBe('500 Internal Server Error')
    expect(log[1].error).toMatch(/socket|closed|reset|ECONNRESET/i)
    expect(log.every((e) => e.alertId === r.received[0].body.id && e.deliveredAt !== null)).toBe(true)
    // Backoff: the second attempt waited the base delay, the third twice that.
    expect(log[1].at - log[0].at).toBeGreaterThanOrEqual(100)
    expect(log[2].at - log[1].at).toBeGreaterThanOrEqual(200)
  })

  it('never has two attempts of one alert out at once, however slow the receiver', async () => {
    const c = await setUp({ ...FAST, pollMs: 5 })
    const r = await receiver((_, __, response) => void setTimeout(() => response.end('ok'), 600))
    cleanups.push(r.close)
    await addHook(c, { url: r.url, stage: 'decision' })
    await demoRequested(c, 'slow@acme.io')
    await r.waitFor(1)
    await sleep(1000)
    expect(r.received).toHaveLength(1)
    expect(await c.collector.store.alertLog({ limit: 10 })).toMatchObject([{ attempt: 1, status: 200 }])
  })

  it('gives up after the time allowed, and says so in the log', async () => {
    const messages: string[] = []
    const c = await collectorWithSite('example.com', { alerts: { ...FAST, giveUpAfterMs: 250 }, log: (m) => messages.push(m) })
    cleanups.push(() => c.close())
    const r = await receiver((_, __, response) => response.writeHead(503).end())
    cleanups.push(r.close)
    const hook = await addHook(c, { url: r.url, stage: 'decision' })
    await demoRequested(c, 'gone@acme.io')
    const until = Date.now() + 5000
    while (!messages.some((m) => m.includes('gave up')) && Date.now() < until) await sleep(20)
    await sleep(300)
    // Attempts at about 0 and 100 ms; the next would be at 300 ms, past the 250 ms allowed (fewer on a slow machine).
    const attempts = r.received.length
    expect(attempts).toBeGreaterThanOrEqual(1)
    const [last] = await c.collector.store.alertLog({ limit: 1 })
    expect(last).toMatchObject({ attempt: attempts, status: 503, gaveUpAt: expect.any(Number), nextAttemptAt: null })
    expect(messages.join('\n')).toMatch(new RegExp(`hook ${hook.id} .*gave up after ${attempts} attempts; the last: 503 Service Unavailable`))
    expect((await c.collector.store.listAlertHooks())[0]).toMatchObject({ pending: 0, delivered: 0, gaveUp: 1 })
  })

  it('does not alert for entries made before the hook, nor twice for one entry (refolds, a rebuild)', async () => {
    const c = await setUp()
    const r = await receiver()
    cleanups.push(r.close)
    const before = await demoRequested(c, 'early@acme.io')
    await c.collector.store.settle()
    await addHook(c, { url: r.url, stage: 'decision' })
    // Early's stages are folded again (a new session, another decision signal): still entered before the hook.
    await visit(c, [pageview(), contactClick()], before)
    const later = await demoRequested(c, 'later@acme.io')
    await r.waitFor(1)
    expect(r.received[0].body.owner.email).toBe('later@acme.io')

    // Later's entries are deleted and written again: by more events, and by a rebuild of everything.
    await visit(c, [pageview({ u: 'https://www.example.com/pricing' }), contactClick()], later)
    await c.collector.store.settle()
    await c.collector.store.rebuild()
    await visit(c, [pageview()], later)
    await c.collector.store.settle()
    await sleep(300)
    expect(r.received).toHaveLength(1)
    expect(alertRows(c.dbPath)).toHaveLength(1)
  })

  it('alerts an anonymous visitor’s entry once they become known, as the person', async () => {
    const c = await setUp()
    const r = await receiver()
    cleanups.push(r.close)
    await addHook(c, { url: r.url, stage: 'decision' })
    // A contact click enters decision while anonymous: no one to tell sales about yet.
    const visitor = await visit(c, [pageview(), contactClick()])
    await c.collector.store.settle()
    await sleep(200)
    expect(r.received).toHaveLength(0)
    await visit(c, [identify('ann@buyer.example')], visitor)
    await r.waitFor(1)
    expect(r.received[0].body).toMatchObject({ stage: 'decision', from: 'awareness', owner: { type: 'person', email: 'ann@buyer.example' }, touch: { page: '/contact' } })
  })

  it('a company hook fires when the company enters the stage, once, naming the person who moved it', async () => {
    const c = await setUp()
    const r = await receiver()
    cleanups.push(r.close)
    await addHook(c, { url: r.url, stage: 'decision', owner: 'company' })
    await visit(c, [pageview(), identify('bob@initech.example', { firstName: 'Bob' }), { id: ulid(), k: 'g', t: Date.now(), u: 'https://www.example.com/', n: 'acct-9', p: { name: 'Initech', domain: 'initech.example' } as never }])
    await r.waitFor(1)
    const { body } = r.received[0]
    expect(body).toMatchObject({
      type: 'stage.entered',
      stage: 'decision',
      owner: { type: 'company', domain: 'initech.example', groupId: 'acct-9', name: 'Initech', movedBy: { email: 'bob@initech.example', name: 'Bob' } },
      score: null,
    })
    // A second person of the company entering decision: the company was there already.
    await demoRequested(c, 'alice@initech.example')
    await c.collector.store.settle()
    await sleep(300)
    expect(r.received).toHaveLength(1)
  })

  it('leaves no trace of an erased person in the alerts', async () => {
    const c = await setUp()
    const r = await receiver()
    cleanups.push(r.close)
    await addHook(c, { url: r.url, stage: 'decision', owner: 'both' })
    await demoRequested(c, 'erin@acme.io')
    await r.waitFor(2)
    const erin = (await c.collector.store.findPerson(c.site.id, { email: 'erin@acme.io' }))!
    await c.collector.store.erasePerson(c.site.id, { id: erin.id })
    const rows = JSON.stringify(alertRows(c.dbPath))
    expect(rows).not.toContain(erin.id)
    expect(rows).not.toContain('erin@acme.io')
    // The company's alert stays, without her.
    expect(alertRows(c.dbPath).map((row) => JSON.parse(row.body).owner)).toMatchObject([{ type: 'company', domain: 'acme.io', movedBy: null }])
  })

  it('alerts one person once, when two people they were are merged; erasing them erases their alerts', async () => {
    const c = await setUp()
    const r = await receiver()
    cleanups.push(r.close)
    await addHook(c, { url: r.url, stage: 'purchase', owner: 'both' })
    // On the website (an email) they request a demo and buy; in the app (a user id) they only log in.
    await visit(c, [pageview(), identify('merge@acme.io'), { id: ulid(), k: 't', t: Date.now(), u: 'https://www.example.com/thanks', n: 'Deal Won' }])
    await r.waitFor(2)
    const bought = r.received.find((x) => x.body.owner.type === 'person')!
    expect(bought.body.owner).toMatchObject({ email: 'merge@acme.io', userId: null })
    await visit(c, [pageview(), identify('u-77')])
    // One identify with both proves them one person, whose history now holds the purchase.
    await visit(c, [identify('u-77', { email: 'merge@acme.io' })])
    await c.collector.store.settle()
    const merged = (await c.collector.store.findPerson(c.site.id, { email: 'merge@acme.io' }))!
    expect(merged.userId).toBe('u-77')
    expect((await c.collector.store.ownerJourney(c.site.id, { type: 'person', id: merged.id }, 'b2b')).stage).toBe('purchase')
    await sleep(300)
    const people = r.received.filter((x) => x.body.owner.type === 'person')
    expect(people).toHaveLength(1)
    expect(r.received).toHaveLength(2)

    await c.collector.store.erasePerson(c.site.id, { email: 'merge@acme.io' })
    const rows = JSON.stringify(alertRows(c.dbPath))
    expect(merged.id).not.toBe(bought.body.owner.id)
    for (const trace of [merged.id, bought.body.owner.id, 'u-77', 'merge@acme.io']) expect(rows).not.toContain(trace)
    // The company's alert stays, without them.
    expect(alertRows(c.dbPath).map((row) => JSON.parse(row.body).owner)).toMatchObject([{ type: 'company', domain: 'acme.io', movedBy: null }])
  })
})

describe('The daily stalled alert', () => {
  it('posts the stalled people once a UTC day, across restarts, and again the next day', async () => {
    let now = Date.now()
    const alerts = { ...FAST, now: () => now }
    const c = await setUp(alerts)
    const r = await receiver()
    cleanups.push(r.close)
    // Decision three days ago, nothing since: stalled after a day.
    const t = now - 3 * DAY - 60_000
    await visit(c, [pageview({ t }), identify('stuck@acme.io', { firstName: 'Stu' }, t + 1000)])
    await c.collector.store.settle()
    const hook = await addHook(c, { url: r.url, stalled: true, stalledDays: '1' })
    await r.waitFor(1)
    await sleep(300)
    expect(r.received).toHaveLength(1)
    const [{ headers, raw, body }] = r.received
    expect(verify(hook.secret, headers['waymark-signature'] as string, raw)).toBe(true)
    expect(body).toMatchObject({
      type: 'stalled.daily',
      id: headers['waymark-delivery'],
      site: c.site.id,
      journey: 'b2b',
      day: new Date(now).toISOString().slice(0, 10),
      stalledDays: 1,
      total: 1,
      people: [{ email: 'stuck@acme.io', name: 'Stu', stage: 'decision', days: 3, company: { domain: 'acme.io' } }],
    })

    // A restart on the same day sends nothing new: the day's alert is in the database.
    await c.collector.close()
    const again = await startCollector({ port: 0, host: '127.0.0.1', dbPath: c.dbPath, maxLoopLagMs: Infinity, alerts })
    cleanups.push(() => again.close())
    await sleep(400)
    expect(r.received).toHaveLength(1)

    now += DAY
    await r.waitFor(2)
    await sleep(300)
    expect(r.received).toHaveLength(2)
    expect(r.received[1].body).toMatchObject({ day: new Date(now).toISOString().slice(0, 10), people: [{ email: 'stuck@acme.io', days: 4 }] })
  })
})

describe('Hooks and backoff', () => {
  it('backs off 10 s, 20 s, 40 s … up to an hour', () => {
    expect([1, 2, 3, 4, 9, 10, 30].map((n) => retryDelay(n, 10_000, 3_600_000))).toEqual([10_000, 20_000, 40_000, 80_000, 2_560_000, 3_600_000, 3_600_000])
  })

  it.each([
    [{ url: 'ftp://hooks.example.com', stage: 'decision' }, /must be an http:\/\/ or https:\/\/ address/],
    [{ url: 'hooks.example.com/waymark', stage: 'decision' }, /is not an address: give the receiver's whole URL/],
    [{ stage: 'decision' }, /say where to send alerts: --url/],
    [{ url: 'https://h.example.com' }, /say what to alert on: --stage <name> .* or --stalled/],
    [{ url: 'https://h.example.com', stage: 'decsion' }, /no stage "decsion" in journey "b2b": its stages are awareness, consideration, decision, purchase/],
    [{ url: 'https://h.example.com', stage: 'decision', journey: 'b2c' }, /no journey "b2c" in the configuration: its journeys are b2b/],
    [{ url: 'https://h.example.com', stage: 'decision', owner: 'team' }, /--owner "team" must be person, company or both/],
    [{ url: 'https://h.example.com', stalled: true, stalledDays: '1.5' }, /--stalled-days "1.5" must be a whole number/],
  ])('refuses %j, saying what to do', (request, message) => {
    expect(() => newHook(DEFAULT_CONFIG, { siteId: 's', ...request })).toThrow(message)
  })

  it('makes a hook with a fresh signing secret', () => {
    const [a, b] = [1, 2].map(() => newHook(DEFAULT_CONFIG, { siteId: 's', url: 'https://h.example.com/x', stage: 'purchase', owner: 'both' }))
    expect(a).toMatchObject({ kind: 'stage', journey: 'b2b', stage: 'purchase', owner: 'both', url: 'https://h.example.com/x', stalledDays: null })
    expect(a.secret).toMatch(/^whsec_[a-z2-7]{32}$/)
    expect(a.secret).not.toBe(b.secret)
    expect(newHook(DEFAULT_CONFIG, { siteId: 's', url: 'https://h.example.com/x', stalled: true })).toMatchObject({ kind: 'stalled', stage: null, stalledDays: 30 })
  })
})
