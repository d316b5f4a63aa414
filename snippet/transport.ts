import type { WireBatch, WireEvent } from '../shared/wire'
import { here } from './location'
import { load, save } from './storage'

/** Events waiting at most this long before they leave together in one request. */
const BATCH_DELAY_MS = 1000
/** Retries wait twice as long each time, up to this. */
const MAX_RETRY_DELAY_MS = 60_000
/** Events per request, and bytes: under the collector's limits and the 64 KB keepalive and beacon budget. */
const MAX_BATCH = 50
const MAX_BATCH_BYTES = 60_000
/** Unsent batches are kept across page loads in first-party storage, up to about this many characters (oldest dropped first). */
const MAX_KEPT_CHARS = 30_000
const KEPT_KEY = 'waymark_q'
/** '1': the visitor said no (waymark('consent', false)); '0': yes. */
const CONSENT_KEY = 'waymark_optout'

export type Envelope = Omit<WireBatch, 'e' | 't'>
/** Queues an event; returns its id. */
export type Enqueue = (event: Omit<WireEvent, 'id' | 't' | 'u'> & { u?: string }) => string | void
export interface Transport {
  enqueue: Enqueue
  /** Sends everything waiting now; `leaving` when the page is hiding, so sendBeacon carries it. */
  flush: (leaving?: boolean) => void
  /** The visitor's answer to a consent banner: no drops everything and sends nothing again; yes sends what waited for it. */
  consent: (yes: unknown) => void
}

/** A batch on its way: the envelope of the moment it was formed, and its events as JSON. */
interface Batch {
  envelope_: Envelope
  events_: string[]
}

/**
 * The one place that sends. Each event is turned into JSON when it is queued, so properties
 * that cannot be (a DOM node, a cycle) cost that event its properties and nothing else. Events
 * wait briefly to leave as one batch, which takes the envelope (visitor id and context) of the
 * moment it is formed, so a later reset never re-labels it. A failed send (network error, 429
 * or 5xx) is kept and resent with backoff and a fresh send time for the clock-skew correction;
 * every event has its own id, so a resend is never stored twice. A 4xx other than 429 means the
 * collector judged the events and kept the valid ones: resending would change nothing.
 */
export const transport = (endpoint: string, envelope: Envelope, makeId: () => string, consentRequired?: boolean): Transport => {
  let queue: string[] = []
  let timer: ReturnType<typeof setTimeout> | 0 = 0
  let retryDelay = 0
  // Consent: '1' no; '0' yes; none: yes, unless the tag asks to wait for an answer (data-consent="required").
  let answer = load(CONSENT_KEY) || (consentRequired ? '' : '0')
  // Batches that failed and are not yet acknowledged, also kept in storage so a reload (or an
  // outage) loses none. Storage is written only when a send fails or a failed one gets through:
  // a send that succeeds the first time costs no storage at all.
  let unsent: Batch[] = []
  let failed: Batch[] = []
  // Other tabs of the site keep theirs in the same storage: a batch this tab never had (known by
  // its first event's id) is another tab's and stays; one it had and settled goes.
  const mine: Record<string, 1> = {}
  const keep = () => {
    let kept: string
    let all: [Envelope, string[]][] = []
    try {
      all = JSON.parse(load(KEPT_KEY) || '[]').filter((b: [Envelope, string[]]) => !mine[b[1][0]])
    } catch {}
    unsent.forEach((b) => all.push([b.envelope_, b.events_]))
    while ((kept = JSON.stringify(all)).length > MAX_KEPT_CHARS) all.shift()
    save(KEPT_KEY, all.length ? kept : '')
  }
  const settled = (batch: Batch) => {
    if (unsent.indexOf(batch) < 0) return
    unsent = unsent.filter((b) => b != batch)
    keep()
  }

  const schedule = (delay: number) => {
    if (!timer) timer = setTimeout(flush, delay)
  }

  const post = (batch: Batch, leaving?: boolean) => {
    const body = JSON.stringify({ ...batch.envelope_, t: Date.now() }).slice(0, -1) + ',"e":[' + batch.events_ + ']}'
    if (leaving && navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) return settled(batch)
    fetch(endpoint, { method: 'POST', body, keepalive: true })
      .then((response) => {
        if (response.status == 429 || response.status > 499) throw 0
        retryDelay = 0
        settled(batch)
      })
      .catch(() => {
        failed.push(batch)
        mine[batch.events_[0]] = 1
        unsent.indexOf(batch) < 0 && unsent.push(batch)
        keep()
        schedule((retryDelay = Math.min(MAX_RETRY_DELAY_MS, retryDelay * 2 || BATCH_DELAY_MS)))
      })
  }

  // Another tab of the site may have had the visitor's answer since: it holds here too.
  const answered = () => (answer = load(CONSENT_KEY) || answer)
  const flush = (leaving?: boolean) => {
    clearTimeout(timer)
    timer = 0
    if (answered() != '0') return
    failed.splice(0).forEach((batch) => post(batch, leaving))
    while (queue.length) {
      let bytes = 0
      let count = 0
      while (count < queue.length && count < MAX_BATCH && (bytes += queue[count].length) < MAX_BATCH_BYTES) count++
      post({ envelope_: { ...envelope }, events_: queue.splice(0, count || 1) }, leaving)
    }
  }

  // What an earlier page could not send goes first.
  try {
    failed = JSON.parse(load(KEPT_KEY) || '[]').map((b: [Envelope, string[]]) => ((mine[b[1][0]] = 1), { envelope_: b[0], events_: b[1] }))
  } catch {}
  unsent = failed.slice()
  failed.length && schedule(BATCH_DELAY_MS)

  return {
    consent: (yes) => {
      save(CONSENT_KEY, (answer = yes ? '0' : '1'))
      if (yes) return flush()
      // No means no for every tab: what any of them kept goes too.
      queue = []
      failed = unsent = []
      save(KEPT_KEY)
    },
    enqueue: (event) => {
      // Refused, or waiting for an answer with enough held already.
      if (answered() == '1' || queue.length > 499) return
      const full = { id: makeId(), t: Date.now(), u: here(), ...event } as WireEvent
      let json: string
      try {
        json = JSON.stringify(full)
      } catch {
        delete full.p
        json = JSON.stringify(full)
      }
      queue.push(json)
      schedule(BATCH_DELAY_MS)
      return full.id
    },
    flush,
  }
}
