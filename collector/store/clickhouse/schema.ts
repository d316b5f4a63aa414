import Database from 'better-sqlite3'
import { migrate } from '../sqlite'
import { sqlNumber, type ClickHouse } from './connection'

/**
 * The derived tables the processor publishes to ClickHouse, with the columns ClickHouse sorts
 * them by. The sort key holds the row's SQLite primary key (and site_id, fixed for a row), so
 * ReplacingMergeTree keeps one row per key: the one of the highest _version, or a tombstone
 * (_deleted = 1) when the processor removed it.
 */
export const MIRRORED_TABLES = {
  sessions: ['site_id', 'id'],
  session_stages: ['session_id', 'journey'],
  stage_entries: ['site_id', 'journey', 'owner_type', 'owner_id', 'stage'],
  owner_stages: ['site_id', 'journey', 'owner_type', 'owner_id'],
  people: ['site_id', 'id'],
  companies: ['site_id', 'id'],
  identities: ['site_id', 'visitor_id'],
  traits: ['subject_id', 'key'],
  // Stage alerts queued by the fold and their delivery attempts: what collectors list and log.
  alert_outbox: ['site_id', 'id'],
  alert_deliveries: ['outbox_id', 'attempt'],
} as const satisfies Record<string, readonly string[]>
export type MirroredTable = keyof typeof MIRRORED_TABLES

/** Events are sorted by visitor, so one visitor's events stay together (on one shard, on a cluster). */
const EVENTS_ORDER = ['site_id', 'visitor_id', 'id']

/**
 * Columns SQLite keeps for reads of its own that ClickHouse makes another way: neither created in
 * ClickHouse nor published to it. (The funnel reads each entry's next stage from `next_at` on
 * SQLite; ClickHouse pairs each owner's entries as it counts. SQLite's sessions hold whose they
 * are; ClickHouse joins them to their owners as it reads. A column added later would be empty in
 * the rows published before.)
 */
const SQLITE_ONLY_COLUMNS: Partial<Record<string, string[]>> = { stage_entries: ['next_at'], sessions: ['person_id', 'company_id'] }

export interface Column {
  name: string
  /** The ClickHouse type. */
  type: string
}

/**
 * The columns of a SQLite table, as ClickHouse types: one schema, SQLite's, so both engines hold
 * the same columns by construction. Read from a fresh in-memory SQLite database at its latest migration.
 */
export function columnsLikeSqlite(): Record<string, Column[]> {
  const db = new Database(':memory:')
  try {
    migrate(db)
    const tables = ['events', 'sites', 'alert_hooks', ...Object.keys(MIRRORED_TABLES)]
    return Object.fromEntries(
      tables.map((table) => {
        const sortedBy: readonly string[] = table === 'events' ? EVENTS_ORDER : table === 'sites' || table === 'alert_hooks' ? ['id'] : MIRRORED_TABLES[table as MirroredTable]
        const info = db.pragma(`table_info(${table})`) as { name: string; type: string; notnull: number; pk: number }[]
        return [
          table,
          info.filter((c) => !SQLITE_ONLY_COLUMNS[table]?.includes(c.name)).map((c) => {
            const base = c.type === 'INTEGER' ? 'Int64' : c.type === 'REAL' ? 'Float64' : 'String'
            const nullable = !c.notnull && !c.pk && !sortedBy.includes(c.name)
            return { name: c.name, type: nullable ? `Nullable(${base})` : base }
          }),
        ]
      }),
    )
  } finally {
    db.close()
  }
}

let published: Record<string, string> | undefined
/** The columns of a mirrored table that the processor publishes, as a select list. */
export function publishedColumns(table: MirroredTable): string {
  published ??= Object.fromEntries(Object.entries(columnsLikeSqlite()).map(([name, columns]) => [name, columns.map((c) => c.name).join(', ')]))
  return published[table]
}

const columnList = (columns: Column[]) => columns.map((c) => `${c.name} ${c.type}`).join(', ')

/**
 * A table of the schema. On a cluster, one with `shardBy` is made on every shard as
 * `<name>_local`, with a Distributed table `<name>` over them on the server Waymark connects to;
 * the others (sites, the lease, bookkeeping: small and rarely read) live on that server alone.
 */
