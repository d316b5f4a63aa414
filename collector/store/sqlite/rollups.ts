import type Database from 'better-sqlite3'
import { DAY_MS } from '../../reports/stats'
import type { WaymarkConfig } from '../../stages/config'
import type { StageEntry } from '../../stages/progress'
import { nextEntryTimes } from './journeys'
import { SESSION_COLUMNS, type OwnerFold } from './owner-fold'

/** A time's UTC day as the rollups key it (SQLite's integer division of the time by a day). */
const dayOf = (at: number) => Math.trunc(at / DAY_MS)

const column = (name: (typeof SESSION_COLUMNS)[number]) => SESSION_COLUMNS.indexOf(name)
const [ID, SITE, STARTED, SOURCE, MEDIUM, CAMPAIGN, CHANNEL] = (['id', 'site_id', 'started_at', 'source', 'medium', 'campaign', 'channel'] as const).map(column)

/** Rows of a rollup by their key, each with how many it counts. */
function tally() {
  const rows = new Map<string, { key: (string | number)[]; count: number }>()
  return {
    add(key: (string | number)[]) {
      const id = key.join('\u0000')
      const row = rows.get(id)
      if (row) row.count++
      else rows.set(id, { key, count: 1 })
    },
    rows: () => rows.values(),
  }
}

/**
 * The rollups of sources (migrations 17 and 18) counted from the owners' folds a whole rebuild
 * stores, as it stores them: the rows their triggers keep and that SESSION_SOURCES_BY_DAY,
 * TOUCHES_BY_DAY and FIRST_TOUCH_FLOWS_BY_DAY count from the tables, made in the same pass instead
 * of three queries afterwards (at a million events the queries added about 5 s to a 29 s rebuild).
 * The rollups' tests compare what a rebuild leaves with those queries' counts.
 */
export function rollupsOfFolds(config: WaymarkConfig) {
  const sessions = tally()
  const touches = tally()
  const flows = tally()
  return {
    add(fold: OwnerFold) {
      const sessionOf = new Map(fold.sessions.map((values) => [values[ID] as string, values]))
      for (const [sessionId, journey, stage] of fold.sessionStages) {
        const s = sessionOf.get(sessionId)
        if (stage === null || !s) continue
        sessions.add([s[SITE] as string, journey, dayOf(s[STARTED] as number), stage, s[CHANNEL] as string, s[SOURCE] as string, s[MEDIUM] as string, (s[CAMPAIGN] as string | null) ?? ''])
      }
      // Companies' entries are left out, as attribution and flows leave them out.
      if (fold.owner.type === 'company') return
      const touchOf = (e: StageEntry) => [e.channel ?? 'unknown', (sessionOf.get(e.sessionId)?.[SOURCE] as string | undefined) ?? 'unknown', e.campaign ?? '']
      fold.journeys.forEach((journey, j) => {
        if (!journey) return
        const { name, stages } = config.journeys[j]
        const first = journey.entries.find((e) => e.stage === stages[0].name)
        const nextAt = nextEntryTimes(config.journeys[j], journey.entries)
        journey.entries.forEach((e, i) => {
          touches.add([fold.owner.siteId, name, e.stage, dayOf(e.at), ...touchOf(first ?? e), ...touchOf(e)])
          if (first) flows.add([fold.owner.siteId, name, dayOf(first.at), first.channel ?? 'unknown', e.stage, dayOf(e.at), nextAt[i] === null ? -1 : dayOf(nextAt[i]!)])
        })
      })
    },
    /** Writes the rows into the rollups, which must be empty. */
    write(db: Database.Database) {
      const into = (table: string, columns: number) => db.prepare(`INSERT INTO ${table} VALUES (${Array(columns).fill('?').join(', ')})`)
      const written: [ReturnType<typeof tally>, Database.Statement][] = [
        [sessions, into('session_sources_by_day', 9)],
        [touches, into('touches_by_day', 11)],
        [flows, into('first_touch_flows_by_day', 8)],
      ]
      for (const [rows, insert] of written) for (const { key, count } of rows.rows()) insert.run(...key, count)
    },
  }
}
