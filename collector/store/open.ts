import type { WaymarkConfig } from '../stages/config'
import { openClickHouseStore } from './clickhouse'
import { openSqliteStore, type SqliteOptions } from './sqlite'
import type { Store } from './types'

/** Which store: a ClickHouse URL (--store, WAYMARK_STORE), else the SQLite file. */
export interface StoreChoice {
  dbPath: string
  storeUrl?: string
}

export const isClickHouse = (choice: StoreChoice) => Boolean(choice.storeUrl)

/** The SQLite file by default; ClickHouse when a clickhouse:// URL is given. */
export async function openStore(choice: StoreChoice, options: SqliteOptions & { config?: WaymarkConfig; localClock?: () => number } = {}): Promise<Store> {
  if (choice.storeUrl) return openClickHouseStore(choice.storeUrl, { config: options.config, localClock: options.localClock })
  return openSqliteStore(choice.dbPath, options)
}

/** How the start-up message names the store. */
export const describeStore = (choice: StoreChoice) =>
  choice.storeUrl ? `ClickHouse: ${choice.storeUrl.replace(/\/\/[^@/]*@/, '//')}` : `SQLite: ${choice.dbPath}`
