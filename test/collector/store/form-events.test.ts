import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FORM_KINDS, foldFormEventsFrom, formsFold } from '../../../collector/reports/forms'
import { FORM_EVENTS } from '../../../collector/store/sqlite/migrations'
import type { FormEvent, StoredEvent, Store } from '../../../collector/store/types'
import { rangesOf, removeStore, storeWithTraffic, type TrafficStore } from '../../fixtures/store-file'

const DAY = 86_400_000
const START = Date.UTC(2026, 2, 1)

// The store reads the forms report's events by an index of people's form events alone. What it
// gives must be what reading every event of those kinds and leaving out bots' gives.
describe('the SQLite store: form events read by their own index', () => {
  let held: TrafficStore
  let store: Store
  let siteId: string

  // Fields, abandons and views besides the traffic's starts and submits; a bot's too.
  const more = (events: StoredEvent[]): StoredEvent[] => {
    const model = events.find((e) => e.kind === 'form_start')!
    return [...Array(60).keys()].map((i) => ({
      ...model,
      id: `extra-${String(i).padStart(3, '0')}`,
      visitorId: `extra-${i % 7}`,
      kind: (['form_view', 'form_field', 'form_abandon'] as const)[i % 3],
      occurredAt: START + i * DAY / 2,
      props: i % 3 === 1 ? { field: `f${i % 4}`, fieldType: 'text', ms: 100 * i, clears: i % 2, invalid: i % 5 === 0 } : i % 3 === 2 ? { field: `f${i % 4}` } : null,
      isBot: i % 10 === 9,
    }))
  }

  beforeAll(async () => {
    held = await storeWithTraffic({ visitors: 300, seed: 59, start: START, more })
    ;({ store, siteId } = held)
  })
  afterAll(() => removeStore(held))

  it.each(rangesOf(START))('%s', async (_, range) => {
    const indexed = formsFold()
    let read = 0
    await store.foldFormEvents({ siteId, ...range }, (event: FormEvent) => {
      read++
      indexed.add(event)
    })
    const everyEvent = formsFold()
    await foldFormEventsFrom(store.queryEvents({ siteId, ...range, kinds: [...FORM_KINDS] }), (event) => everyEvent.add(event))
    expect(read).toBeGreaterThan(50)
    expect(indexed.result()).toEqual(everyEvent.result())
    expect(indexed.result().some((form) => form.fields.some((field) => field.medianMs !== null))).toBe(true)
  })

  // At ten million events, looking up each form event's row in the table took two thirds of the forms view.
  it('reads them from the index alone, which holds every column the fold reads', () => {
    const file = new Database(held.path, { readonly: true })
    const plan = file.prepare(`EXPLAIN QUERY PLAN SELECT kind, name, props FROM events WHERE site_id = ? AND occurred_at >= ? AND ${FORM_EVENTS}`).all(siteId, START) as { detail: string }[]
    file.close()
    expect(plan.map((step) => step.detail).join('\n')).toContain('USING COVERING INDEX events_of_forms_by_time')
  })
})
