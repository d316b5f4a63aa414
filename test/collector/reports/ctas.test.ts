import { describe, expect, it } from 'vitest'
import type { OwnerStageEntries } from '../../../collector/reports/content'
import { ctasFold, type ClickEvent } from '../../../collector/reports/ctas'
import { DEFAULT_JOURNEY } from '../../../collector/stages/config'
import type { OwnerType } from '../../../collector/store/types'

const HOUR = 3_600_000
const DAY = 86_400_000
const T0 = Date.UTC(2026, 8, 1)
/** The report's range: 30 days from T0, `to` exclusive. */
const RANGE = { from: T0, to: T0 + 30 * DAY }
/** The moment most clicks below happen. */
const CLICK = T0 + DAY

/** An event of an owner given as the reports key them: `person:p1` (a known person) or `visitor:v1` (anonymous). */
function event(kind: ClickEvent['kind'], name: string | null, at: number, owner: string, more: Partial<ClickEvent> = {}): ClickEvent {
  const [type, id] = owner.split(':')
  return {
    kind, name, props: null, occurredAt: at, isBot: false, sessionId: null,
    personId: type === 'person' ? id : null, visitorId: type === 'person' ? `device-of-${id}` : id,
    ...more,
  }
}
const cta = (name: string, at: number, owner: string, more: Partial<ClickEvent> = {}) => event('cta', name, at, owner, more)
const submit = (at: number, owner: string, more: Partial<ClickEvent> = {}) => event('form_submit', 'demo-request', at, owner, more)

/** A move to a further stage of the report's journey (the store gives the report that journey's alone). */
interface Move {
  owner: string
  at: number
}

function ctas({ events, moves = [], sessions = [], entries = {}, limit = 50, range = RANGE }: {
  events: ClickEvent[]
  moves?: Move[]
  sessions?: { id: string; channel: string }[]
  entries?: Record<string, [string, number][]>
  limit?: number
  range?: { from?: number; to?: number }
}) {
  const entryMap = new Map<string, OwnerStageEntries>(Object.entries(entries).map(([owner, list]) => [owner, list.map(([stage, at]) => ({ stage, at }))]))
  const fold = ctasFold(DEFAULT_JOURNEY, entryMap, { ...range, limit })
  // As the report feeds it: events first, then sessions and transitions.
  for (const e of events) fold.add(e)
  for (const s of sessions) fold.addSession(s)
  for (const m of moves) {
    const [ownerType, ownerId] = m.owner.split(':') as [OwnerType, string]
    fold.addTransition({ ownerType, ownerId, at: m.at })
  }
  const result = fold.result()
  return { ...result, cta: (name: string) => result.ctas.find((c) => c.name === name)! }
}

