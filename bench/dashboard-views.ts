// The dashboard's views as a marketer opens them: each view's reports over the dashboard's default
// range, from 30 whole UTC days back on (here, 30 days back from a day of the data's rather than
// from today). Run on its own over an existing store file, from a day given or 30 days before its
// last session's: npx tsx bench/dashboard-views.ts path/to/waymark.db [2026-10-26]
import Database from 'better-sqlite3'
import { runReport } from '../collector/reports'
import { DEFAULT_CONFIG } from '../collector/stages/config'
import { openSqliteStore } from '../collector/store/sqlite'
import type { Store } from '../collector/store/types'

const DAY_MS = 86_400_000
/** Each view, and the reports it asks for (the people view asks for two at once). */
export const VIEW_REPORTS: Record<string, string[]> = { funnel: ['funnel'], 'sources and flows': ['sources'], forms: ['forms'], 'people and companies': ['people', 'companies'] }

/** The day 30 days back from `at`'s, counted as the dashboard counts it (the day itself is the 30th). */
export const thirtyDaysTo = (at: number) => new Date(Math.floor(at / DAY_MS) * DAY_MS - 29 * DAY_MS).toISOString().slice(0, 10)

/** ms for each view's first call and a repeated one, from the day `from` on, as the dashboard asks. */
export async function timeDashboardViews(store: Store, siteId: string, from: string) {
  const views: Record<string, { first: number; repeated: number }> = {}
  for (const [view, reports] of Object.entries(VIEW_REPORTS)) {
    const time = async () => {
      const begun = performance.now()
      for (const name of reports) await runReport(store, DEFAULT_CONFIG, siteId, name, { from })
      return performance.now() - begun
    }
    views[view] = { first: await time(), repeated: await time() }
  }
  return views
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2]
  if (!path) throw new Error('say which store file: npx tsx bench/dashboard-views.ts path/to/waymark.db')
  const store = openSqliteStore(path)
  const [site] = await store.listSites()
  const file = new Database(path, { readonly: true })
  const from = process.argv[3] ?? thirtyDaysTo(file.prepare('SELECT max(started_at) FROM sessions WHERE site_id = ?').pluck().get(site.id) as number)
  file.close()
  const views = await timeDashboardViews(store, site.id, from)
  console.log(`Dashboard views of ${site.domain} from ${from} on, first call and repeated:`)
  for (const [view, r] of Object.entries(views)) console.log(`  ${view.padEnd(22)} ${Math.round(r.first).toLocaleString('en-US').padStart(7)} ms ${Math.round(r.repeated).toLocaleString('en-US').padStart(7)} ms`)
  await store.close()
}
