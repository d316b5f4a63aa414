import { afterEach, describe, expect, it } from 'vitest'
import { openPage, type PageOptions } from './harness'

type Page = Awaited<ReturnType<typeof openPage>>
let page: Page | undefined
/** Wrappers to take off after each test: happy-dom's element classes are shared by all its windows. */
const undo: (() => void)[] = []
afterEach(async () => {
  undo.splice(0).forEach((restore) => restore())
  await page?.close()
  page = undefined
})

/** A page 4000 px tall in an 800 px window, scrolled to the top and painted once. */
async function longPage(options: PageOptions = {}) {
  page = await openPage(options)
  Object.assign(page.layout, { scrollHeight: 4000, innerHeight: 800, scrollY: 0 })
  page.frame()
  return page
}

const views = () => page!.events().filter((event) => event.k === 'pageview')
const reports = () => page!.events().filter((event) => event.k === 'page_engagement').map((event) => ({ n: event.n, p: event.p }))
const move = () => page!.window.dispatchEvent(new page!.window.MouseEvent('mousemove', { bubbles: true }))
const key = () => page!.window.document.dispatchEvent(new page!.window.KeyboardEvent('keydown', { key: 'j', bubbles: true }))
/** The visitor scrolls to `y`, and the browser paints the next frame. */
const scrollTo = (y: number) => {
  page!.scroll(y)
  page!.frame()
}

describe('Reading depth and engaged time', () => {
  it("sends one page_engagement when the page is left, with the page view's id, the deepest scroll in % and the active time", async () => {
    await longPage()
    await page!.advance(5000)
    scrollTo(1200) // (1200 + 800) / 4000
    await page!.advance(3000)
    await page!.hide()
    page!.window.dispatchEvent(new page!.window.Event('pagehide'))
    await page!.advance(1000)

    const [view] = views()
    expect(reports()).toEqual([{ n: view.id, p: { d: 50, ms: 8000 } }])
    // It leaves with the page, by beacon, sent right after the view it reports on.
    expect(page!.sent.find((request) => request.batch.e.some((event) => event.k === 'e'))!.via).toBe('beacon')
    expect(page!.events().map((event) => event.k)).toEqual(['pageview', 'page_engagement'])
  })

  it('sends nothing while the visitor stays on the page', async () => {
    await longPage()
    for (let i = 0; i < 10; i++) {
      scrollTo(i * 300)
      await page!.advance(10_000)
    }
    expect(reports()).toEqual([])
  })

  it('reports the deepest point reached, not where the visitor stopped, in whole percent', async () => {
    await longPage()
    scrollTo(1000)
    scrollTo(2533) // (2533 + 800) / 4000 = 83.3 %
    scrollTo(0)
    await page!.hide()
    expect(reports().map((report) => report.p!.d)).toEqual([83])
  })

  it('reports 100 for a page that fits the window', async () => {
    page = await openPage()
    Object.assign(page.layout, { scrollHeight: 600, innerHeight: 800, scrollY: 0 })
    page.frame()
    await page.hide()
    expect(reports().map((report) => report.p!.d)).toEqual([100])
  })

  it('reports at most 100, however far past the end the page bounces', async () => {
    await longPage()
    scrollTo(3400) // overscroll
    await page!.hide()
    expect(reports().map((report) => report.p!.d)).toEqual([100])
  })

  it('measures depth against the page as it is when left, not as it was at first paint (an app shell that fits the window)', async () => {
    page = await openPage()
    Object.assign(page.layout, { scrollHeight: 800, innerHeight: 800, scrollY: 0 }) // a spinner
    page.frame()
    page.layout.scrollHeight = 4000 // the content arrives; the visitor reads the top fifth and leaves
    page.resized()
    await page.advance(20_000)
    await page.hide()
    expect(reports().map((report) => report.p!.d)).toEqual([20])
  })
})

