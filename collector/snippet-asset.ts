import { createHash } from 'node:crypto'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { buildSnippet } from '../snippet/build'

/** The snippet as served at /w.js: built once at start, compressed ahead of time. */
export interface SnippetAsset {
  code: string
  gzip: Buffer
  brotli: Buffer
  etag: string
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
