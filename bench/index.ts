// npm run bench: every figure from one run, beside its baseline from the same run.
// BENCH_SECONDS sets how long each load lasts (default 10); BENCH_EVENTS how many events the
// sessions-and-stages bench ingests and rebuilds (default 1,000,000); BENCH_SESSIONS how many sessions the
// export bench writes out (default 1,000,000); BENCH_NODE_ARGS passes flags to the
// servers under load, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof" to profile them.
import { brotliCompressSync } from 'node:zlib'
import { buildSnippet, gzipSize } from '../snippet/build'
import { EVENTS_PER_BATCH, measureIntake, measureLatency } from './intake'
import { benchExport } from './export'
import { benchJourneys } from './journeys'
import { viewLine } from './dashboard-views'
import { budgetRows, budgetTable } from './budgets'
import { measureColdStart } from './cold-start'
import { measureTagMainThread } from './tag-main-thread'
import { benchClickHouse } from './clickhouse'

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const journeyEvents = Number(process.env.BENCH_EVENTS ?? 1_000_000)
const exportSessions = Number(process.env.BENCH_SESSIONS ?? 1_000_000)
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

const code = await buildSnippet()
console.log('Snippet (w.js)')
console.log(`  minified ${fmt(Buffer.byteLength(code))} B, gzip -9 ${fmt(gzipSize(code))} B, brotli ${fmt(brotliCompressSync(code).length)} B`)
console.log(`  anchor (shared/NOTES.md, measured on this machine): Plausible plain script 1,333 B gzip -9 -> ratio ${fmt(gzipSize(code) / 1333, 2)}`)

const mainThread = await measureTagMainThread(code)
console.log(`  main thread in Debian's Chromium, median of ${mainThread.loads} fresh visits (performance trace; a long page, scrolled, two links, a form, left):`)
console.log(`    evaluating the tag as the page loads ${fmt(mainThread.evaluateMs, 2)} ms (${mainThread.evaluateRangeMs.map((ms) => fmt(ms, 1)).join(' to ')}); a one-statement script on the same page ${fmt(mainThread.emptyEvaluateMs, 2)} ms (ratio ${fmt(mainThread.evaluateMs / mainThread.emptyEvaluateMs, 0)})`)
console.log(`    everything the tag ran over the visit ${fmt(mainThread.visitMs, 1)} ms; layouts forced inside the tag's code: ${mainThread.forcedLayouts} (${fmt(mainThread.forcedLayoutMs, 2)} ms)${mainThread.forcedAt.length ? ': ' + mainThread.forcedAt.join(', ') : ''}`)

console.log(`\nIntake: POST /e, ${EVENTS_PER_BATCH} page views per batch, 32 connections, ${seconds} s each, load generator in this process`)
// Baseline, subject, baseline again: the mean of the two baselines softens drift on a shared machine.
const bareBefore = await measureIntake('bare', seconds)
const collector = await measureIntake('collector', seconds)
const bareAfter = await measureIntake('bare', seconds)
const bareEvents = (bareBefore.eventsPerSecond + bareAfter.eventsPerSecond) / 2
const row = (name: string, r: typeof collector) =>
  `  ${name.padEnd(34)} ${fmt(r.eventsPerSecond).padStart(9)} events/s  p50 ${fmt(r.p50, 1).padStart(5)} ms  p99 ${fmt(r.p99, 1).padStart(5)} ms  non-2xx ${r.non2xx}`
console.log(row('bare Hono 204 (before)', bareBefore))
console.log(row('collector, durable SQLite commit', collector))
console.log(row('bare Hono 204 (after)', bareAfter))
console.log(`  ratio collector / bare: ${fmt(collector.eventsPerSecond / bareEvents, 2)}`)
// Requests still in flight when the load stops are stored but never counted as answered, so stored >= acknowledged.
const stored = collector.storedEvents ?? 0
console.log(
  `  acknowledged ${fmt(collector.acknowledgedEvents)} events; SQLite holds ${fmt(stored)} after the run` +
    (stored >= collector.acknowledgedEvents
      ? ` (every acknowledged one, and ${fmt(stored - collector.acknowledgedEvents)} in flight when the load stopped)`
      : ' (LOST ACKNOWLEDGED EVENTS)'),
)
if (stored < collector.acknowledgedEvents) process.exitCode = 1
// Latency at a steady, evenly spaced load, timed from when each request was due: at half what
// the bare handler answered (the budget), and at half what the collector answered (a load it carries).
const latencyRow = (name: string, r: { p50: number; p99: number; non2xx: number }) =>
  `  ${name.padEnd(52)} p50 ${fmt(r.p50, 1).padStart(6)} ms  p99 ${fmt(r.p99, 1).padStart(7)} ms  non-2xx ${r.non2xx}`
