import { Window } from 'happy-dom'
import { buildSnippet } from '../../snippet/build'
import { KIND_CODES, type EventKind, type WireBatch, type WireEvent } from '../../shared/wire'

/** A sent event with its kind by name, so tests read as the specification. */
export type SentEvent = Omit<WireEvent, 'k'> & { k: EventKind }

let code: Promise<string> | undefined
/** The real, minified snippet, as the collector serves it. */
export const snippetCode = () => (code ??= buildSnippet())

export interface Sent {
  via: 'fetch' | 'beacon'
  url: string
  batch: WireBatch
}

export interface PageOptions {
  url?: string
  referrer?: string
  /** Attributes of the <script> tag; data-site defaults to "site1". */
  attributes?: Record<string, string>
  /** Code the page runs before the snippet loads (such as the queue stub and early calls). */
  before?: string
  /** The collector's answer to each fetch: a status, or 'offline' for a network error. */
  respond?: (attempt: number) => number | 'offline'
  storage?: Record<string, string>
}

/** A page in a fresh happy-dom window with the snippet loaded, a manual clock, and a recorded network. */
export async function openPage(options: PageOptions = {}) {
  const window = new Window({
    url: options.url ?? 'https://www.example.com/',
    console: globalThis.console,
    settings: {
      enableJavaScriptEvaluation: true,
      suppressInsecureJavaScriptEnvironmentWarning: true,
      disableJavaScriptFileLoading: true,
    },
  })
  const document = window.document
  Object.defineProperty(document, 'referrer', { value: options.referrer ?? '', configurable: true })
  let visibility = 'visible'
  Object.defineProperty(document, 'visibilityState', { get: () => visibility, configurable: true })
  for (const [key, value] of Object.entries(options.storage ?? {})) window.localStorage.setItem(key, value)

  // A manual clock, so batching, backoff and time in fields run in test time, not real time.
  let now = 0
  let nextId = 1
  const epoch = Date.now()
  window.Date.now = () => epoch + now
  const timers = new Map<number, { at: number; run: () => void }>()
  Object.assign(window, {
    setTimeout: (run: () => void, delay = 0) => {
      timers.set(nextId, { at: now + delay, run })
      return nextId++
    },
    clearTimeout: (id: number) => timers.delete(id),
  })

  const sent: Sent[] = []
  let attempts = 0
  Object.assign(window, {
    fetch: async (url: string, init: { body: string }) => {
      sent.push({ via: 'fetch', url, batch: JSON.parse(init.body) })
      const answer = options.respond ? options.respond(attempts++) : 200
      if (answer === 'offline') throw new TypeError('Failed to fetch')
      return { status: answer, ok: answer < 300 }
    },
  })
  Object.defineProperty(window.navigator, 'sendBeacon', {
    value: (url: string, body: string) => {
      sent.push({ via: 'beacon', url, batch: JSON.parse(body) })
      return true
    },
    configurable: true,
  })

  const script = document.createElement('script')
  script.setAttribute('src', 'https://collector.test/w.js')
  for (const [key, value] of Object.entries({ 'data-site': 'site1', ...options.attributes })) script.setAttribute(key, value)
  if (options.before) window.eval(options.before)
  Object.defineProperty(document, 'currentScript', { value: script, configurable: true })
  window.eval(await snippetCode())
  Object.defineProperty(document, 'currentScript', { value: null, configurable: true })

  const settle = () => new Promise((resolve) => setImmediate(resolve))
  return {
    window,
    sent,
    /** Every event sent so far, in order, with its kind by name. */
    events: (): SentEvent[] => sent.flatMap((request) => request.batch.e.map((event) => ({ ...event, k: KIND_CODES[event.k] }))),
    /** Moves the clock on, running the timers that fall due, and lets the network answer. */
    async advance(ms: number) {
      const until = now + ms
      for (;;) {
        await settle()
        const due = [...timers].filter(([, timer]) => timer.at <= until).sort((a, b) => a[1].at - b[1].at)[0]
        if (!due) break
        timers.delete(due[0])
        now = due[1].at
        due[1].run()
      }
      now = until
      await settle()
    },
    /** The visitor switches tab or leaves: the page becomes hidden. */
    async hide() {
      visibility = 'hidden'
      document.dispatchEvent(new window.Event('visibilitychange', { bubbles: true }))
      await settle()
    },
    close: () => window.happyDOM.close(),
  }
}

/** The one-line stub the README tells site owners to paste, so calls made before the snippet loads wait in order. */
export const QUEUE_STUB =
  'window.waymark = window.waymark || function(){(waymark.q = waymark.q || []).push(arguments)}'
