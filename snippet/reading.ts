import { safe } from './safe'
import type { Enqueue } from './transport'

/** A gap between signs of activity longer than this counts only this long: the visitor stepped away. */
const IDLE_MS = 30_000
const ACTIVITY = ['scroll', 'keydown', 'mousemove', 'pointerdown', 'touchstart']

/**
 * Reading depth and engaged time of each page view, SPA views included: the deepest scroll
 * reached (in % of the page's height when last measured, so content that loads late counts) and the visible, active time. Sent once when the view is left
 * (`report`), as a page_engagement the collector merges into the page view's record, and again,
 * larger, if the visitor comes back to a hidden tab and leaves it later.
 * Scroll position is read at most once per animation frame, just after it is drawn, never in the
 * scroll listener itself, and every listener is passive, so reading never holds up scrolling or
 * forces a layout.
 */
export const reading = (enqueue: Enqueue) => {
  let view = ''
  /** The deepest pixel seen, and the page's height at the last look: a page still loading grows. */
  let reached = 0
  let height = 0
  let engaged = 0
  /** When activity was last seen while the page was visible; 0 while hidden. */
  let last = 0
  let frame = 0
  let sent = ''

  const measure = safe(() => {
    frame = 0
    height = document.documentElement.scrollHeight
    reached = Math.max(reached, scrollY + innerHeight)
  })
  const tick = safe(() => {
    const now = Date.now()
    if (last) engaged += Math.min(now - last, IDLE_MS)
    last = document.visibilityState == 'hidden' ? 0 : now
  })
  // Measured just after the next frame is drawn, when layout is fresh: read in the frame callback
  // itself, a page that changed in its own scroll listener had its layout forced early (the bench's trace).
  const soon = () => (frame = frame || requestAnimationFrame(() => setTimeout(measure)))
  const active = safe((event: Event) => {
    tick()
    event.type == 'scroll' && soon()
  })
  ACTIVITY.forEach((type) => addEventListener(type, active, { capture: true, passive: true }))
  // A page still loading grows: its height is taken again whenever it changes, after layout, never forcing one.
  self.ResizeObserver && new ResizeObserver(measure).observe(document.documentElement)
  addEventListener('visibilitychange', tick)

  /** The view is being left: send what it added up to, if that is news. */
  const report = () => {
    tick()
    // Never measured (a tab opened in the background and closed unread): nothing was read.
    const depth = height ? Math.min(100, Math.round((reached * 100) / height)) : 0
    const now = view + depth + ' ' + engaged
    if (view && now != sent) enqueue({ k: 'e', n: view, p: { d: depth, ms: engaged } })
    sent = now
  }

  return {
    /** A new view begins (its page view's event id). */
    start: (id: string) => {
      // A view begun without a navigation (waymark('page')) ends the one before it.
      report()
      view = id
      reached = height = engaged = 0
      sent = ''
      last = 0
      tick()
      soon()
    },
    report,
  }
}
