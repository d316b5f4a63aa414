import Database from 'better-sqlite3'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ulid } from 'ulid'
import { FORMATS } from '../collector/export/formats'
import { addSite } from '../collector/sites'
import { openSqliteStore } from '../collector/store/sqlite'

const RUN = fileURLToPath(new URL('./export-run.ts', import.meta.url))

export interface ExportRun {
  rows: number
  seconds: number
  bytes: number
  /** Peak resident memory of the process that ran it. */
  peakMB: number
}

/**
 * A database with `count` sessions, written straight into the sessions tables: exporting is
 * what is measured here, and making a million sessions from events would take minutes.
 */
export async function sessionsDatabase(dir: string, count: number) {
  const path = join(dir, 'waymark.db')
  const store = openSqliteStore(path)
  const { site } = await addSite(store, 'example.com')
  await store.close()
  const db = new Database(path)
  const session = db.prepare(
    `INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, pageviews, events, conversions, entry_url, entry_path,
       exit_path, referrer, source, medium, campaign, channel, browser, os, device, engaged_ms, engaged, arrival_key)
     VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, 'Chrome', 'Windows', 'desktop', ?, ?, '')`,
  )
  const stage = db.prepare("INSERT INTO session_stages (session_id, journey, stage, score, progress) VALUES (?, 'b2b', ?, 0, '{}')")
  const sources = [['google', 'organic', null, 'Organic Search'], ['linkedin.com', 'social', null, 'Organic Social'], ['newsletter', 'email', 'spring-webinar', 'Email'], ['(direct)', '(none)', null, 'Direct']] as const
  const stages = ['awareness', 'awareness', 'awareness', 'consideration', 'decision']
  const start = Date.UTC(2026, 0, 1)
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const at = start + Math.floor((i / count) * 365 * 86_400_000)
      const id = ulid(at)
      const [source, medium, campaign, channel] = sources[i % sources.length]
      const path = `/blog/post-${i % 400}`
      const pageviews = 1 + (i % 5)
      session.run(id, site.id, ulid(at), at, at + pageviews * 40_000, pageviews, pageviews + 1, `https://www.example.com${path}?utm_source=${source}`, path,
        '/pricing', source === '(direct)' ? null : `https://${source}/`, source, medium, campaign, channel, pageviews * 30_000, pageviews > 1 ? 1 : 0)
      stage.run(id, stages[i % stages.length])
    }
  })()
  db.close()
  return path
}

/** Exports `count` sessions in each format, each in a process of its own so its peak memory is its own. */
export async function benchExport(count: number) {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-bench-export-'))
  try {
    const path = await sessionsDatabase(dir, count)
    const run = async (format: string): Promise<ExportRun> => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', RUN, path, format], { maxBuffer: 1 << 20 })
      return JSON.parse(stdout)
    }
    const baseline = await run('baseline')
    const formats: Record<string, ExportRun> = {}
    for (const format of FORMATS) formats[format] = await run(format)
    return { baseline, formats }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
