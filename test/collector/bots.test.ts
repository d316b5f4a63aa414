import { ulid } from 'ulid'
import { afterEach, describe, expect, it } from 'vitest'
import { batch, collectorWithSite, pageview } from './helpers'

describe('bots', () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>> | undefined
  afterEach(() => c?.close())
  const sessionsOf = async (visitorId: string) => {
    const all = []
    for await (const s of c!.collector.store.querySessions({ siteId: c!.site.id, visitorId })) all.push(s)
    return all
  }

  it('stores a crawler’s and an automated browser’s events as bots, kept out of sessions and journeys', async () => {
    c = await collectorWithSite()
    const [crawler, robot, person] = [ulid(), ulid(), ulid()]
    await c.post(batch(c.site.id, [pageview()], { v: crawler }), { 'User-Agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' })
    await c.post(batch(c.site.id, [pageview()], { v: robot, b: 1 }))
    await c.post(batch(c.site.id, [pageview()], { v: person }))
    expect((await c.events(crawler))[0].isBot).toBe(true)
    expect((await c.events(robot))[0].isBot).toBe(true)
    expect((await c.events(person))[0].isBot).toBe(false)
    expect(await sessionsOf(crawler)).toEqual([])
    expect(await sessionsOf(robot)).toEqual([])
    expect(await sessionsOf(person)).toHaveLength(1)
  })

  it('acknowledges and drops bots’ events when configured to (WAYMARK_BOTS=drop)', async () => {
    c = await collectorWithSite('example.com', { dropBots: true })
    const robot = ulid()
    const response = await c.post(batch(c.site.id, [pageview(), pageview()], { v: robot, b: 1 }))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ accepted: 2, rejected: [] })
    expect(await c.events(robot)).toEqual([])
  })
})
