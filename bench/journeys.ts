import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPORTS, runReport } from '../collector/reports'
import { funnelCountsFold } from '../collector/reports/funnel'
import { addSite } from '../collector/sites'
import { DEFAULT_CONFIG } from '../collector/stages/config'
import { openSqliteStore } from '../collector/store/sqlite'
import { thirtyDaysTo, timeDashboardViews, type ViewTimes } from './dashboard-views'
import { generateTraffic, shuffledBatches } from '../test/fixtures/traffic'

const VISITORS_PER_CHUNK = 2000
/** Events in one commit: what group commit gathers from a busy collector's concurrent requests. */
const EVENTS_PER_COMMIT = 250

export interface JourneyBench {
  events: number
  withMaintenance: number
  without: number
  rebuildSeconds: number
  sessions: number
  bytesPerEvent: number
  /** Each report (each dashboard view reads one) over the whole history: ms for the first call and a repeated one. */
  reports: Record<string, { first: number; repeated: number }>
  /**
   * Each dashboard view over its default range, from 30 days back on: here from 30 days before the
   * last chunk of traffic began (so a full month and the last chunks' tail), on the collector's
   * report threads. ms for the first call and a repeated one.
   */
  views: Record<string, ViewTimes>
  /** Starting the report threads (ms): once a collector, by its first report. */
  threadsStart: number
  /** Reading every session once, the least any report over them costs (ms). */
  sessionsPassMs: number
  /** Folding every owner's stage times in JavaScript, as the funnel was counted before the store counted it (ms). */
  stageTimesFoldMs: number
}

/**
 * Sessions and stages while ingesting, as events/s through the store with them kept current
 * against the same stream with them off (a ratio, same run), then `waymark rebuild` of it all.
 */
export async function benchJourneys(targetEvents: number): Promise<JourneyBench> {
  const run = async (maintainJourneys: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), 'waymark-bench-journeys-'))
    const path = join(dir, 'waymark.db')
    const store = openSqliteStore(path, { maintainJourneys })
    const { site } = await addSite(store, 'example.com')
    let events = 0
    let lastChunkAt = 0
    let lastEventAt = 0
    let busy = 0
    for (let chunk = 0; events < targetEvents; chunk++) {
      const generated = generateTraffic({ siteId: site.id, visitors: VISITORS_PER_CHUNK, seed: 1000 + chunk, start: Date.UTC(2026, 0, 1) + chunk * 86_400_000, days: 20 }).events
      const batches = shuffledBatches(generated, chunk).flat()
      const started = performance.now()
      for (let i = 0; i < batches.length; i += EVENTS_PER_COMMIT) await store.appendEvents(batches.slice(i, i + EVENTS_PER_COMMIT))
      await store.settle()
      busy += performance.now() - started
      events += generated.length
      lastChunkAt = Date.UTC(2026, 0, 1) + chunk * 86_400_000
      for (const event of generated) lastEventAt = Math.max(lastEventAt, event.occurredAt)
    }
    return { store, dir, path, events, lastChunkAt, lastEventAt, perSecond: events / (busy / 1000) }
  }

  const baseline = await run(false)
  await baseline.store.close()
  rmSync(baseline.dir, { recursive: true, force: true })
  const maintained = await run(true)
  const siteId = (await maintained.store.listSites())[0].id
  let sessions = 0
  const pass = performance.now()
  for await (const _ of maintained.store.querySessions({ siteId })) sessions++
  const sessionsPassMs = performance.now() - pass
  const started = performance.now()
  await maintained.store.rebuild()
  const rebuildSeconds = (performance.now() - started) / 1000
  const reports: JourneyBench['reports'] = {}
  let someone: string | undefined
  for await (const person of maintained.store.queryPeople({ siteId, journey: 'b2b', stage: 'purchase' })) {
    someone = person.email ?? undefined
    break
  }
  const stages = DEFAULT_CONFIG.journeys[0].stages.map((s) => s.name)
  const folding = performance.now()
  const fold = funnelCountsFold(stages, { asOf: Date.now(), stalledBefore: Date.now() - 30 * 86_400_000, limit: 50 })
  for await (const owner of maintained.store.queryStageTimes(siteId, DEFAULT_CONFIG.journeys[0].name, stages)) fold.add(owner)
  fold.result()
  const stageTimesFoldMs = performance.now() - folding
  for (const name of REPORTS) {
    const params = name === 'timeline' ? { email: someone } : {}
    const time = async () => {
      const begun = performance.now()
      await runReport(maintained.store, DEFAULT_CONFIG, siteId, name, params)
      return performance.now() - begun
    }
    reports[name] = { first: await time(), repeated: await time() }
  }
  const { views, threadsStart } = await timeDashboardViews(maintained.store, maintained.path, siteId, thirtyDaysTo(maintained.lastChunkAt), maintained.lastEventAt)
  await maintained.store.close()
  const bytes = statSync(maintained.path).size
  rmSync(maintained.dir, { recursive: true, force: true })
  return {
    events: maintained.events,
    withMaintenance: maintained.perSecond,
    without: baseline.perSecond,
    rebuildSeconds,
    sessions,
    bytesPerEvent: bytes / maintained.events,
    reports,
    views,
    threadsStart,
    sessionsPassMs,
    stageTimesFoldMs,
  }
}
