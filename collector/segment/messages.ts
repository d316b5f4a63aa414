import { ulid } from 'ulid'
import { checkProperties, type Checked } from '../../shared/validate'
import type { Properties } from '../../shared/wire'
import { externalReferrer, readPageUrl, type PageFacts } from '../ingest/page-url'
import type { Client } from '../ingest/user-agent'
import type { Site, StoredEvent } from '../store/types'

/**
 * The Segment tracking spec's calls, as Waymark stores them: track as a track event, page (and an
 * app's screen) as a page view, identify, group and alias as themselves.
 * https://segment.com/docs/connections/spec/
 */
export const SEGMENT_TYPES = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const
export type SegmentType = (typeof SEGMENT_TYPES)[number]

/** The spec's size limits: one message, and one request (a batch). */
export const SEGMENT_LIMITS = { messageBytes: 32 * 1024, batchBytes: 500 * 1024, nameLength: 200, idLength: 200 } as const

/** What the collector knows of the request besides the message. */
export interface MessageFacts {
  site: Site
  receivedAt: number
  /** The request's User-Agent, used when the message's context gives none. */
  userAgent: Client
  parseUserAgent: (userAgent: string) => Client
  /** Sent with the secret write key (a server), rather than the public site id (a browser). */
  trusted: boolean
}

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason })

/** Segment ids may be strings or numbers; stored as text. */
function id(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value === 'string' && value.trim()) return value.trim()
}

/** An ISO 8601 time (or ms since the epoch) as ms, or NaN. */
function time(value: unknown): number {
  if (typeof value === 'number') return value
  if (typeof value !== 'string') return NaN
  return Date.parse(value)
}

/** Times before this are a broken clock or a mistake, not history: Segment's own API was made in 2012. */
const EARLIEST = Date.UTC(2000, 0, 1)
/** Absent, or a real time from 2000 to a year from now (a sender's clock may run ahead; sentAt corrects it). */
const plausible = (ms: number | undefined) => ms === undefined || (Number.isFinite(ms) && ms >= EARLIEST && ms < Date.now() + 365 * 86_400_000)

/** A message's size as JSON; one nested too deeply to measure counts as too large. */
function messageBytes(message: Json): number {
  try {
    return Buffer.byteLength(JSON.stringify(message))
  } catch {
    return Infinity
  }
}

/** A text value trimmed to its limit; blank is none, never an empty string. */
const text = (value: unknown, max: number) => (typeof value === 'string' && value.trim() ? value.trim().slice(0, max) : null)

function properties(value: unknown, field: string): Checked<Properties | null> {
  if (value === undefined || value === null) return { ok: true, value: null }
  if (!isObject(value)) return refuse(`"${field}" must be an object`)
  const checked = checkProperties(value)
  return checked.ok ? checked : refuse(`"${field}": ${checked.reason.replace(/^"p" \(properties\)/, field)}`)
}

