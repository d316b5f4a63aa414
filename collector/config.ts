import { resolve } from 'node:path'
import { DEFAULT_RATE_LIMITS, MAX_LOOP_LAG_MS, type RateLimits } from './ingest/admission'
import { loadConfig, type WaymarkConfig } from './stages/config'

export interface CollectorConfig {
  port: number
  host: string | undefined
  dbPath: string
  /** A clickhouse://host:8123/database URL (--store, WAYMARK_STORE): events and journeys in ClickHouse rather than SQLite. */
  storeUrl: string | undefined
  /** The address pages load the snippet from, used in the tag that `site add` prints. */
  publicUrl: string
  /** Journeys and session timeout, from waymark.config.json (or --config / WAYMARK_CONFIG), else the defaults. */
  journeys: WaymarkConfig
  /** Where the journeys came from, for the start-up message. */
  journeysSource: string
  limits: RateLimits
  /** Take the client's address from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy: boolean
  /** WAYMARK_BOTS=drop: bots' events are acknowledged and not stored. */
  dropBots: boolean
  /** WAYMARK_MAX_LAG_MS: event-loop lag past which batches get 503. */
  maxLoopLagMs: number
  /** WAYMARK_REPORT_THREADS: how many reports of a SQLite file run at once, each on a thread of its own. */
  reportThreads: number | undefined
  /** WAYMARK_REPORT_HEAP_MB: the memory each of those threads may use; a report that needs more is answered 503. */
  reportHeapMb: number | undefined
}

export const DEFAULT_PORT = 8787
export const DEFAULT_DB = './data/waymark.db'

export interface ConfigFlags {
  port?: string
  host?: string
  db?: string
  store?: string
  url?: string
  config?: string
}

function rate(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const number = Number(value)
  if (!Number.isFinite(number) || number < 0) throw new Error(`${name} "${value}" must be a number of requests or events a second (0: no limit)`)
  return number
}

/** A setting that must be a whole number of at least `least`; unset, the default decides. */
function wholeNumber(value: string | undefined, name: string, what: string, least: number): number | undefined {
  if (value === undefined || value === '') return undefined
  const number = Number(value)
  if (!Number.isInteger(number) || number < least) throw new Error(`${name} "${value}" must be a whole number of ${what}, ${least} or more`)
  return number
}

function bots(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'store') return false
  if (value === 'drop') return true
  throw new Error(`WAYMARK_BOTS "${value}" must be store (the default: kept, but out of sessions and journeys) or drop`)
}

function storeUrl(value: string | undefined): string | undefined {
  if (value === undefined || value === '' || value === 'sqlite') return undefined
  if (!/^clickhouses?:\/\//.test(value))
    throw new Error(`store "${value}" must be sqlite (the default, the file --db names) or clickhouse://host:8123/database`)
  return value
}

/** Settings from flags, then environment, then defaults. */
export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  const portText = flags.port ?? env.PORT ?? String(DEFAULT_PORT)
  const port = Number(portText)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`port "${portText}" is not a port number: give --port or PORT a number from 1 to 65535`)
  const { config, source } = loadConfig(flags.config ?? env.WAYMARK_CONFIG)
  return {
    journeys: config,
    journeysSource: source,
    port,
    host: flags.host ?? env.HOST,
    dbPath: resolve(flags.db ?? env.WAYMARK_DB ?? DEFAULT_DB),
    storeUrl: storeUrl(flags.store ?? env.WAYMARK_STORE),
    publicUrl: (flags.url ?? env.WAYMARK_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    limits: {
      perAddress: rate(env.WAYMARK_RATE_PER_ADDRESS, 'WAYMARK_RATE_PER_ADDRESS', DEFAULT_RATE_LIMITS.perAddress),
      perSite: rate(env.WAYMARK_RATE_PER_SITE, 'WAYMARK_RATE_PER_SITE', DEFAULT_RATE_LIMITS.perSite),
    },
    trustProxy: env.WAYMARK_TRUST_PROXY === '1' || env.WAYMARK_TRUST_PROXY === 'true',
    dropBots: bots(env.WAYMARK_BOTS),
    maxLoopLagMs: rate(env.WAYMARK_MAX_LAG_MS, 'WAYMARK_MAX_LAG_MS', MAX_LOOP_LAG_MS) || Infinity,
    reportThreads: wholeNumber(env.WAYMARK_REPORT_THREADS, 'WAYMARK_REPORT_THREADS', 'reports that may run at once', 1),
    reportHeapMb: wholeNumber(env.WAYMARK_REPORT_HEAP_MB, 'WAYMARK_REPORT_HEAP_MB', 'megabytes of memory a report may use', 64),
  }
}
