import { Analytics } from '@segment/analytics-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EventRecord } from '../../collector/store/types'
import { collectorWithSite } from './helpers'

/**
 * Segment's own Node library (@segment/analytics-node, from the npm registry, unchanged), pointed
 * at a running collector with a site's write key, as a CRM integration or back end would use it.
 */
describe('@segment/analytics-node against a running collector', () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>>
  beforeAll(async () => {
    c = await collectorWithSite('acme-site.example')
  })
  afterAll(() => c.close())

  it("sends identify, group and a deal won, which land in the database and move the person's stage", async () => {
    const analytics = new Analytics({ writeKey: c.writeKey, host: c.url, flushAt: 10, flushInterval: 200, maxRetries: 1 })
    const errors: unknown[] = []
    analytics.on('error', (error) => errors.push(error))
    analytics.identify({ userId: 'crm-1', traits: { email: 'erin@buyer.example', title: 'VP Sales' } })
    analytics.group({ userId: 'crm-1', groupId: 'acct-1', traits: { name: 'Buyer Inc', employees: 250 } })
    analytics.track({ userId: 'crm-1', event: 'Demo Requested', timestamp: new Date(Date.now() - 3 * 86_400_000) })
    analytics.track({ userId: 'crm-1', event: 'Deal Won', properties: { amount: 30000, currency: 'EUR' } })
    await analytics.closeAndFlush()
    expect(errors).toEqual([])

    const events: EventRecord[] = []
    for await (const event of c.collector.store.queryEvents({ siteId: c.site.id })) events.push(event)
    expect(events.map((e) => e.kind + ':' + e.name).sort()).toEqual(['group:acct-1', 'identify:crm-1', 'track:Deal Won', 'track:Demo Requested'])
    // The demo request happened three days ago, by its timestamp, whatever the order sent.
    expect(events[0].name).toBe('Demo Requested')
    expect(events.find((e) => e.name === 'Deal Won')!.props).toEqual({ amount: 30000, currency: 'EUR' })

    const person = (await c.collector.store.findPerson(c.site.id, { userId: 'crm-1' }))!
    expect(person.email).toBe('erin@buyer.example')
    expect(person.company?.groupId).toBe('acct-1')
    const journey = await c.collector.store.ownerJourney(c.site.id, { type: 'person', id: person.id }, 'b2b')
    expect(journey.transitions.map((t) => t.to)).toEqual(['awareness', 'decision', 'purchase'])
    expect(journey.stage).toBe('purchase')
    expect((await c.collector.store.ownerJourney(c.site.id, { type: 'company', id: person.companyId! }, 'b2b')).stage).toBe('purchase')
  })

  it('is refused with a wrong write key, and nothing is stored', async () => {
    const analytics = new Analytics({ writeKey: 'wk_not-a-key', host: c.url, maxRetries: 0 })
    const errors: unknown[] = []
    analytics.on('error', (error) => errors.push(error))
    analytics.track({ userId: 'crm-2', event: 'Deal Won' })
    await analytics.closeAndFlush()
    expect(errors.length).toBe(1)
    expect(await c.collector.store.findPerson(c.site.id, { userId: 'crm-2' })).toBeUndefined()
  })
})
