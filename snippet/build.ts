import { build } from 'esbuild'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync, constants } from 'node:zlib'

const entry = fileURLToPath(new URL('./index.ts', import.meta.url))

/** Bundles and minifies the snippet into the one file the collector serves at /w.js. */
export async function buildSnippet(): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2019',
    legalComments: 'none',
    // Internal property names end in "_" so the minifier may shorten them; wire keys and DOM names do not.
    mangleProps: /_$/,
    // No "use strict" prologue: the bundle is one closure that needs none.
    tsconfigRaw: { compilerOptions: { alwaysStrict: false } },
    write: false,
  })
  return result.outputFiles[0].text.trim()
}

export const gzipSize = (code: string) =>
  gzipSync(code, { level: constants.Z_BEST_COMPRESSION }).length

// `npm run build:snippet` writes dist/w.js and prints its size.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const code = await buildSnippet()
  mkdirSync('dist', { recursive: true })
  writeFileSync('dist/w.js', code)
  console.log(`dist/w.js: ${Buffer.byteLength(code)} bytes, ${gzipSize(code)} bytes gzip -9`)
}
