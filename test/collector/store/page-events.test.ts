import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PageEvent, StoredEvent, Store } from '../../../collector/store/types'
import { rangesOf, removeStore, storeWithTraffic, type TrafficStore } from '../../fixtures/store-file'

const DAY = 86_400_000
const START = Date.UTC(2026, 2, 1)
const PAGE_KINDS = ['pageview', 'file_download'] as const

// The content and paths reports read people's page views and downloads as a few columns. What the
// store gives must be those events as reading them whole gives them, less the bots'.
describe('the store: page views and downloads read as the content and paths reports fold them', () => {
  let held: TrafficStore
  let store: Store
  let siteId: string

  // Downloads, a bot's page views, and some page views' engagement, besides the traffic's page views.
  const more = (events: StoredEvent[]): StoredEvent[] => {
    const model = events.find((e) => e.kind === 'pageview')!
    const extra: StoredEvent[] = [...Array(40).keys()].map((i) => ({
      ...model,
      id: `extra-${String(i).padStart(3, '0')}`,
      visitorId: `extra-${i % 5}`,
      kind: i % 2 ? 'file_download' : 'pageview',
      name: i % 2 ? `https://www.example.com/files/guide-${i % 3}.pdf` : null,
      occurredAt: START + (i * DAY) / 2,
      isBot: i % 8 === 7,
    }))
    const engagements: StoredEvent[] = extra
      .filter((e, i) => e.kind === 'pageview' && i % 4 === 0)
      .map((e, i) => ({ ...e, id: `engaged-${i}`, kind: 'page_engagement', name: e.id, occurredAt: e.occurredAt + 60_000, props: { scrollDepth: 80, engagedMs: 5000 + i } }))
    return [...extra, ...engagements]
  }
  const asFolded = (e: PageEvent): PageEvent => ({
    kind: e.kind, name: e.name, path: e.path, occurredAt: e.occurredAt, personId: e.personId, visitorId: e.visitorId,
    isBot: e.isBot, scrollDepth: e.scrollDepth ?? null, engagedMs: e.engagedMs ?? null,
  })
  const inOrder = (a: PageEvent, b: PageEvent) => a.occurredAt - b.occurredAt || JSON.stringify(a).localeCompare(JSON.stringify(b))

  beforeAll(async () => {
    held = await storeWithTraffic({ visitors: 200, seed: 61, start: START, more })
    ;({ store, siteId } = held)
  })
  afterAll(() => removeStore(held))

  it.each(rangesOf(START))('%s', async (_, range) => {
    const folded: PageEvent[] = []
    await store.foldPageEvents({ siteId, ...range }, (event) => folded.push(event))
    const whole: PageEvent[] = []
    for await (const event of store.queryEvents({ siteId, ...range, kinds: [...PAGE_KINDS], sessionIds: false })) whole.push(asFolded(event))
    expect(folded.length).toBeGreaterThan(100)
    expect(whole.some((e) => e.isBot)).toBe(true)
    expect(folded.map(asFolded).sort(inOrder)).toEqual(whole.filter((e) => !e.isBot).sort(inOrder))
    // What the traffic holds and the fold must carry: known people, downloads, engagement.
    expect(folded.some((e) => e.personId !== null) && folded.some((e) => e.kind === 'file_download')).toBe(true)
    expect(folded.some((e) => e.scrollDepth !== null && e.engagedMs !== null)).toBe(true)
  })
})
