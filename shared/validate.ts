import { LIMITS, ULID_PATTERN } from './limits'
import { KIND_CODES, NAMED_KINDS, type EventKind, type Properties, type WireEvent } from './wire'

/** A check's answer: the value, or why it was refused, in words a developer can act on. */
export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string }

export interface BatchEnvelope {
  siteId: string
  visitorId: string
  sentAt: number | undefined
  screenWidth: number | undefined
  language: string | undefined
  timezone: string | undefined
  /** The browser said it is driven by automation. */
  automated: boolean
  events: unknown[]
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason })

function optionalString(value: unknown, field: string, max: number): Checked<string | undefined> {
  if (value === undefined || value === null) return { ok: true, value: undefined }
  if (typeof value !== 'string') return refuse(`"${field}" must be a string`)
  if (value.length > max) return refuse(`"${field}" is longer than ${max} characters`)
  return { ok: true, value }
}

/** Checks the batch around the events; the events are judged one by one with checkEvent. */
export function checkBatch(body: unknown): Checked<BatchEnvelope> {
  if (!isObject(body)) return refuse('the body must be a JSON object like {"s": siteId, "v": visitorId, "e": [events]}')
  if (typeof body.s !== 'string' || body.s === '' || body.s.length > LIMITS.shortString)
    return refuse('"s" (the site id) is missing or not a short string: check data-site on the script tag')
  if (typeof body.v !== 'string' || !ULID_PATTERN.test(body.v)) return refuse('"v" (the visitor id) must be a ULID')
  if (!Array.isArray(body.e)) return refuse('"e" (the events) must be an array')
  if (body.e.length === 0) return refuse('"e" (the events) is empty')
  if (body.e.length > LIMITS.eventsPerBatch)
    return refuse(`"e" has ${body.e.length} events; a batch may hold at most ${LIMITS.eventsPerBatch}`)
  if (body.t !== undefined && !isTime(body.t)) return refuse('"t" (sent at) must be a time in ms since the epoch')
  if (body.sw !== undefined && !(Number.isInteger(body.sw) && (body.sw as number) >= 0 && (body.sw as number) < 100_000))
    return refuse('"sw" (screen width) must be a whole number of pixels')
  const language = optionalString(body.l, 'l', LIMITS.shortString)
  if (!language.ok) return language
  const timezone = optionalString(body.z, 'z', LIMITS.shortString)
  if (!timezone.ok) return timezone
  return {
    ok: true,
    value: {
      siteId: body.s,
      visitorId: body.v,
      sentAt: body.t as number | undefined,
      screenWidth: body.sw as number | undefined,
      automated: body.b === 1,
      language: language.value,
      timezone: timezone.value,
      events: body.e,
    },
  }
}

const isTime = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 && value < 1e14

function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false
  try {
    new URL(value)
    return true
  } catch {
    return false
  }
}

