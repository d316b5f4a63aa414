/**
 * The wire format between the snippet and the collector's `POST /e`.
 *
 * Keys are one or two letters because the snippet ships to every visitor of every site and
 * property names survive minification; this file is where they get their meaning. The snippet
 * sends the page's whole URL and the collector derives the rest (UTM values, click ids, path),
 * so every field the tag does not compute is bytes saved.
 */

/**
 * The kinds of event: the short code the snippet sends, and the name the collector stores. What
 * `n` and `p` carry for each:
 * - pageview: `p` properties given to waymark('page', …)
 * - track: `n` the event name, `p` its properties
 * - identify: `n` the user id or email, `p` traits
 * - group: `n` the account (company) id, `p` its traits
 * - form_view, form_start, form_field, form_submit, form_abandon: `n` the form's key, `p` in FORM_PROPS' short keys
 * - file_download: `n` the file's URL, `p` {x: the link's text}
 * - outbound_click: `n` the link's destination
 * - contact_click: `n` the mailto: or tel: link as the site wrote it, less any ?subject= and the like
 * - cta: `n` the name in data-waymark-event, `p` the element's data-waymark-prop-* attributes
 * - page_engagement: `n` the id of the page view being left, `p` {d: deepest scroll in % of the page, ms: visible, active time};
 *   merged into that page view's record, never stored as an event of its own
 */
export const KIND_CODES = {
  p: 'pageview',
  t: 'track',
  i: 'identify',
  g: 'group',
  fv: 'form_view',
  fs: 'form_start',
  ff: 'form_field',
  fu: 'form_submit',
  fa: 'form_abandon',
  d: 'file_download',
  o: 'outbound_click',
  c: 'contact_click',
  a: 'cta',
  e: 'page_engagement',
} as const
export type KindCode = keyof typeof KIND_CODES
export type EventKind = (typeof KIND_CODES)[KindCode]
export const EVENT_KINDS = Object.values(KIND_CODES)

/** Kinds whose `n` is required. */
export const NAMED_KINDS: readonly EventKind[] = EVENT_KINDS.filter((kind) => kind !== 'pageview')

/**
 * The form events' properties travel under one-letter keys (the snippet's bytes) and are stored
 * under these names: `f` the field (form_field, form_start) or the last field touched
 * (form_submit, form_abandon), `y` the field's type, `ms` time in the field or since the form's
 * start, `c` changes, `x` times cleared, `i` 1 if the browser reported the field invalid.
 */
export const FORM_PROPS = { f: 'field', y: 'fieldType', ms: 'ms', c: 'changes', x: 'clears', i: 'invalid' } as const

/** The page_engagement report's properties: `d` the deepest scroll reached, in % of the page; `ms` visible, active time. */
export const ENGAGEMENT_PROPS = { d: 'scrollDepth', ms: 'engagedMs' } as const

export type PropertyValue = string | number | boolean | null | PropertyValue[] | { [key: string]: PropertyValue }
/** Properties as the page gives them; undefined values are left out by JSON. */
export type Properties = { [key: string]: PropertyValue | undefined }

/** One event as the snippet sends it. */
export interface WireEvent {
  /** Event id: a ULID made in the browser, so a resent event is stored once. */
  id: string
  /** Kind of event, as its code in KIND_CODES. */
  k: KindCode
  /** When it happened, by the browser's clock (ms since the epoch); corrected with the batch's `t`. */
  t: number
  /** The page's full URL (without its #fragment). */
  u: string
  /** document.referrer, sent on the first page view of a page load only. */
  r?: string
  /** The page's title. */
  ti?: string
  /** The event's name, user id, account id or form key, by kind (see KIND_CODES). */
  n?: string
  /** Properties given by the page. */
  p?: Properties
}

/** One request body of `POST /e`, sent as text/plain so the browser makes no CORS preflight. */
export interface WireBatch {
  /** Public site id, from the tag's data-site. */
  s: string
  /** Anonymous visitor id: a ULID kept in first-party storage. */
  v: string
  /** When the batch was sent, by the browser's clock: the collector uses it to correct clock skew. */
  t: number
  /** screen.width */
  sw?: number
  /** 1 when the browser is driven by automation (navigator.webdriver): the batch counts as a bot's. */
  b?: 1
  /** navigator.language */
  l?: string
  /** The browser's IANA time zone. */
  z?: string
  e: WireEvent[]
}

/** What `POST /e` answers. */
export interface IngestReply {
  /** How many events are stored (including ones stored before, resent). */
  accepted: number
  /** Each rejected event: its index in the batch, its id when it had one, and why. */
  rejected: { index: number; id?: string; reason: string }[]
}