interface TableSpec {
  name: string
  columns: string
  engine: string
  /** The sharding expression: every row of one key (and one visitor's events) on one shard. */
  shardBy?: string
  /**
   * A copy of every row inserted into this table from now on (a materialized view on each server
   * that holds it), and of the rows it already holds that match `since`.
   */
  feed?: { from: string; since: string }
}

const hashOf = (columns: readonly string[]) => `cityHash64(${columns.join(', ')})`

/** The month (YYYYMM, UTC) an event was received in: the partitions of `arrivals`. */
const ARRIVALS_MONTH = 'toYYYYMM(toDateTime(toUInt32(intDiv(received_at, 1000))))'
/** What `arrivals` holds at least: the processor reads it for windows that start later than this ago. */
export const ARRIVALS_KEPT_MS = 28 * 86_400_000

/**
 * Drops the months of `arrivals` before last month (a partition drop, cheap at any size): what
 * is left always covers the last ARRIVALS_KEPT_MS.
 */
export async function dropOldArrivals(ch: ClickHouse, now = Date.now()): Promise<void> {
  const { database: db, cluster } = ch.target
  const date = new Date(now)
  const lastMonth = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - 1, 1))
  const keep = lastMonth.getUTCFullYear() * 100 + lastMonth.getUTCMonth() + 1
  const local = `arrivals${cluster ? '_local' : ''}`
  for (const server of cluster ? ch.shards() : [ch]) {
    const months = await server.rows<{ partition: string }>(
      `SELECT DISTINCT partition FROM system.parts WHERE database = '${db}' AND table = '${local}' AND active`,
    )
    for (const { partition } of months) if (Number(partition) < keep) await server.exec(`ALTER TABLE ${db}.${local} DROP PARTITION ${sqlNumber(Number(partition))}`)
  }
}

/** Each step a list of tables to create. Append steps, never edit one. */
function migrations(): TableSpec[][] {
  const columns = columnsLikeSqlite()
  const mirrored = (...tables: MirroredTable[]) =>
    tables.map((table) => ({
      name: table,
      columns: `${columnList(columns[table])}, _version UInt64, _deleted UInt8`,
      engine: `ReplacingMergeTree(_version) ORDER BY (${MIRRORED_TABLES[table].join(', ')})`,
      shardBy: hashOf(MIRRORED_TABLES[table]),
    }))
  return [
    [
      // The last row written for an id is kept: a retry to another collector stores the event once.
      // Sharded by visitor: one visitor's events, and every copy of one event, on one shard.
      { name: 'events', columns: columnList(columns.events), engine: `ReplacingMergeTree ORDER BY (${EVENTS_ORDER.join(', ')})`, shardBy: hashOf(['site_id', 'visitor_id']) },
      { name: 'sites', columns: `${columnList(columns.sites)}, _version UInt64`, engine: 'ReplacingMergeTree(_version) ORDER BY id' },
      { name: 'processor', columns: 'name String, holder String, expires_at Int64, watermark Int64, _version UInt64', engine: 'ReplacingMergeTree(_version) ORDER BY name' },
      ...mirrored('sessions', 'session_stages', 'stage_entries', 'owner_stages', 'people', 'companies', 'identities', 'traits'),
    ],
    [
      // How far `waymark migrate --to` copied each SQLite file, so an interrupted copy resumes.
      { name: 'migration_progress', columns: 'source String, last_rowid Int64, _version UInt64', engine: 'ReplacingMergeTree(_version) ORDER BY source' },
    ],
    [
      // What a collector asks of the processor (an erasure, a rebuild) and its answer: asked at
      // version 1, answered (answered_at > 0, the answer as JSON) at version 2.
      {
        name: 'requests',
        columns: 'id String, kind String, site_id String, body String, asked_at Int64, answered_at Int64, answer String, _version UInt64',
        engine: 'ReplacingMergeTree(_version) ORDER BY id',
      },
    ],
    [
      // Stage alerts: hooks are made and removed (a tombstone) by any collector and read by the
      // processor, which queues and delivers the alerts and publishes the outbox and its log.
      { name: 'alert_hooks', columns: `${columnList(columns.alert_hooks)}, _version UInt64, _deleted UInt8`, engine: 'ReplacingMergeTree(_version) ORDER BY id' },
      ...mirrored('alert_outbox', 'alert_deliveries'),
    ],
    [
      // Events again, by the time they were received, for the processor: each pass reads the last
      // moments, which `events` (sorted by visitor) can only find by a scan of all its rows. Kept for
      // this month and the last (the processor drops older months), so partitions are months.
      {
        name: 'arrivals',
        columns: columnList(columns.events),
        engine: `MergeTree PARTITION BY ${ARRIVALS_MONTH} ORDER BY (received_at, id)`,
        shardBy: hashOf(['site_id', 'visitor_id']),
        feed: { from: 'events', since: `received_at >= ${sqlNumber(Date.now() - ARRIVALS_KEPT_MS)}` },
      },
    ],
  ]
}

