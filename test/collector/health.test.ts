import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { collectorWithSite } from './helpers'

describe('health checks for load balancers', () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>> | undefined
  afterEach(() => c?.close())

  it('/healthz answers while the process is up; /readyz while the database takes writes', async () => {
    c = await collectorWithSite()
    expect((await fetch(`${c.url}/healthz`)).status).toBe(200)
    expect((await fetch(`${c.url}/readyz`)).status).toBe(200)
    // Another process holds the database's write lock: not ready, and said quickly.
    const other = new Database(c.dbPath)
    other.exec('BEGIN EXCLUSIVE')
    const started = performance.now()
    const busy = await fetch(`${c.url}/readyz`)
    expect(busy.status).toBe(503)
    expect(await busy.text()).toMatch(/not writable/)
    expect(performance.now() - started).toBeLessThan(2000)
    expect((await fetch(`${c.url}/healthz`)).status).toBe(200)
    other.exec('ROLLBACK')
    other.close()
    expect((await fetch(`${c.url}/readyz`)).status).toBe(200)
  })
})