describe('CTA report: clicks and people', () => {
  it('lists tagged CTAs, contact links and outbound links apart, each with its clicks and distinct people', () => {
    const { ctas: tagged, contacts, outbound, totals } = ctas({
      events: [
        cta('Book demo', CLICK, 'person:p1'),
        cta('Book demo', CLICK + HOUR, 'person:p1'),
        cta('Book demo', CLICK, 'visitor:v1'),
        event('contact_click', 'sales@example.com', CLICK, 'visitor:v1', { props: { kind: 'email' } }),
        event('contact_click', '+15550100', CLICK, 'visitor:v2', { props: { kind: 'phone' } }),
        event('outbound_click', 'https://github.com/example/waymark', CLICK, 'visitor:v2'),
      ],
    })
    expect(tagged).toEqual([
      {
        name: 'Book demo', clicks: 3, people: 2, submittedForm: 0, advanced: 0, wentOn: 0, wentOnShare: 0,
        byChannel: [{ key: 'Unknown', clicks: 3, people: 2, wentOn: 0 }],
        byStage: [{ key: null, clicks: 3, people: 2, wentOn: 0 }],
      },
    ])
    expect(contacts.map((c) => [c.name, c.kind, c.clicks, c.people])).toEqual([
      ['+15550100', 'phone', 1, 1],
      ['sales@example.com', 'email', 1, 1],
    ])
    expect(outbound.map((o) => [o.name, o.clicks])).toEqual([['https://github.com/example/waymark', 1]])
    // 6 clicks by p1, v1 and v2.
    expect(totals).toEqual({ ctas: 1, contacts: 2, outbound: 1, clicks: 6, people: 3 })
  })

  it('tells a contact stored without its kind by the @ in it', () => {
    const { contacts } = ctas({ events: [event('contact_click', 'hello@example.com', CLICK, 'visitor:v1'), event('contact_click', '+15550199', CLICK, 'visitor:v1')] })
    expect(contacts.map((c) => [c.name, c.kind])).toEqual([['+15550199', 'phone'], ['hello@example.com', 'email']])
  })

  it('counts only clicks in the range, by people, leaving out bots and unnamed clicks', () => {
    const { cta: item, totals } = ctas({
      events: [
        cta('Book demo', T0 - 1, 'person:p1'), // before the range
        cta('Book demo', T0, 'person:p2'), // the range's start is in it
        cta('Book demo', T0 + 30 * DAY, 'person:p3'), // its end is not
        cta('Book demo', CLICK, 'visitor:b1', { isBot: true }),
        event('cta', null, CLICK, 'person:p4'),
      ],
    })
    expect(item('Book demo')).toMatchObject({ clicks: 1, people: 1 })
    expect(totals).toMatchObject({ clicks: 1, people: 1 })
  })
})

describe('CTA report: who went on within 7 days', () => {
  it('counts a form submit or stage move at or after a click and at most 7 days after it', () => {
    const events = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8'].map((p) => cta('Book demo', CLICK, `person:${p}`))
    const { cta: item } = ctas({
      events: [
        ...events,
        submit(CLICK + 6.9 * DAY, 'person:p1'), // 6.9 days: submitted
        submit(CLICK + 7.1 * DAY, 'person:p2'), // 7.1 days: too late
        submit(CLICK - 1, 'person:p5'), // just before the click: not led by it
        submit(CLICK + 7 * DAY, 'person:p7'), // exactly 7 days: still within
        submit(CLICK + HOUR, 'person:p8'),
        submit(CLICK + HOUR, 'visitor:someone-else'), // another owner's submit says nothing of p1 … p8
      ],
      moves: [
        { owner: 'person:p3', at: CLICK + 6.9 * DAY }, // 6.9 days: advanced
        { owner: 'person:p4', at: CLICK + 7.1 * DAY }, // 7.1 days: too late
        { owner: 'person:p6', at: CLICK }, // the very click moved p6 (a CTA can be a stage's condition)
        { owner: 'person:p8', at: CLICK + DAY }, // p8 did both
      ],
    })
    // 8 people. Submitted: p1, p7, p8 = 3. Advanced: p3, p6, p8 = 3.
    // Went on, either or both: p1, p3, p6, p7, p8 = 5, of 8: 0.625.
    expect(item('Book demo')).toMatchObject({ clicks: 8, people: 8, submittedForm: 3, advanced: 3, wentOn: 5, wentOnShare: 0.625 })
  })

  it('counts an owner who clicked more than once once, going on after any of their clicks', () => {
    const { cta: item } = ctas({
      events: [
        cta('Pricing', CLICK, 'person:p1'),
        cta('Pricing', CLICK + 10 * DAY, 'person:p1'),
        submit(CLICK + 12 * DAY, 'person:p1'), // 12 days after the first click, 2 after the second
      ],
    })
    expect(item('Pricing')).toMatchObject({ clicks: 2, people: 1, submittedForm: 1, wentOn: 1, wentOnShare: 1 })
  })

  it("ignores bots' form submits and companies' moves", () => {
    const { cta: item } = ctas({
      events: [cta('Book demo', CLICK, 'person:p1'), submit(CLICK + HOUR, 'person:p1', { isBot: true })],
      moves: [{ owner: 'company:p1', at: CLICK + HOUR }],
    })
    expect(item('Book demo')).toMatchObject({ people: 1, submittedForm: 0, advanced: 0, wentOn: 0 })
  })
})

