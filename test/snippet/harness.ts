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
  /** The request body as it left, byte for byte. */
  body: string
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

/** The page's geometry, in CSS pixels, as the snippet reads it: window.scrollY, window.innerHeight, documentElement.scrollHeight. */
export interface Layout {
  scrollY: number
  innerHeight: number
  scrollHeight: number
}

/**
 * A page in a fresh happy-dom window with the snippet loaded, a manual clock, manual animation
 * frames, a settable geometry, and a recorded network.
 */
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
    // A delay that is not a number counts as none, as in browsers.
    setTimeout: (run: () => void, delay?: unknown) => {
      timers.set(nextId, { at: now + (Number(delay) || 0), run })
      return nextId++
    },
    clearTimeout: (id: number) => timers.delete(id),
  })

  // Manual animation frames: happy-dom runs requestAnimationFrame callbacks on Node's setImmediate,
  // that is whenever a test awaits anything, so "once per frame" could not be told from "at once".
  // Here a frame is painted by frame() (and at the end of advance()), and never while the page is
  // hidden, as browsers do.
  let frames = new Map<number, (time: number) => void>()
  let nextFrame = 1
  Object.assign(window, {
    requestAnimationFrame: (run: (time: number) => void) => {
      frames.set(nextFrame, run)
      return nextFrame++
    },
    cancelAnimationFrame: (id: number) => frames.delete(id),
  })
  const frame = () => {
    if (visibility === 'hidden') return 0
    const due = frames
    frames = new Map()
    for (const run of due.values()) run(now)
    // Then, with the frame drawn, the timers already due run (a setTimeout(…, 0) asked for in a frame callback).
    for (const [id, timer] of [...timers].filter(([, timer]) => timer.at <= now)) {
      timers.delete(id)
      timer.run()
    }
    return due.size
  }

  // Resize observers, which happy-dom never calls back: resized() reports a size change, after layout, as browsers do.
  const observers: ((entries: unknown[]) => void)[] = []
  Object.assign(window, {
    ResizeObserver: class {
      constructor(callback: (entries: unknown[]) => void) {
        observers.push(callback)
      }
      observe() {}
      disconnect() {}
    },
  })

  // The geometry happy-dom does not lay out: a page that fits an 800 px window until a test says otherwise.
  const layout: Layout = { scrollY: 0, innerHeight: 800, scrollHeight: 800 }
  const geometry = (target: object, name: keyof Layout) =>
    Object.defineProperty(target, name, { get: () => layout[name], configurable: true })
  geometry(window, 'scrollY')
  geometry(window, 'innerHeight')
  geometry(document.documentElement, 'scrollHeight')

  const sent: Sent[] = []
  let attempts = 0
  Object.assign(window, {
    fetch: async (url: string, init: { body: string }) => {
      sent.push({ via: 'fetch', url, body: init.body, batch: JSON.parse(init.body) })
      const answer = options.respond ? options.respond(attempts++) : 200
      if (answer === 'offline') throw new TypeError('Failed to fetch')
      return { status: answer, ok: answer < 300 }
    },
  })
  Object.defineProperty(window.navigator, 'sendBeacon', {
    value: (url: string, body: string) => {
      sent.push({ via: 'beacon', url, body, batch: JSON.parse(body) })
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
  const visibilityChange = async (state: 'hidden' | 'visible') => {
    visibility = state
    document.dispatchEvent(new window.Event('visibilitychange', { bubbles: true }))
    await settle()
  }
  return {
    window,
    sent,
    /** The page's geometry; change it to lay the page out (a scroll also needs scroll()). */
    layout,
    /** Every event sent so far, in order, with its kind by name. */
    events: (): SentEvent[] => sent.flatMap((request) => request.batch.e.map((event) => ({ ...event, k: KIND_CODES[event.k] }))),
    /** Moves the clock on, running the timers that fall due, and lets the network answer; then paints a frame. */
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
      frame()
    },
    /** Paints one animation frame: runs the callbacks requested so far (not those they request). Returns how many ran. */
    frame,
    /** The visitor scrolls the document to `y`: the position changes and a scroll event fires, with no frame painted. */
    scroll(y: number) {
      layout.scrollY = y
      document.dispatchEvent(new window.Event('scroll', { bubbles: true }))
    },
    /** The page's size changed (content arrived): resize observers are called back. */
    resized: () => observers.forEach((callback) => callback([])),
    /** The visitor switches tab or leaves: the page becomes hidden. */
    hide: () => visibilityChange('hidden'),
    /** The visitor comes back to the tab. */
    show: () => visibilityChange('visible'),
    close: () => window.happyDOM.close(),
  }
}

/**
 * Every body sent, as one text, with the ULIDs (event and visitor ids, random) and the times (ms
 * since the epoch) blanked out, so a check that a typed value was never sent cannot be fooled by
 * digits an id or a clock happens to hold (a time of …05579462 holds a phone number's 7946).
 */
export const sentText = (sent: Sent[]) =>
  sent
    .map((request) => request.body)
    .join('\n')
    .replace(/[0-9A-HJKMNP-TV-Z]{26}/g, '~')
    .replace(/"t":\d+/g, '"t":#')

/** The one-line stub the README tells site owners to paste, so calls made before the snippet loads wait in order. */
export const QUEUE_STUB =
  'window.waymark = window.waymark || function(){(waymark.q = waymark.q || []).push(arguments)}'