const latency: Record<string, { bare: Awaited<ReturnType<typeof measureLatency>>; collector: Awaited<ReturnType<typeof measureLatency>> }> = {}
for (const [name, offered] of [['half the bare load', bareEvents / 2], ["half the collector's", collector.eventsPerSecond / 2]] as const) {
  latency[name] = { bare: await measureLatency('bare', seconds, offered), collector: await measureLatency('collector', seconds, offered) }
  console.log(`  steady ${fmt(offered)} events/s offered (${name}):`)
  console.log(latencyRow('    bare Hono 204', latency[name].bare))
  console.log(latencyRow('    collector', latency[name].collector))
}
const halfLoad = latency['half the bare load']

console.log(`\nIntake: POST /v1/batch (Segment spec, write key), the same ${EVENTS_PER_BATCH} page views per batch, 32 connections, ${seconds} s each`)
const segmentBareBefore = await measureIntake('bare', seconds, 'segment')
const segment = await measureIntake('collector', seconds, 'segment')
const segmentBareAfter = await measureIntake('bare', seconds, 'segment')
const segmentBareEvents = (segmentBareBefore.eventsPerSecond + segmentBareAfter.eventsPerSecond) / 2
console.log(row('bare Hono 204 (before)', segmentBareBefore))
console.log(row('collector, durable SQLite commit', segment))
console.log(row('bare Hono 204 (after)', segmentBareAfter))
console.log(`  ratio collector / bare: ${fmt(segment.eventsPerSecond / segmentBareEvents, 2)}`)
const segmentStored = segment.storedEvents ?? 0
console.log(`  acknowledged ${fmt(segment.acknowledgedEvents)} events; SQLite holds ${fmt(segmentStored)}` + (segmentStored >= segment.acknowledgedEvents ? '' : ' (LOST ACKNOWLEDGED EVENTS)'))
if (segmentStored < segment.acknowledgedEvents) process.exitCode = 1

console.log(`\nSessions and stages: ${fmt(journeyEvents)} generated events (B2B personas), ${250} events a commit, through the store`)
const journeys = await benchJourneys(journeyEvents)
console.log(`  ingest, sessions and stages kept current  ${fmt(journeys.withMaintenance).padStart(9)} events/s`)
console.log(`  ingest, sessions and stages off (baseline) ${fmt(journeys.without).padStart(9)} events/s`)
console.log(`  ratio kept current / off: ${fmt(journeys.withMaintenance / journeys.without, 2)} (cost of keeping them current: ${fmt((1 - journeys.withMaintenance / journeys.without) * 100)} %)`)
console.log(`  waymark rebuild of ${fmt(journeys.events)} events (${fmt(journeys.sessions)} sessions): ${fmt(journeys.rebuildSeconds, 1)} s`)
console.log(`  database size: ${fmt(journeys.bytesPerEvent)} bytes per event, sessions and stages included`)
console.log(`\nReports over all ${fmt(journeys.events)} events (each dashboard view reads one of them), through the store, in this process`)
console.log(`  baseline: reading every session once ${fmt(journeys.sessionsPassMs)} ms`)
for (const [name, r] of Object.entries(journeys.reports))
  console.log(`  ${name.padEnd(10)} first ${fmt(r.first).padStart(7)} ms, repeated ${fmt(r.repeated).padStart(7)} ms  (${fmt(r.first / journeys.sessionsPassMs, 2)} × the baseline)`)
console.log(
  `  the funnel, repeated, against folding every owner's stage times in JavaScript (how it was counted before, ${fmt(journeys.stageTimesFoldMs)} ms): ` +
    `${fmt(journeys.reports.funnel.repeated / journeys.stageTimesFoldMs, 2)} ×`,
)

console.log(
  `\nDashboard views over their default range, the last 30 days of the ${fmt(journeys.events)} events (what a marketer opening each waits for), ` +
    `on the collector's report threads (started first, in ${fmt(journeys.threadsStart)} ms)`,
)
for (const [view, r] of Object.entries(journeys.views)) console.log(`  ${view.padEnd(22)} ${viewLine(r)}`)

