import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ulid } from 'ulid'
import { batch, collectorWithSite, pageview } from './helpers'

let c: Awaited<ReturnType<typeof collectorWithSite>>
beforeAll(async () => {
  c = await collectorWithSite()
})
afterAll(() => c.close())

describe('POST /e: acceptance', () => {
  it('stores a valid batch and answers 200 with the count accepted', async () => {
    const body = batch(c.site.id, [pageview({ t: Date.now() - 2000 }), pageview({ u: 'https://www.example.com/pricing' })])
    const response = await c.post(body)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ accepted: 2, rejected: [] })
    const stored = await c.events(body.v)
    expect(stored.map((e) => e.path)).toEqual(['/', '/pricing'])
    expect(stored[0]).toMatchObject({ siteId: c.site.id, visitorId: body.v, kind: 'pageview', title: 'Home' })
  })

  it('has the events durably in the SQLite file by the time it answers', async () => {
    const event = pageview()
    await c.post(batch(c.site.id, [event]))
    // A second, independent connection to the file: what the answer promised is on disk.
    const db = new Database(c.dbPath, { readonly: true })
    expect(db.prepare('SELECT id FROM events WHERE id = ?').get(event.id)).toEqual({ id: event.id })
    db.close()
  })

  it('takes events from subdomains of the site', async () => {
    const response = await c.post(batch(c.site.id, [pageview({ u: 'https://docs.example.com/' })]), {
      Origin: 'https://docs.example.com',
    })
    expect(response.status).toBe(200)
  })

  it('answers CORS so the snippet can read the status from any site', async () => {
    const response = await c.post(batch(c.site.id, [pageview()]))
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
  })
})

describe('POST /e: rejection with reasons', () => {
  it('keeps the valid events beside an invalid one, and names the invalid one and why', async () => {
    const good = [pageview(), pageview()]
    const body = batch(c.site.id, [good[0], { id: 'not-a-ulid', k: 'p', t: Date.now(), u: 'https://www.example.com/' }, good[1]])
    const response = await c.post(body)
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      accepted: 2,
      rejected: [{ index: 1, id: 'not-a-ulid', reason: '"id" must be a ULID' }],
    })
    expect((await c.events(body.v)).map((e) => e.id).sort()).toEqual(good.map((e) => e.id).sort())
  })

  it.each([
    ['an unknown kind', { k: 'launch-missiles' }, /"k" must be a kind code \(p pageview, t track/],
    ['a URL that is not http(s)', { u: 'javascript:alert(1)' }, /"u" must be the page's http\(s\) URL/],
    ['a time that is not a number', { t: 'yesterday' }, /"t" must be a time/],
    ['a title too long', { ti: 'x'.repeat(600) }, /"ti" is longer than 512/],
    ['properties with a prototype key', { p: JSON.parse('{"__proto__": {"admin": true}}') }, /"__proto__" is not allowed/],
    ['properties nested too deep', { p: { a: { b: { c: { d: 1 } } } } }, /deeper than 3/],
    ['too many properties', { p: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }, /more than 50/],
    ['an event older than seven days', { t: Date.now() - 8 * 24 * 3600e3 }, /older than the collector accepts/],
  ])('rejects %s', async (_, change, reason) => {
    const response = await c.post(batch(c.site.id, [pageview(change as never)]))
    expect(response.status).toBe(400)
    const reply = (await response.json()) as { accepted: number; rejected: { reason: string }[] }
    expect(reply.accepted).toBe(0)
    expect(reply.rejected[0].reason).toMatch(reason)
  })

  it.each([
    ['a body that is not JSON', '{"s": ', /not valid JSON/],
    ['a batch without events', { s: 'x', v: ulid(), e: [] }, /"e" \(the events\) is empty/],
    ['a batch with a bad visitor id', { s: 'x', v: 'me', e: [{}] }, /"v" \(the visitor id\) must be a ULID/],
    ['a batch with too many events', { s: 'x', v: ulid(), e: Array.from({ length: 101 }, () => ({})) }, /at most 100/],
    ['a JSON array', '[1,2,3]', /must be a JSON object/],
  ])('answers 400 with the reason for %s', async (_, body, reason) => {
    const response = await c.post(body)
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: string }).error).toMatch(reason)
  })

  it('answers 413 to a body over the limit', async () => {
    const response = await c.post('x'.repeat(70 * 1024))
    expect(response.status).toBe(413)
    expect(((await response.json()) as { error: string }).error).toMatch(/larger than 65536 bytes/)
  })

  it('answers 404 to an unknown site, saying how to add one', async () => {
    const response = await c.post(batch('nosuchsite', [pageview()]))
    expect(response.status).toBe(404)
    expect(((await response.json()) as { error: string }).error).toMatch(/site "nosuchsite" not found.*npx waymark site add/)
  })

  it('answers 403 to a page on another domain, and stores nothing', async () => {
    const body = batch(c.site.id, [pageview({ u: 'https://evil.test/' })])
    for (const origin of ['https://evil.test', 'https://notexample.com', 'https://example.com.evil.test']) {
      const response = await c.post(body, { Origin: origin })
      expect(response.status).toBe(403)
    }
    expect(await c.events(body.v)).toEqual([])
  })

  it('answers 403 to a request with neither Origin nor Referer', async () => {
    const response = await fetch(`${c.url}/e`, { method: 'POST', body: JSON.stringify(batch(c.site.id, [pageview()])) })
    expect(response.status).toBe(403)
  })
})

describe('POST /e: duplicates', () => {
  it('accepts an event id stored before without storing a second row', async () => {
    const body = batch(c.site.id, [pageview()])
    expect((await c.post(body)).status).toBe(200)
    const again = await c.post(body)
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual({ accepted: 1, rejected: [] })
    expect(await c.events(body.v)).toHaveLength(1)
  })

  it('stores an id repeated within one batch once', async () => {
    const event = pageview()
    const body = batch(c.site.id, [event, event])
    await c.post(body)
    expect(await c.events(body.v)).toHaveLength(1)
  })

  it('stores each event once when the same batch arrives on many connections at once', async () => {
    const body = batch(c.site.id, Array.from({ length: 10 }, () => pageview()))
    const answers = await Promise.all(Array.from({ length: 20 }, () => c.post(body)))
    expect(answers.every((response) => response.status === 200)).toBe(true)
    expect(await c.events(body.v)).toHaveLength(10)
  })
})
