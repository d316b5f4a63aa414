import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client'

/** Where a `clickhouse://[user:password@]host:port/database` store URL points. */
export interface ClickHouseTarget {
  /** The server's HTTP interface. */
  http: string
  database: string
  username: string
  password: string
  /**
   * A cluster of the server's `remote_servers` (`?cluster=name`): events and journey tables are
   * sharded over it. `shards` (`&shards=host:8123,host:8123`, in the cluster's order) are the shards'
   * HTTP addresses, where Waymark creates the local tables (no ZooKeeper needed for ON CLUSTER).
   */
  cluster?: string
  shards: string[]
}

export function parseStoreUrl(url: string): ClickHouseTarget {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error(`the store "${url}" is not a URL: give clickhouse://host:8123/database`)
  }
  if (parsed.protocol !== 'clickhouse:' && parsed.protocol !== 'clickhouses:')
    throw new Error(`the store "${url}" must start with clickhouse:// (or clickhouses:// for HTTPS)`)
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''))
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database))
    throw new Error(`the store "${url}" names no database, or one with characters other than letters, digits and _: give clickhouse://host:8123/waymark`)
  const scheme = parsed.protocol === 'clickhouses:' ? 'https' : 'http'
  const cluster = parsed.searchParams.get('cluster') ?? undefined
  if (cluster !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(cluster)) throw new Error(`the store's cluster "${cluster}" must be a name from the servers' remote_servers`)
  const shards = (parsed.searchParams.get('shards') ?? '').split(',').filter(Boolean).map((host) => `${scheme}://${host}`)
  if (cluster && !shards.length)
    throw new Error(`the store names cluster ${cluster} but not its shards: add &shards=host1:8123,host2:8123 (each shard's HTTP address, in the cluster's order)`)
  return {
    http: `${scheme}://${parsed.hostname}:${parsed.port || (scheme === 'https' ? 8443 : 8123)}`,
    database,
    username: decodeURIComponent(parsed.username) || 'default',
    password: decodeURIComponent(parsed.password),
    cluster,
    shards,
  }
}

/**
 * Values written into SQL. ClickHouse 18.16 (Debian's) has no query parameters over HTTP, so every
 * value is quoted here and nowhere else: strings escaped, numbers checked to be numbers.
 */
export const sqlString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
export const sqlNumber = (value: number) => {
  if (!Number.isFinite(value)) throw new Error(`not a number for SQL: ${value}`)
  return String(Math.trunc(value))
}
export const sqlList = (values: Iterable<string>) => {
  const quoted = [...values].map(sqlString)
  // An empty IN () is a syntax error; a list that matches nothing is not.
  return quoted.length ? `(${quoted.join(', ')})` : `('')`
}

export interface ClickHouse {
  target: ClickHouseTarget
  /** Rows of a SELECT, each keyed by column name. */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>
  /**
   * The rows of a SELECT as one query, handed out `chunk` rows at a time as they arrive, so memory
   * stays flat whatever the size. Streams use connections of their own: a caller that queries
   * again for each chunk (its stages, its sessions) never waits behind the streams themselves.
   */
  stream<T = Record<string, unknown>>(sql: string, chunk: number): AsyncGenerator<T[]>
  /** Runs a statement that returns nothing (DDL, ALTER … DELETE). */
  exec(sql: string): Promise<void>
  /** Inserts rows into a table of the database; resolves once the server (every shard concerned, on a cluster) has written them. */
  insert(table: string, rows: object[]): Promise<void>
  /** On a cluster, a connection to each shard (for its local tables); none on a single server. */
  shards(): ClickHouse[]
  close(): Promise<void>
}

export function connectClickHouse(url: string): ClickHouse {
  return connectTo(parseStoreUrl(url))
}

function connectTo(target: ClickHouseTarget): ClickHouse {
  const settings: ClickHouseSettings = {
    // 64-bit integers (timestamps in ms) as JSON numbers: they are all below 2^53.
    output_format_json_quote_64bit_integers: 0,
    // A chunk's ids go into the next query's IN lists (18.16 has no query parameters): more than the default 256 KB.
    max_query_size: '16777216',
    // A Distributed table's insert answers once the shards have the rows, not once they are queued to be sent.
    ...(target.cluster ? { insert_distributed_sync: 1 } : {}),
  }
  const client: ClickHouseClient = createClient({ url: target.http, username: target.username, password: target.password, request_timeout: 30_000, clickhouse_settings: settings })
  // A stream may wait on its reader (an export to a slow download) far longer than a query takes.
  const streams: ClickHouseClient = createClient({
    url: target.http, username: target.username, password: target.password, request_timeout: 600_000, max_open_connections: 64,
    // A stream its reader left early is cancelled on purpose (see stream()): the client's warning about that is noise.
    log: { level: ClickHouseLogLevel.ERROR },
    // A whole table sorted for one read: past this much memory, ClickHouse sorts on disk.
    clickhouse_settings: {
      ...settings,
      max_bytes_before_external_sort: '268435456',
      // Headers now and then while the server works (sorting a large table, say), so no proxy between takes the connection for idle.
      send_progress_in_http_headers: 1,
      http_headers_progress_interval_ms: '30000',
    },
  })
  let shards: ClickHouse[] | undefined
  return {
    shards: () => (shards ??= target.shards.map((http) => connectTo({ ...target, http, cluster: undefined, shards: [] }))),
    target,
    async rows<T>(sql: string) {
      const result = await client.query({ query: sql, format: 'JSONEachRow' })
      return (await result.json()) as T[]
    },
    async *stream<T>(sql: string, chunk: number) {
      const stop = new AbortController()
      const result = await streams.query({ query: sql, format: 'JSONEachRow', abort_signal: stop.signal })
      let done = false
      try {
        let rows: T[] = []
        for await (const arrived of result.stream()) {
          for (const row of arrived) {
            rows.push(row.json<T>())
            if (rows.length === chunk) {
              yield rows
              rows = []
            }
          }
        }
        if (rows.length) yield rows
        done = true
      } finally {
        // A reader that stops early: the query is cancelled rather than read to its end.
        if (!done) stop.abort()
      }
    },
    async exec(sql) {
      await client.command({ query: sql })
    },
    async insert(table, rows) {
      if (!rows.length) return
      await client.insert({ table: `${target.database}.${table}`, values: rows, format: 'JSONEachRow' })
    },
    async close() {
      await Promise.all((shards ?? []).map((shard) => shard.close()))
      await client.close()
      await streams.close()
    },
  }
}
