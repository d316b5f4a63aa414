import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../bin/waymark.js', import.meta.url))

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

/**
 * Cold start as a user meets it: from launching `waymark start` (what `npm start` runs) on a new
 * SQLite file to the first answer of GET /w.js, polled every 5 ms; the best of `runs`, since the
 * first run also warms the disk cache.
 */
export async function measureColdStart(runs = 3): Promise<number> {
  const times: number[] = []
  for (let run = 0; run < runs; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'waymark-cold-'))
    const port = await freePort()
    const started = performance.now()
    const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--db', join(dir, 'waymark.db')], { stdio: 'ignore' })
    try {
      for (;;) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/w.js`)).ok) break
        } catch {}
        if (performance.now() - started > 30_000) throw new Error('the collector did not serve /w.js within 30 s')
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      times.push(performance.now() - started)
    } finally {
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return Math.min(...times)
}
