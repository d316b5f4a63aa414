import Database from 'better-sqlite3'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ulid } from 'ulid'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, startWaymark, waymark } from '../browser/processes'
import { batch, CHROME_UA, pageview } from './helpers'

const STRESS = process.env.WAYMARK_STRESS === '1'
const FLOOD_MS = STRESS ? 30_000 : 4_000
const CONNECTIONS = STRESS ? 256 : 96

/** The peak resident memory of a process so far (Linux: VmHWM), in MB. */
const peakMB = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024

describe('under a flood', () => {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-overload-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('answers 503 with Retry-After quickly rather than queueing, keeps memory bounded, loses no acknowledged event, and recovers', async () => {
    const db = join(dir, 'waymark.db')
    const siteId = /site id +(\S+)/.exec(await waymark('site', 'add', 'localhost', '--db', db))![1]
    process.env.WAYMARK_RATE_PER_ADDRESS = '0'
    process.env.WAYMARK_RATE_PER_SITE = '0'
    // A low lag threshold (catch-up passes yield every 5 ms), so this machine's own load generator can push the collector past it.
    process.env.WAYMARK_MAX_LAG_MS = '15'
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const collector = await startWaymark(['--db', db, '--port', String(port), '--host', '127.0.0.1'])
    const statuses = new Map<number, number>()
    const acknowledged: string[] = []
    let slowest503 = 0
    const until = Date.now() + FLOOD_MS
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < until) {
          const events = Array.from({ length: 10 }, () => pageview({ u: 'http://localhost/pricing', ti: 'x'.repeat(400) }))
          const started = performance.now()
          const response = await fetch(`${url}/e`, {
            method: 'POST',
            body: JSON.stringify(batch(siteId, events)),
            headers: { Origin: 'http://localhost', 'User-Agent': CHROME_UA },
          }).catch(() => undefined)
          if (!response) continue
          await response.arrayBuffer()
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
          if (response.status === 200) acknowledged.push(...events.map((e) => e.id))
          if (response.status === 503) {
            expect(response.headers.get('retry-after')).toBe('1')
            slowest503 = Math.max(slowest503, performance.now() - started)
          }
        }
      }),
    )
    const peak = peakMB(collector.process.pid!)
    // The flood is over: after the Retry-After it asked for, it takes batches again.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const after = await fetch(`${url}/e`, { method: 'POST', body: JSON.stringify(batch(siteId, [pageview({ id: ulid(), u: 'http://localhost/' })])), headers: { Origin: 'http://localhost', 'User-Agent': CHROME_UA } })
    expect(after.status).toBe(200)
    await collector.stop()

    console.log(`overload: ${CONNECTIONS} connections for ${FLOOD_MS / 1000} s; answers ${JSON.stringify(Object.fromEntries(statuses))}; ` +
      `${acknowledged.length} events acknowledged; slowest 503 ${slowest503.toFixed(0)} ms; collector peak memory ${peak.toFixed(0)} MB`)
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0)
    expect([...statuses.keys()].every((s) => s === 200 || s === 503)).toBe(true)
    expect(peak).toBeLessThan(400)
    const store = new Database(db, { readonly: true })
    const has = store.prepare('SELECT 1 FROM events WHERE id = ?').pluck()
    expect(acknowledged.filter((id) => !has.get(id))).toEqual([])
    store.close()
  }, FLOOD_MS + 60_000)
})
