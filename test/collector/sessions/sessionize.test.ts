import { describe, expect, it } from 'vitest'
import { byOccurrence, sessionize } from '../../../collector/sessions/sessionize'
import type { StoredEvent } from '../../../collector/store/types'

const T0 = Date.UTC(2026, 2, 10, 9, 0, 0)
const MIN = 60_000
let n = 0
/** An event at `minutes` past 09:00, with whatever it arrived with. */
function ev(minutes: number, over: Partial<StoredEvent> = {}): StoredEvent {
  const id = `01J${String(n++).padStart(23, '0')}`
  return {
    id, siteId: 's', visitorId: 'v', kind: 'pageview', name: null, occurredAt: T0 + minutes * MIN, receivedAt: T0,
    url: 'https://a.example/', path: '/', title: null, referrer: null, utmSource: null, utmMedium: null,
    utmCampaign: null, utmTerm: null, utmContent: null, gclid: null, fbclid: null, msclkid: null, liFatId: null,
    screenWidth: null, language: null, timezone: null, browser: 'Chrome', os: 'Mac OS', device: 'desktop',
    isBot: false, props: null, ...over,
  }
}
const split = (events: StoredEvent[]) => sessionize([...events].sort(byOccurrence)).map(({ events }) => events.length)

describe('Splitting a visitor\'s events into sessions', () => {
  it.each<[string, StoredEvent[], number[]]>([
    ['events within 30 minutes of each other: one session', [ev(0), ev(10), ev(39), ev(68)], [4]],
    ['a gap of exactly 30 minutes still continues', [ev(0), ev(30)], [1 + 1]],
    ['a gap of more than 30 minutes starts a new one', [ev(0), ev(30.01)], [1, 1]],
    ['the timeout runs from the last event, not the first', [ev(0), ev(25), ev(50), ev(75), ev(106)], [4, 1]],
    ['a new UTM campaign starts a new session', [ev(0, { utmSource: 'nl', utmCampaign: 'march' }), ev(5), ev(6, { utmSource: 'nl', utmCampaign: 'april' })], [2, 1]],
    ['the same campaign again (a reload) does not', [ev(0, { utmCampaign: 'march' }), ev(5, { utmCampaign: 'march' })], [2]],
    ['a new click id starts a new session', [ev(0, { gclid: 'a' }), ev(3, { gclid: 'b' })], [1, 1]],
    ['arriving from another site starts a new session', [ev(0), ev(2, { referrer: 'https://news.ycombinator.com/' })], [1, 1]],
    ['arriving again from the same site does not', [ev(0, { referrer: 'https://www.google.com/' }), ev(2, { referrer: 'https://google.com/?q=x' })], [2]],
    ['moving within the site never does', [ev(0, { referrer: 'https://www.google.com/' }), ev(1, { path: '/pricing' }), ev(2, { path: '/demo' })], [3]],
    ['only page views arrive: a form event on a tagged landing page does not split', [ev(0, { utmCampaign: 'x', referrer: 'https://l.example/' }), ev(1, { kind: 'form_start', utmCampaign: 'x' })], [2]],
    ['midnight does not end a session', [ev(14 * 60 + 55), ev(15 * 60 + 5)], [2]],
  ])('%s', (_, events, sizes) => {
    expect(split(events)).toEqual(sizes)
  })

  it('gives the same sessions whatever order the events arrived in', () => {
    const events = [ev(0, { referrer: 'https://www.google.com/' }), ev(5), ev(50), ev(52, { utmCampaign: 'c' }), ev(53), ev(200)]
    const inOrder = sessionize([...events].sort(byOccurrence))
    const shuffled = sessionize([events[4], events[0], events[5], events[2], events[1], events[3]].sort(byOccurrence))
    expect(shuffled).toEqual(inOrder)
    expect(inOrder.map((s) => s.session.id)).toEqual([events[0].id, events[2].id, events[3].id, events[5].id])
  })
})

describe('What a session knows', () => {
  const [{ session }] = sessionize([
    ev(0, { url: 'https://a.example/blog?utm_source=linkedin', path: '/blog', referrer: 'https://www.linkedin.com/', utmSource: 'linkedin', utmMedium: 'paid_social', utmCampaign: 'q1', utmTerm: 'crm', utmContent: 'v2', liFatId: 'L' }),
    ev(1, { path: '/pricing' }),
    ev(2, { kind: 'form_start', path: '/pricing', name: 'demo' }),
    ev(3, { kind: 'form_submit', path: '/pricing', name: 'demo' }),
    ev(4, { path: '/thanks' }),
  ])

  it('counts, times and pages', () => {
    expect(session).toMatchObject({
      startedAt: T0, endedAt: T0 + 4 * MIN, pageviews: 3, events: 5, conversions: 1,
      entryPath: '/blog', exitPath: '/thanks', engagedMs: 4 * MIN, engaged: true,
    })
  })

  it('where it came from', () => {
    expect(session).toMatchObject({
      referrer: 'https://www.linkedin.com/', source: 'linkedin', medium: 'paid_social', campaign: 'q1', term: 'crm',
      content: 'v2', liFatId: 'L', channel: 'Paid Social', browser: 'Chrome', os: 'Mac OS', device: 'desktop',
    })
  })

  it.each<[string, StoredEvent[], boolean]>([
    ['one page view, nothing else: a bounce', [ev(0)], false],
    ['one page view and a form event 9 s later: a bounce', [ev(0), ev(0.15, { kind: 'form_start' })], false],
    ['10 s of activity: engaged', [ev(0), ev(10 / 60, { kind: 'form_start' })], true],
    ['two page views: engaged', [ev(0), ev(0.01)], true],
    ['an identify: engaged', [ev(0), ev(0.01, { kind: 'identify', name: 'a@b.example' })], true],
  ])('%s', (_, events, engaged) => {
    expect(sessionize(events)[0].session.engaged).toBe(engaged)
  })
})
