import { resolve } from 'node:path'

export interface CollectorConfig {
  port: number
  host: string | undefined
  dbPath: string
  /** The address pages load the snippet from, used in the tag that `site add` prints. */
  publicUrl: string
}

export const DEFAULT_PORT = 8787
export const DEFAULT_DB = './data/waymark.db'

export interface ConfigFlags {
  port?: string
  host?: string
  db?: string
  url?: string
}

/** Settings from flags, then environment, then defaults. */
export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  const portText = flags.port ?? env.PORT ?? String(DEFAULT_PORT)
  const port = Number(portText)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`port "${portText}" is not a port number: give --port or PORT a number from 1 to 65535`)
  return {
    port,
    host: flags.host ?? env.HOST,
    dbPath: resolve(flags.db ?? env.WAYMARK_DB ?? DEFAULT_DB),
    publicUrl: (flags.url ?? env.WAYMARK_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
  }
}
