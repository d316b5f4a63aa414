// The dashboard's views as a marketer opens them: each view's reports over the dashboard's default
// range, from 30 whole UTC days back on (here, 30 days back from the data's last day rather than
// from today), each view's reports at once as the page asks for them, on the report threads the
// collector runs them on (collector/reports/threads.ts). Run on its own over an
// existing store file, from a day given or 30 days before its last event's:
// npx tsx bench/dashboard-views.ts path/to/waymark.db [2026-10-26]
import Database from 'better-sqlite3'
import { exportRows, parseExport } from '../collector/export/export'
import { reportThreads } from '../collector/reports/threads'
import { DEFAULT_CONFIG } from '../collector/stages/config'
import { openSqliteStore } from '../collector/store/sqlite'
import type { Store } from '../collector/store/types'

const DAY_MS = 86_400_000
/** How long back the live view reads events (dashboard/views/live.ts). */
const LIVE_MS = 30 * 60_000
type Params = Record<string, string>

/**
 * Each view of the dashboard (dashboard/app.ts), and the reports it asks for with the parameters it
 * adds: flows and sources read the same report, so they are one line; the people view asks for two
 * reports at once and the accounts view for four.
 */
export const VIEW_REPORTS: Record<string, [report: string, params?: Params][]> = {
  funnel: [['funnel']],
  'sources and flows': [['sources']],
  forms: [['forms']],
  content: [['content']],
  'calls to action': [['ctas']],
  'people and companies': [['people', { limit: '100' }], ['companies', { limit: '100' }]],
  accounts: [['accounts', { limit: '25', members: '10' }], ['length'], ['paths', { limit: '8' }], ['cohorts']],
}

/** The day 30 days back from `at`'s, counted as the dashboard counts it (the day itself is the 30th). */
export const thirtyDaysTo = (at: number) => new Date(Math.floor(at / DAY_MS) * DAY_MS - 29 * DAY_MS).toISOString().slice(0, 10)

/** A view's first call and a repeated one (ms); a view one of whose reports failed (out of its memory) says why. */
export type ViewTimes = { first: number; repeated: number; failed?: string }

/**
 * ms for each view's first call and a repeated one, from the day `from` on, as the dashboard asks
 * the collector of the store file at `path`; and the live view's export of the events of the half
 * hour before `lastAt` (the data's "now"). The threads are started first, and that start is timed
 * apart (`threadsStart`): it is paid once a collector, by its first report.
 */
export async function timeDashboardViews(store: Store, path: string, siteId: string, from: string, lastAt: number) {
  const views: Record<string, ViewTimes> = {}
  const reports = reportThreads(store, DEFAULT_CONFIG, path)
  const time = async (run: () => Promise<unknown>) => {
    const begun = performance.now()
    await run()
    return performance.now() - begun
  }
  // Both threads, each with a report that reads nothing (a range in the future).
  const nothing = { from: '2999-01-01' }
  const threadsStart = await time(() => Promise.all([reports.run(siteId, 'forms', nothing), reports.run(siteId, 'forms', nothing)]))
  const timed = async (view: string, run: () => Promise<unknown>) => {
    try {
      views[view] = { first: await time(run), repeated: await time(run) }
    } catch (error) {
      views[view] = { first: Infinity, repeated: Infinity, failed: (error as Error).message }
    }
  }
  try {
    for (const [view, asked] of Object.entries(VIEW_REPORTS))
      await timed(view, () => Promise.all(asked.map(([name, params]) => reports.run(siteId, name, { from, ...params }))))
  } finally {
    await reports.close()
  }
  await timed('live', async () => {
    const live = parseExport(siteId, DEFAULT_CONFIG, { dataset: 'events', format: 'ndjson', from: new Date(lastAt - LIVE_MS).toISOString() })
    for await (const _ of exportRows(store, live));
  })
  return { views, threadsStart }
}

/** A view's times as the bench prints them. */
export const viewLine = (r: ViewTimes) =>
  r.failed ? `failed: ${r.failed}` : `first ${Math.round(r.first).toLocaleString('en-US').padStart(7)} ms, repeated ${Math.round(r.repeated).toLocaleString('en-US').padStart(7)} ms`

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2]
  if (!path) throw new Error('say which store file: npx tsx bench/dashboard-views.ts path/to/waymark.db')
  const store = openSqliteStore(path)
  const [site] = await store.listSites()
  const file = new Database(path, { readonly: true })
  const lastAt = file.prepare('SELECT max(occurred_at) FROM events WHERE site_id = ?').pluck().get(site.id) as number
  const from = process.argv[3] ?? thirtyDaysTo(lastAt)
  file.close()
  const { views, threadsStart } = await timeDashboardViews(store, path, site.id, from, lastAt)
  console.log(`Dashboard views of ${site.domain} from ${from} on (report threads started in ${Math.round(threadsStart)} ms):`)
  for (const [view, r] of Object.entries(views)) console.log(`  ${view.padEnd(22)} ${viewLine(r)}`)
  await store.close()
}