describe('Reading in a single-page app', () => {
  it('on an in-app move to another URL, reports the view left, then measures the new view from nothing', async () => {
    await longPage()
    scrollTo(3200)
    await page!.advance(12_000)
    page!.window.history.pushState({}, '', '/pricing')
    // The app shows the new view from its top; it is shorter.
    Object.assign(page!.layout, { scrollY: 0, scrollHeight: 2000 })
    page!.frame()
    await page!.advance(4000)
    await page!.hide()

    const [first, second] = views()
    expect(page!.events().map((event) => event.k)).toEqual(['pageview', 'page_engagement', 'pageview', 'page_engagement'])
    expect(reports()).toEqual([
      { n: first.id, p: { d: 100, ms: 12_000 } },
      { n: second.id, p: { d: 40, ms: 4000 } },
    ])
  })

  it('reports nothing for a history change that stays on the same URL', async () => {
    await longPage()
    page!.window.history.replaceState({ scroll: 1 }, '', '/')
    page!.window.history.pushState({}, '', '/#reviews')
    await page!.advance(1000)
    expect(reports()).toEqual([])
  })

  it('reports each view of a back-and-forth once, under its own page view', async () => {
    await longPage()
    const { history } = page!.window
    for (const path of ['/a', '/b', '/a']) {
      await page!.advance(1000)
      history.pushState({}, '', path)
    }
    await page!.hide()
    expect(reports().map((report) => report.n)).toEqual(views().map((view) => view.id))
  })

  it("reports the view a waymark('page') call ends, as it does for an automatic one", async () => {
    await longPage({ before: "window.waymark = function(){(waymark.q = waymark.q || []).push(arguments)}" })
    scrollTo(1200)
    await page!.advance(10_000)
    page!.window.eval("waymark('page', {step: 'plans'})")
    await page!.advance(5000)
    await page!.hide()

    const [first, second] = views()
    expect(reports()).toEqual([
      { n: first.id, p: { d: 50, ms: 10_000 } },
      { n: second.id, p: { d: 50, ms: 5000 } }, // still scrolled where the first left off
    ])
  })
})

describe('Engaged time', () => {
  it('counts a gap between signs of activity as at most 30 s', async () => {
    await longPage()
    await page!.advance(10_000)
    move() // +10 s
    await page!.advance(5 * 60_000)
    key() // away 5 min: +30 s
    await page!.advance(1000)
    page!.scroll(100) // +1 s
    await page!.advance(2 * 60_000)
    await page!.hide() // away 2 min: +30 s
    expect(reports().map((report) => report.p!.ms)).toEqual([71_000])
  })

  it('counts pointer and touch activity too', async () => {
    await longPage()
    const { window } = page!
    await page!.advance(25_000)
    window.dispatchEvent(new window.PointerEvent('pointerdown', { bubbles: true }))
    await page!.advance(25_000)
    window.dispatchEvent(new window.TouchEvent('touchstart', { bubbles: true }))
    await page!.hide()
    expect(reports().map((report) => report.p!.ms)).toEqual([50_000])
  })

  it('does not count time while the page is hidden, and reports again, larger, when the visitor comes back and leaves', async () => {
    await longPage()
    await page!.advance(10_000)
    await page!.hide()
    await page!.advance(10 * 60_000) // another tab
    await page!.show()
    await page!.advance(5000)
    scrollTo(2000) // deeper: (2000 + 800) / 4000
    await page!.advance(2000)
    await page!.hide()

    const [view] = views()
    expect(reports()).toEqual([
      { n: view.id, p: { d: 20, ms: 10_000 } },
      { n: view.id, p: { d: 70, ms: 17_000 } },
    ])
  })

  it('sends again only when the numbers changed', async () => {
    await longPage()
    await page!.advance(3000)
    await page!.hide()
    page!.window.dispatchEvent(new page!.window.Event('pagehide')) // leaving fires both
    await page!.show()
    await page!.hide() // back and away at once: nothing new
    await page!.advance(60_000)
    expect(reports()).toHaveLength(1)

    await page!.show()
    scrollTo(400) // deeper, in no time
    await page!.hide()
    expect(reports().map((report) => report.p)).toEqual([
      { d: 20, ms: 3000 },
      { d: 30, ms: 3000 },
    ])
  })
})

describe('Switching reading off', () => {
  it('data-off="reading" sends no page_engagement, and asks for no animation frame', async () => {
    page = await openPage({ attributes: { 'data-off': 'reading' } })
    expect(page.frame()).toBe(0)
    page.scroll(500)
    expect(page.frame()).toBe(0)
    await page.advance(10_000)
    page.window.history.pushState({}, '', '/pricing')
    await page.hide()
    page.window.dispatchEvent(new page.window.Event('pagehide'))
    await page.advance(1000)
    expect(page.events().map((event) => event.k)).toEqual(['pageview', 'pageview'])
  })

  it('data-off naming other signals leaves reading on', async () => {
    page = await openPage({ attributes: { 'data-off': 'downloads outbound' } })
    await page.hide()
    expect(reports()).toHaveLength(1)
  })
})

