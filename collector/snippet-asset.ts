import { createHash } from 'node:crypto'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { buildDashboard, DASHBOARD_HTML } from '../dashboard/build'
import { buildSnippet } from '../snippet/build'

/** The snippet as served at /w.js: built once at start, compressed ahead of time. */
export interface SnippetAsset {
  code: string
  gzip: Buffer
  brotli: Buffer
  etag: string
}

/** The dashboard's page and script, built once at start. */
export interface DashboardAsset {
  html: string
  script: string
  etag: string
}

export async function loadDashboardAsset(): Promise<DashboardAsset> {
  const script = await buildDashboard()
  return { html: DASHBOARD_HTML, script, etag: `"${createHash('sha256').update(script).digest('base64url').slice(0, 22)}"` }
}

export async function loadSnippetAsset(): Promise<SnippetAsset> {
  const code = await buildSnippet()
  return {
    code,
    gzip: gzipSync(code, { level: constants.Z_BEST_COMPRESSION }),
    brotli: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    etag: `"${createHash('sha256').update(code).digest('base64url').slice(0, 22)}"`,
  }
}