/** Checks one event of a batch. */
export function checkEvent(raw: unknown): Checked<WireEvent> {
  if (!isObject(raw)) return refuse('an event must be a JSON object')
  if (typeof raw.id !== 'string' || !ULID_PATTERN.test(raw.id)) return refuse('"id" must be a ULID')
  if (typeof raw.k !== 'string' || !Object.hasOwn(KIND_CODES, raw.k))
    return refuse(`"k" must be a kind code (${KIND_OPTIONS}); got ${typeof raw.k === 'string' ? JSON.stringify(raw.k.slice(0, 40)) : `a ${Array.isArray(raw.k) ? 'list' : typeof raw.k}`}`)
  const kind: EventKind = KIND_CODES[raw.k as keyof typeof KIND_CODES]
  if (!isTime(raw.t)) return refuse('"t" must be a time in ms since the epoch')
  if (typeof raw.u !== 'string' || raw.u.length > LIMITS.urlLength || !isHttpUrl(raw.u))
    return refuse(`"u" must be the page's http(s) URL, at most ${LIMITS.urlLength} characters`)
  const referrer = optionalString(raw.r, 'r', LIMITS.urlLength)
  if (!referrer.ok) return referrer
  const title = optionalString(raw.ti, 'ti', LIMITS.titleLength)
  if (!title.ok) return title
  const name = optionalString(raw.n, 'n', URL_NAMED.includes(kind) ? LIMITS.urlLength : LIMITS.nameLength)
  if (!name.ok) return name
  if (NAMED_KINDS.includes(kind) && !name.value?.trim()) return refuse(`a ${kind} event needs "n" (${NAME_MEANS[kind]})`)
  if (URL_NAMED.includes(kind) && !isHttpUrl(name.value!)) return refuse(`a ${kind} event's "n" must be the link's http(s) URL`)
  if (kind === 'contact_click' && !/^(mailto|tel):./i.test(name.value!)) return refuse('a contact_click event\'s "n" must be the mailto: or tel: link')
  let props: Properties | undefined
  if (raw.p !== undefined && raw.p !== null) {
    const checked = checkProperties(raw.p)
    if (!checked.ok) return checked
    props = checked.value
  }
  if (kind === 'page_engagement') {
    if (!ULID_PATTERN.test(name.value!)) return refuse('a page_engagement event\'s "n" must be the id (a ULID) of the page view it reports on')
    const depth = props?.d
    const engaged = props?.ms
    if (!(Number.isInteger(depth) && (depth as number) >= 0 && (depth as number) <= 100)) return refuse('a page_engagement event needs "p.d", the scroll depth: a whole number from 0 to 100')
    if (!(Number.isInteger(engaged) && (engaged as number) >= 0 && (engaged as number) <= LIMITS.maxEngagedMs))
      return refuse(`a page_engagement event needs "p.ms", the engaged time: a whole number of ms from 0 to ${LIMITS.maxEngagedMs}`)
  }
  const event: WireEvent = { id: raw.id, k: raw.k as WireEvent['k'], t: raw.t, u: raw.u }
  if (referrer.value) event.r = referrer.value
  if (title.value !== undefined) event.ti = title.value
  if (name.value !== undefined) event.n = name.value
  if (props) event.p = props
  return { ok: true, value: event }
}

/** Kinds whose `n` is a URL, and so may be as long as one. */
const URL_NAMED: readonly EventKind[] = ['file_download', 'outbound_click']

/** What `n` is, by kind, for the error that says it is missing. */
const NAME_MEANS: Record<EventKind, string> = {
  pageview: '',
  track: 'its name',
  identify: 'the user id or email',
  group: 'the account id',
  form_view: "the form's key",
  form_start: "the form's key",
  form_field: "the form's key",
  form_submit: "the form's key",
  form_abandon: "the form's key",
  file_download: "the file's URL",
  outbound_click: "the link's destination",
  contact_click: 'the mailto: or tel: link',
  cta: 'the name in data-waymark-event',
  page_engagement: 'the id of the page view it reports on',
}

const KIND_OPTIONS = Object.entries(KIND_CODES).map(([code, kind]) => `${code} ${kind}`).join(', ')

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/** Checks properties against the limits: key count, depth, key and value lengths, and no prototype keys. */
export function checkProperties(value: unknown): Checked<Properties> {
  if (!isObject(value)) return refuse('"p" (properties) must be a JSON object')
  let count = 0
  const walk = (node: unknown, depth: number, path: string): string | undefined => {
    if (node === null || typeof node === 'boolean') return
    if (typeof node === 'number') return Number.isFinite(node) ? undefined : `property ${path} is not a finite number`
    if (typeof node === 'string')
      return node.length > LIMITS.propertyValueLength
        ? `property ${path} is longer than ${LIMITS.propertyValueLength} characters`
        : undefined
    if (typeof node !== 'object') return `property ${path} has an unsupported type`
    if (depth > LIMITS.propertyDepth) return `properties nest deeper than ${LIMITS.propertyDepth} levels at ${path}`
    const entries = Array.isArray(node) ? node.map((item, i) => [String(i), item] as const) : Object.entries(node)
    for (const [key, child] of entries) {
      if (!Array.isArray(node)) {
        if (FORBIDDEN_KEYS.has(key)) return `property key "${key}" is not allowed`
        if (key.length > LIMITS.propertyKeyLength) return `a property key is longer than ${LIMITS.propertyKeyLength} characters`
      }
      if (++count > LIMITS.properties) return `more than ${LIMITS.properties} properties`
      const problem = walk(child, depth + 1, path ? `${path}.${key}` : key)
      if (problem) return problem
    }
  }
  const problem = walk(value, 1, '')
  return problem ? refuse(problem) : { ok: true, value: value as Properties }
}