/** Layout-reading properties and methods, wrapped so that each use is recorded by name. */
function recordLayoutReads(page: Page) {
  const { window } = page
  const reads: string[] = []
  const { document } = window
  const lookUp = (target: object, name: string) => {
    for (let proto = target; proto; proto = Object.getPrototypeOf(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name)
      if (descriptor) return descriptor
    }
    throw new Error(`${name} is not a property of ${target}`)
  }
  const watch = (target: object, names: string[]) => {
    for (const name of names) {
      const descriptor = lookUp(target, name)
      const own = Object.getOwnPropertyDescriptor(target, name)
      undo.push(() => (own ? Object.defineProperty(target, name, own) : delete (target as Record<string, unknown>)[name]))
      if (descriptor.get) {
        const get = descriptor.get
        Object.defineProperty(target, name, { configurable: true, get: function (this: unknown) { reads.push(name); return get.call(this) } })
      } else if (typeof descriptor.value === 'function') {
        const method = descriptor.value
        Object.defineProperty(target, name, { configurable: true, writable: true, value: function (this: unknown, ...args: unknown[]) { reads.push(name); return method.apply(this, args) } })
      }
    }
  }
  watch(window, ['scrollY', 'pageYOffset', 'scrollX', 'pageXOffset', 'innerHeight', 'innerWidth', 'outerHeight', 'getComputedStyle'])
  const box = ['scrollHeight', 'scrollTop', 'clientHeight', 'offsetHeight', 'offsetTop', 'getBoundingClientRect', 'getClientRects']
  watch(document.documentElement, box)
  watch(document.body, box)
  watch(window.Element.prototype, ['scrollHeight', 'scrollTop', 'getBoundingClientRect', 'getClientRects'])
  watch(window.HTMLElement.prototype, ['clientHeight', 'offsetHeight', 'offsetTop'])
  return reads
}

describe('Reading never holds up scrolling', () => {
  it('reads no layout in the scroll listener: many scroll events without a frame read nothing, and each frame reads one set at most', async () => {
    page = await openPage()
    Object.assign(page.layout, { scrollHeight: 10_000, innerHeight: 800 })
    const reads = recordLayoutReads(page)
    const once = (names: string[]) => names.every((name) => reads.filter((read) => read === name).length <= 1)

    for (let y = 0; y < 2000; y += 10) page.scroll(y) // 200 scroll events in one frame
    expect(reads).toEqual([])
    expect(page.frame()).toBe(1) // one measurement, however many scroll events
    expect(reads.length).toBeGreaterThan(0)
    expect(reads.length).toBeLessThanOrEqual(3)
    expect(once(reads)).toBe(true)

    for (let frame = 0; frame < 5; frame++) {
      reads.length = 0
      for (let i = 0; i < 50; i++) page.scroll(2000 + frame * 500 + i)
      expect(reads).toEqual([])
      expect(page.frame()).toBe(1)
      expect(reads.length).toBeLessThanOrEqual(3)
      expect(once(reads)).toBe(true)
    }

    // No scrolling, no frames asked for, nothing read: no polling.
    reads.length = 0
    expect(page.frame()).toBe(0)
    await page.advance(60_000)
    expect(reads).toEqual([])

    // And what was measured is what is reported: the last frame's (4049 + 800) / 10000.
    await page.hide()
    expect(reports().map((report) => report.p!.d)).toEqual([48])
  })

  it('listens passively, so no listener can delay a scroll or a touch', async () => {
    page = await openPage({
      before: `
        window.listened = []
        for (const target of [window, document]) {
          const add = target.addEventListener
          target.addEventListener = function (type, listener, options) {
            listened.push({ type, passive: !!options && typeof options == 'object' && options.passive === true })
            return add.call(target, type, listener, options)
          }
        }`,
    })
    const listened = (page.window as unknown as { listened: { type: string; passive: boolean }[] }).listened
    const activity = listened.filter((listener) => /^(scroll|wheel|mousewheel|touchstart|touchmove|pointerdown|pointermove|mousemove|keydown)$/.test(listener.type))
    expect(activity.map((listener) => listener.type)).toEqual(expect.arrayContaining(['scroll', 'touchstart', 'mousemove', 'keydown', 'pointerdown']))
    expect(activity.filter((listener) => !listener.passive)).toEqual([])
  })
})