console.log(`\nExport: ${fmt(exportSessions)} sessions of one site, each format in a process of its own (peak = its maximum resident memory)`)
const exported = await benchExport(exportSessions)
const exportRow = (name: string, r: typeof exported.baseline) =>
  `  ${name.padEnd(44)} ${fmt(r.rows / r.seconds).padStart(8)} rows/s  peak ${fmt(r.peakMB).padStart(4)} MB` + (r.bytes ? `  ${fmt(r.bytes / 1e6, 1)} MB written` : '')
console.log(exportRow('baseline: read the session rows, encode nothing', exported.baseline))
for (const [format, r] of Object.entries(exported.formats))
  console.log(exportRow(format, r) + `  ratio to baseline ${fmt(r.rows / r.seconds / (exported.baseline.rows / exported.baseline.seconds), 2)}`)

const coldStartMs = await measureColdStart()
console.log(`\nCold start: waymark start on a new SQLite file to the first answer of /w.js, best of 3: ${fmt(coldStartMs)} ms`)

// BENCH_CLICKHOUSE_EVENTS: events of the generated history both engines hold (default 75,000: one month of 20,000 visitors).
const clickhouseEvents = Number(process.env.BENCH_CLICKHOUSE_EVENTS ?? 75_000)
const ch = await benchClickHouse(seconds, clickhouseEvents)
console.log(`\nClickHouse (Debian's clickhouse-server, on this machine beside the collectors and the load generator)`)
console.log(`  intake, POST /e, ${seconds} s, 32 connections spread over the collectors: one collector ${fmt(ch.oneCollector)} events/s, three ${fmt(ch.threeCollectors)} events/s; ratio three / one ${fmt(ch.threeCollectors / ch.oneCollector, 2)}`)
console.log(`  history: ${fmt(ch.events)} generated events over ${ch.days} days, loaded into both in ${fmt(ch.loadSeconds)} s; SQLite's rebuild of their sessions and stages ${fmt(ch.sqliteRebuildSeconds)} s; then the processor's fold of them all, started after, ${fmt(ch.foldSeconds)} s`)
console.log(`  bytes on disk per event, ${fmt(ch.events)} generated events: SQLite ${fmt(ch.sqliteBytesPerEvent)} B (with sessions and stages), ClickHouse events table ${fmt(ch.clickhouseBytesPerEvent)} B; ratio ${fmt(ch.clickhouseBytesPerEvent / ch.sqliteBytesPerEvent, 2)} (plus ${fmt(ch.arrivalsBytesPerEvent)} B for each event of the last month or two, kept again by time received for the processor)`)
for (const r of ch.reports)
  console.log(`  report ${r.name.padEnd(8)} on ${fmt(ch.events)} events: SQLite ${fmt(r.sqliteMs)} ms, ClickHouse ${fmt(r.clickhouseMs)} ms; ratio ${fmt(r.clickhouseMs / r.sqliteMs, 2)}`)

const slowest = Object.entries(journeys.reports)
  .map(([name, r]) => ({ name, ms: Math.max(r.first, r.repeated) }))
  .sort((a, b) => b.ms - a.ms)[0]
const rate = (r: typeof exported.baseline) => r.rows / r.seconds
console.log('\nBudgets (the performance issue), each figure from this run')
console.log(
  budgetTable(
    budgetRows({
      tagGzip: gzipSize(code),
      tagEvaluateMs: mainThread.evaluateMs,
      tagEmptyEvaluateMs: mainThread.emptyEvaluateMs,
      tagForcedLayouts: mainThread.forcedLayouts,
      intakeRatio: collector.eventsPerSecond / bareEvents,
      segmentIntakeRatio: segment.eventsPerSecond / segmentBareEvents,
      halfLoadP99: halfLoad.collector.p99,
      bareHalfLoadP99: halfLoad.bare.p99,
      bytesPerEvent: journeys.bytesPerEvent,
      journeyEvents: journeys.events,
      rebuildSeconds: journeys.rebuildSeconds,
      maintenanceCost: 1 - journeys.withMaintenance / journeys.without,
      slowestReport: slowest,
      slowestView: Object.entries(journeys.views)
        .map(([name, r]) => ({ name, ms: Math.max(r.first, r.repeated) }))
        .sort((a, b) => b.ms - a.ms)[0],
      export: {
        csv: rate(exported.formats.csv),
        ndjson: rate(exported.formats.ndjson),
        parquet: rate(exported.formats.parquet),
        peakMB: Math.max(...Object.values(exported.formats).map((r) => r.peakMB)),
      },
      coldStartMs,
    }),
  ),
)