/**
 * Creates or upgrades the database's tables: on the server, or on a cluster's every shard. Every
 * statement is idempotent, so collectors that start together may all run it.
 */
export async function ensureSchema(ch: ClickHouse): Promise<void> {
  const { database: db, cluster } = ch.target
  const everywhere = cluster ? [ch, ...ch.shards()] : [ch]
  for (const server of everywhere) await server.exec(`CREATE DATABASE IF NOT EXISTS ${db}`)
  await ch.exec(`CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32) ENGINE = ReplacingMergeTree ORDER BY version`)
  const [{ current }] = await ch.rows<{ current: number }>(`SELECT max(version) AS current FROM ${db}.schema_migrations`)
  const steps = migrations()
  if (current > steps.length)
    throw new Error(`the ClickHouse database ${db} is at schema version ${current}, newer than this Waymark knows (${steps.length}): upgrade Waymark`)
  for (let version = current; version < steps.length; version++) {
    for (const table of steps[version]) {
      const sharded = Boolean(cluster && table.shardBy)
      const local = (name: string) => `${db}.${name}${sharded ? '_local' : ''}`
      const holders = sharded ? ch.shards() : [ch]
      for (const server of holders) await server.exec(`CREATE TABLE IF NOT EXISTS ${local(table.name)} (${table.columns}) ENGINE = ${table.engine}`)
      if (sharded) await ch.exec(`CREATE TABLE IF NOT EXISTS ${db}.${table.name} (${table.columns}) ENGINE = Distributed(${cluster}, ${db}, ${table.name}_local, ${table.shardBy})`)
      if (table.feed) {
        // The view first, then the copy: a row inserted in between is copied twice, never missed.
        for (const server of holders) {
          await server.exec(`CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${table.name}_feed TO ${local(table.name)} AS SELECT * FROM ${local(table.feed.from)}`)
          await server.exec(`INSERT INTO ${local(table.name)} SELECT * FROM ${local(table.feed.from)} WHERE ${table.feed.since}`)
        }
      }
    }
    await ch.insert('schema_migrations', [{ version: version + 1 }])
  }
}

/** The processor's lease: who holds it until when, and how far its fold has read (its watermark). */
export interface Lease {
  holder: string
  expires_at: number
  watermark: number
  _version: number
}

/** The lease as it stands (undefined before any processor or migration wrote one). */
export const readLease = async (ch: ClickHouse): Promise<Lease | undefined> =>
  (await ch.rows<Lease>(`SELECT holder, expires_at, watermark, _version FROM ${ch.target.database}.processor FINAL WHERE name = 'main'`))[0]

/** How long a deletion may take before the caller is told it is still running. */
const MUTATION_TIMEOUT_MS = 600_000

/**
 * Deletes rows for good (an ALTER … DELETE, which rewrites the parts that hold them): on the
 * server, or on each shard's local table, since a Distributed table takes no mutations. With
 * `wait`, resolves only once every server has finished (18.16 has no mutations_sync setting).
 */
export async function deleteRows(ch: ClickHouse, table: 'events' | 'arrivals' | MirroredTable, where: string, wait: boolean): Promise<void> {
  const { database: db, cluster } = ch.target
  const servers = cluster ? ch.shards() : [ch]
  const local = `${table}${cluster ? '_local' : ''}`
  for (const server of servers) await server.exec(`ALTER TABLE ${db}.${local} DELETE WHERE ${where}`)
  if (!wait) return
  const started = Date.now()
  for (const server of servers) {
    for (;;) {
      const [{ running }] = await server.rows<{ running: number }>(
        `SELECT count() AS running FROM system.mutations WHERE database = '${db}' AND table = '${local}' AND is_done = 0`,
      )
      if (!running) break
      if (Date.now() - started > MUTATION_TIMEOUT_MS) throw new Error(`deleting from ${local} has run for ${MUTATION_TIMEOUT_MS / 60_000} minutes and is still running; see system.mutations`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}
