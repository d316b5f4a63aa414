import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { launchChromium } from '../test/browser/chromium'

/** A trace event as Chromium writes it (only what is read here). */
interface TraceEvent {
  name: string
  ph: string
  ts: number
  dur?: number
  pid: number
  tid: number
  args?: {
    data?: { url?: string; stackTrace?: StackFrame[] }
    beginData?: { stackTrace?: StackFrame[] }
  }
}
interface StackFrame {
  lineNumber: number
  columnNumber: number
}

export interface TagMainThread {
  loads: number
  /** Median over the loads of the tag's script evaluation as the page loads (ms). */
  evaluateMs: number
  /** The fastest and slowest of those visits: on a shared machine the spread says how far to trust the median. */
  evaluateRangeMs: [number, number]
  /** The same for a one-statement script on the same page: what evaluating any script costs. */
  emptyEvaluateMs: number
  /** Everything the tag ran on the main thread over a visit (load, scrolling, clicks, a form, leaving), median per visit (ms). */
  visitMs: number
  /** Layouts and style recalculations run inside the tag's own code: reads that forced one. */
  forcedLayouts: number
  forcedLayoutMs: number
  /** Where the forced layouts of the worst visit were asked for. */
  forcedAt: string[]
}

// The page's own script dirties layout in capture listeners registered before the tag's, as a
// busy site does: a listener of the tag that read layout after it would force one, and the trace shows it.
const PAGE = (tag: string) => `<!doctype html><html><head><title>Pricing: Waymark</title>
<script>let n = 0; const dirty = () => { document.body.style.paddingTop = (n++ % 2) + 'px' }
for (const type of ['scroll', 'click', 'keydown', 'input', 'focusin', 'pointerdown', 'visibilitychange']) addEventListener(type, dirty, true)</script>
<script defer src="/empty.js"></script>${tag}</head><body>
<h1>Pricing</h1>${'<p>Journey analytics for B2B teams: every visit, form and stage, first party.</p>'.repeat(200)}
<a id="download" href="/files/guide.pdf">Download the guide</a> <a id="out" href="https://example.org/">Partner</a>
<form id="demo" action="/thanks"><input name="name" id="name"><input name="email" type="email" id="email"><button>Request a demo</button></form>
</body></html>`

function serve(code: string) {
  const files: Record<string, [body: string, type: string]> = {
    '/': [PAGE('<script defer src="/w.js" data-site="bench"></script>'), 'text/html'],
    '/w.js': [code, 'text/javascript'],
    '/empty.js': ['void 0', 'text/javascript'],
  }
  const server = createServer((request, response) => {
    // What the tag sends is taken and answered as the collector would, unread.
    if (request.method === 'POST') return void request.resume().on('end', () => response.writeHead(204).end())
    const file = files[request.url ?? '']
    if (file) response.writeHead(200, { 'content-type': file[1] }).end(file[0])
    else response.writeHead(404).end()
  })
  return new Promise<{ url: string; close: () => void }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() })),
  )
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const LAYOUT = new Set(['Layout', 'UpdateLayoutTree'])
const SCRIPT = new Set(['EvaluateScript', 'FunctionCall', 'v8.compile'])

/** What one visit's trace says the tag ran, on the page's main thread. */
export function tagWork(events: TraceEvent[], tagUrl: string, emptyUrl: string) {
  const complete = events.filter((e) => e.ph === 'X' && e.dur !== undefined)
  const evaluation = (url: string) => complete.filter((e) => e.name === 'EvaluateScript' && e.args?.data?.url === url).reduce((sum, e) => sum + e.dur!, 0) / 1000
  // The tag's own frames; a FunctionCall inside an EvaluateScript of the tag is not counted twice.
  const tags = complete
    .filter((e) => SCRIPT.has(e.name) && e.args?.data?.url === tagUrl)
    .sort((a, b) => a.ts - b.ts)
    .filter((e, i, all) => !all.slice(0, i).some((outer) => outer.tid === e.tid && outer.ts <= e.ts && e.ts + e.dur! <= outer.ts + outer.dur!))
  const forced = complete.filter((e) => LAYOUT.has(e.name) && tags.some((t) => t.tid === e.tid && t.ts <= e.ts && e.ts < t.ts + t.dur!))
  return {
    evaluateMs: evaluation(tagUrl),
    emptyEvaluateMs: evaluation(emptyUrl),
    visitMs: tags.reduce((sum, e) => sum + e.dur!, 0) / 1000,
    forcedLayouts: forced.length,
    forcedLayoutMs: forced.reduce((sum, e) => sum + e.dur!, 0) / 1000,
    /** Where each forced layout was asked for: the innermost frame of the tag's stack (line:column of the minified tag). */
    forcedAt: forced.map((e) => {
      const frame = e.args?.beginData?.stackTrace?.[0] ?? e.args?.data?.stackTrace?.[0]
      return frame ? `${e.name} at ${frame.lineNumber}:${frame.columnNumber}` : e.name
    }),
  }
}

/**
 * The tag's main-thread time in Debian's Chromium, from its performance trace: each visit is a
 * fresh browser context (nothing cached), loads a long page, scrolls it, clicks a download and
 * an outbound link, fills two form fields and leaves.
 */
export async function measureTagMainThread(code: string, loads = 7): Promise<TagMainThread> {
  const site = await serve(code)
  const browser = await launchChromium()
  const visits: ReturnType<typeof tagWork>[] = []
  try {
    for (let i = 0; i < loads; i++) {
      const context = await browser.newContext()
      const page = await context.newPage()
      // The outbound link and the download open in tabs that go nowhere: only the tag's side of the clicks is timed.
      await context.route(/example\.org|guide\.pdf/, (route) => route.fulfill({ status: 204 }))
      await browser.startTracing(page, { categories: ['devtools.timeline', 'v8', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.stack'] })
      await page.goto(site.url + '/', { waitUntil: 'load' })
      await page.waitForFunction(() => typeof (window as { waymark?: unknown }).waymark === 'function')
      for (let y = 1; y <= 5; y++) {
        await page.mouse.wheel(0, 800)
        await page.waitForTimeout(50)
      }
      await page.click('#name')
      await page.keyboard.type('Ada')
      await page.click('#email')
      await page.keyboard.type('ada@example.com')
      await page.click('#download', { modifiers: ['Control'] })
      await page.click('#out', { modifiers: ['Control'] })
      // Leaving: the page hides, and the tag reports the view and hands what waits to sendBeacon.
      await page.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
        document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))
      })
      await page.waitForTimeout(100)
      const trace = JSON.parse((await browser.stopTracing()).toString()) as { traceEvents: TraceEvent[] }
      visits.push(tagWork(trace.traceEvents, site.url + '/w.js', site.url + '/empty.js'))
      await context.close()
    }
  } finally {
    await browser.close()
    site.close()
  }
  const worst = visits.reduce((a, b) => (b.forcedLayouts > a.forcedLayouts ? b : a))
  return {
    loads,
    evaluateMs: median(visits.map((v) => v.evaluateMs)),
    evaluateRangeMs: [Math.min(...visits.map((v) => v.evaluateMs)), Math.max(...visits.map((v) => v.evaluateMs))],
    emptyEvaluateMs: median(visits.map((v) => v.emptyEvaluateMs)),
    visitMs: median(visits.map((v) => v.visitMs)),
    forcedLayouts: worst.forcedLayouts,
    forcedLayoutMs: worst.forcedLayoutMs,
    forcedAt: worst.forcedAt,
  }
}
