import type { StoredEvent } from '../types'

export const EVENT_COLUMNS = [
  'id', 'site_id', 'visitor_id', 'kind', 'name', 'occurred_at', 'received_at', 'url', 'path', 'title',
  'referrer', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'fbclid',
  'msclkid', 'li_fat_id', 'screen_width', 'language', 'timezone', 'browser', 'os', 'device', 'is_bot', 'props',
  'user_id',
] as const

/** An event's values in EVENT_COLUMNS order: positional binding is cheaper than named on the hot path. */
export const eventValues = (e: StoredEvent): (string | number | null)[] => [
  e.id, e.siteId, e.visitorId, e.kind, e.name, e.occurredAt, e.receivedAt, e.url, e.path, e.title,
  e.referrer, e.utmSource, e.utmMedium, e.utmCampaign, e.utmTerm, e.utmContent, e.gclid, e.fbclid,
  e.msclkid, e.liFatId, e.screenWidth, e.language, e.timezone, e.browser, e.os, e.device, e.isBot ? 1 : 0,
  e.props ? JSON.stringify(e.props) : null, e.userId ?? null,
]

/**
 * Every column of a stored event, in the order eventFromValues reads them: those inserted, then a
 * page view's engagement, merged in when the tag reports leaving it.
 */
export const STORED_EVENT_COLUMNS = [...EVENT_COLUMNS, 'scroll_depth', 'engaged_ms'] as const

const at = Object.fromEntries(STORED_EVENT_COLUMNS.map((column, i) => [column, i])) as Record<(typeof STORED_EVENT_COLUMNS)[number], number>

/**
 * An event from a row read in raw mode (values in STORED_EVENT_COLUMNS order): sessions are
 * recomputed from a visitor's events on every catch-up, and arrays are read about twice as fast
 * as objects keyed by column name.
 */
export const eventFromValues = (v: (string | number | null)[]): StoredEvent => ({
  id: v[at.id] as string, siteId: v[at.site_id] as string, visitorId: v[at.visitor_id] as string,
  kind: v[at.kind] as StoredEvent['kind'], name: v[at.name] as string | null,
  occurredAt: v[at.occurred_at] as number, receivedAt: v[at.received_at] as number, url: v[at.url] as string,
  path: v[at.path] as string, title: v[at.title] as string | null, referrer: v[at.referrer] as string | null,
  utmSource: v[at.utm_source] as string | null, utmMedium: v[at.utm_medium] as string | null,
  utmCampaign: v[at.utm_campaign] as string | null, utmTerm: v[at.utm_term] as string | null,
  utmContent: v[at.utm_content] as string | null, gclid: v[at.gclid] as string | null, fbclid: v[at.fbclid] as string | null,
  msclkid: v[at.msclkid] as string | null, liFatId: v[at.li_fat_id] as string | null,
  screenWidth: v[at.screen_width] as number | null, language: v[at.language] as string | null,
  timezone: v[at.timezone] as string | null, browser: v[at.browser] as string | null, os: v[at.os] as string | null,
  device: v[at.device] as string | null, isBot: v[at.is_bot] === 1,
  props: v[at.props] === null ? null : JSON.parse(v[at.props] as string),
  userId: v[at.user_id] as string | null,
  scrollDepth: v[at.scroll_depth] as number | null,
  engagedMs: v[at.engaged_ms] as number | null,
})
