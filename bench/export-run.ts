// One export in a process of its own: node --import tsx bench/export-run.ts <db> <format|baseline>.
// Prints {rows, seconds, bytes, peakMB} as JSON. "baseline" reads the same session rows straight
// from SQLite and encodes nothing: what any export of them must cost at least.
import Database from 'better-sqlite3'
import { exportRows, parseExport } from '../collector/export/export'
import { DEFAULT_CONFIG } from '../collector/stages/config'
import { openSqliteStore } from '../collector/store/sqlite'

const [path, format] = process.argv.slice(2)
const started = performance.now()
let rows = 0
let bytes = 0
if (format === 'baseline') {
  const db = new Database(path, { readonly: true })
  for (const _ of db.prepare('SELECT * FROM session_details ORDER BY started_at, id').iterate()) rows++
  db.close()
} else {
  const store = openSqliteStore(path, { checkJourneys: false })
  const [site] = await store.listSites()
  for await (const chunk of exportRows(store, parseExport(site.id, DEFAULT_CONFIG, { dataset: 'sessions', format }))) bytes += chunk.length
  await store.close()
  const db = new Database(path, { readonly: true })
  rows = db.prepare('SELECT count(*) FROM sessions').pluck().get() as number
  db.close()
}
const seconds = (performance.now() - started) / 1000
console.log(JSON.stringify({ rows, seconds, bytes, peakMB: process.resourceUsage().maxRSS / 1024 }))