/** The page a message speaks of: the page call's properties first, then context.page, as the spec says. */
function pageOf(message: Json, props: Properties | null, site: Site): (PageFacts & { title: string | null; referrer: string | null }) | undefined {
  const context = isObject(message.context) ? message.context : {}
  const page = isObject(context.page) ? context.page : {}
  const pick = (key: string) => (typeof props?.[key] === 'string' ? (props[key] as string) : typeof page[key] === 'string' ? (page[key] as string) : undefined)
  const url = pick('url')
  if (!url || !/^https?:\/\//i.test(url) || url.length > 2048) return
  try {
    const facts = readPageUrl(url)
    // A campaign in context names what the URL may not carry (a server forwarding a visit).
    const campaign = isObject(context.campaign) ? context.campaign : {}
    return {
      ...facts,
      utmSource: facts.utmSource ?? text(campaign.source, 256),
      utmMedium: facts.utmMedium ?? text(campaign.medium, 256),
      utmCampaign: facts.utmCampaign ?? text(campaign.name, 256),
      utmTerm: facts.utmTerm ?? text(campaign.term, 256),
      utmContent: facts.utmContent ?? text(campaign.content, 256),
      title: text(pick('title'), 512),
      referrer: externalReferrer(pick('referrer'), site.domain),
    }
  } catch {
    return
  }
}

const NO_PAGE: PageFacts & { title: null; referrer: null } = {
  url: '', path: '', utmSource: null, utmMedium: null, utmCampaign: null, utmTerm: null, utmContent: null,
  gclid: null, fbclid: null, msclkid: null, liFatId: null, title: null, referrer: null,
}

/**
 * One Segment message as a stored event, or why it is refused. Its id is the site's and the
 * messageId's, so a resend (by any endpoint) is stored once and no two sites' ids collide.
 * Its time follows the spec: timestamp, corrected by the gap between the sender's sentAt and
 * our receipt (the sender's clock skew); receipt time when it has none.
 */
export function segmentEvent(raw: unknown, type: SegmentType, sentAt: number | undefined, facts: MessageFacts): Checked<StoredEvent> {
  if (!isObject(raw)) return refuse('a message must be a JSON object')
  if (messageBytes(raw) > SEGMENT_LIMITS.messageBytes) return refuse(`the message is larger than ${SEGMENT_LIMITS.messageBytes / 1024} KB, or nests too deeply`)
  const userId = id(raw.userId)
  const anonymousId = id(raw.anonymousId)
  if (!userId && !anonymousId) return refuse('a message needs a userId or an anonymousId')
  if ((userId?.length ?? 0) > SEGMENT_LIMITS.idLength || (anonymousId?.length ?? 0) > SEGMENT_LIMITS.idLength)
    return refuse(`userId and anonymousId are at most ${SEGMENT_LIMITS.idLength} characters`)
  const messageId = raw.messageId === undefined ? undefined : id(raw.messageId)
  if (raw.messageId !== undefined && (!messageId || messageId.length > SEGMENT_LIMITS.idLength))
    return refuse(`"messageId" must be a string of at most ${SEGMENT_LIMITS.idLength} characters`)

  const timestamp = raw.timestamp === undefined ? undefined : time(raw.timestamp)
  const messageSentAt = raw.sentAt === undefined ? sentAt : time(raw.sentAt)
  if (!plausible(timestamp) || !plausible(messageSentAt)) return refuse('"timestamp" and "sentAt" must be ISO 8601 times, from 2000 on')
  const skew = timestamp !== undefined && messageSentAt !== undefined ? facts.receivedAt - messageSentAt : 0
  // Never in the future: a clock ahead of ours, uncorrected, would otherwise reorder the journey.
  const occurredAt = Math.min(Math.round(timestamp === undefined ? facts.receivedAt : timestamp + skew), facts.receivedAt)
  if (occurredAt < EARLIEST) return refuse('"timestamp", corrected by "sentAt", falls before 2000: check the sender\'s clock')

  const field = type === 'identify' || type === 'group' ? 'traits' : 'properties'
  const props = properties(raw[field], field)
  if (!props.ok) return props
  const context = isObject(raw.context) ? raw.context : {}
  let name: string | null = null
  let stored: Properties | null = props.value
  let page = pageOf(raw, props.value, facts.site) ?? NO_PAGE

  if (type === 'track') {
    name = text(raw.event, SEGMENT_LIMITS.nameLength)
    if (!name?.trim()) return refuse('a track call needs "event", its name')
  } else if (type === 'page' || type === 'screen') {
    name = text(raw.name, SEGMENT_LIMITS.nameLength)
    // An app's screen has no URL: its name stands for the path.
    if (type === 'screen' && !page.url) page = { ...NO_PAGE, path: name ?? '', title: name as null }
  } else if (type === 'identify') {
    // Named by its user id, or failing that its email; with neither it only carries traits.
    name = userId ?? (typeof props.value?.email === 'string' ? props.value.email : null)
  } else if (type === 'group') {
    name = id(raw.groupId) ?? null
    if (!name) return refuse('a group call needs "groupId"')
  } else {
    const previousId = id(raw.previousId)
    if (!previousId || !userId) return refuse('an alias call needs "previousId" and "userId"')
    if (!facts.trusted) return refuse('an alias merges people: send it from a server, with the secret write key')
    stored = { previousId }
    name = userId
  }

  const userAgent = typeof context.userAgent === 'string' ? facts.parseUserAgent(context.userAgent) : facts.userAgent
  const screen = isObject(context.screen) ? context.screen : {}
  return {
    ok: true,
    value: {
      id: `${facts.site.id}:${messageId ?? ulid(facts.receivedAt)}`,
      siteId: facts.site.id,
      visitorId: anonymousId ?? `user:${userId}`,
      userId: userId ?? null,
      kind: type === 'page' || type === 'screen' ? 'pageview' : type,
      name,
      occurredAt,
      receivedAt: facts.receivedAt,
      ...page,
      screenWidth: Number.isInteger(screen.width) ? (screen.width as number) : null,
      language: text(context.locale, 64),
      timezone: text(context.timezone, 64),
      ...(facts.trusted && typeof context.userAgent !== 'string' ? { browser: null, os: null, device: null, isBot: false } : userAgent),
      props: stored,
    },
  }
}