describe('CTA report: breakdowns', () => {
  it('breaks clicks down by the channel of the session they were in, Unknown when it is not found', () => {
    const { cta: item } = ctas({
      events: [
        cta('Book demo', CLICK, 'person:p1', { sessionId: 's1' }),
        cta('Book demo', CLICK + HOUR, 'person:p1', { sessionId: 's1' }),
        cta('Book demo', CLICK, 'person:p2', { sessionId: 's2' }),
        cta('Book demo', CLICK, 'person:p3', { sessionId: 's3' }), // s3 started too long before the range to be read
        cta('Book demo', CLICK, 'visitor:v1'), // not sessionized
        submit(CLICK + DAY, 'person:p2'),
      ],
      sessions: [{ id: 's1', channel: 'Paid Search' }, { id: 's2', channel: 'Organic Search' }, { id: 's9', channel: 'Email' }],
    })
    // Most clicks first; Paid Search and Unknown tie at 2 clicks, in name order.
    expect(item('Book demo').byChannel).toEqual([
      { key: 'Paid Search', clicks: 2, people: 1, wentOn: 0 },
      { key: 'Unknown', clicks: 2, people: 2, wentOn: 0 },
      { key: 'Organic Search', clicks: 1, people: 1, wentOn: 1 },
    ])
  })

  it("breaks clicks down by the owner's stage at the click, in journey order, clicks before any stage last", () => {
    const { cta: item } = ctas({
      events: [
        cta('Book demo', T0 + DAY, 'person:p1'), // awareness
        cta('Book demo', T0 + 11 * DAY, 'person:p1'), // consideration
        submit(T0 + 12 * DAY, 'person:p1'), // 1 day after the second click, 11 after the first
        cta('Book demo', T0 + DAY, 'visitor:v1'), // no stage yet
        cta('Book demo', T0 + 2 * DAY, 'visitor:v2'), // awareness
      ],
      entries: {
        'person:p1': [['awareness', T0], ['consideration', T0 + 10 * DAY]],
        'visitor:v1': [['awareness', T0 + 3 * DAY]],
        'visitor:v2': [['awareness', T0 + 2 * DAY]], // entered at the click's moment: at awareness
      },
    })
    expect(item('Book demo').byStage).toEqual([
      { key: 'awareness', clicks: 2, people: 2, wentOn: 0 },
      { key: 'consideration', clicks: 1, people: 1, wentOn: 1 },
      { key: null, clicks: 1, people: 1, wentOn: 0 },
    ])
    // p1 went on after a click, so counts as went on overall.
    expect(item('Book demo')).toMatchObject({ people: 3, wentOn: 1 })
  })
})

describe('CTA report: order and limit', () => {
  it('orders by people, then clicks, then name, and keeps at most `limit` of each list, the totals counting all', () => {
    const { ctas: tagged, outbound, totals } = ctas({
      events: [
        cta('A', CLICK, 'person:p1'), cta('A', CLICK, 'person:p2'), // 2 people, 2 clicks
        cta('B', CLICK, 'person:p1'), cta('B', CLICK, 'person:p2'), cta('B', CLICK, 'person:p2'), // 2 people, 3 clicks: first
        cta('C', CLICK, 'person:p1'), cta('C', CLICK, 'person:p1'), cta('C', CLICK, 'person:p1'), // 1 person
        cta('D', CLICK, 'person:p3'), cta('D', CLICK, 'person:p4'), // 2 people, 2 clicks: ties A, after it by name
        event('outbound_click', 'https://a.example/', CLICK, 'person:p1'),
        event('outbound_click', 'https://b.example/', CLICK, 'person:p1'),
        event('outbound_click', 'https://c.example/', CLICK, 'person:p1'),
      ],
      limit: 2,
    })
    expect(tagged.map((c) => c.name)).toEqual(['B', 'A'])
    expect(outbound.map((o) => o.name)).toEqual(['https://a.example/', 'https://b.example/'])
    expect(totals).toEqual({ ctas: 4, contacts: 0, outbound: 3, clicks: 13, people: 4 })
  })
})
