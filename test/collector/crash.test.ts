import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSqliteStore } from '../../collector/store/sqlite'
import { freePort, startWaymark, waymark } from '../browser/processes'
import { batch, CHROME_UA, pageview } from './helpers'

/** WAYMARK_STRESS=1 (npm run test:stress) runs many more rounds, each longer. */
const STRESS = process.env.WAYMARK_STRESS === '1'
const ROUNDS = STRESS ? 25 : 4
const LOAD_MS = STRESS ? [800, 3000] : [400, 900]
const CONNECTIONS = 8

/**
 * A load generator that behaves as the snippet does: it sends batches of five page views with
 * fresh ids, counts an event as acknowledged only on a 2xx, keeps what was not acknowledged to
 * send again, and sometimes sends an acknowledged batch again (a retry whose answer was lost).
 */
function loadGenerator(siteId: string) {
  const acknowledged = new Set<string>()
  const unacknowledged = new Map<string, ReturnType<typeof batch>>()
  let running = false
  let sent = 0
  const post = async (url: string, body: ReturnType<typeof batch>) => {
    try {
      const response = await fetch(`${url}/e`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'text/plain', Origin: 'http://localhost', 'User-Agent': CHROME_UA },
      })
      await response.arrayBuffer()
      return response.ok
    } catch {
      return false // refused, reset or cut off by the kill: not acknowledged
    }
  }
  const send = async (url: string, body: ReturnType<typeof batch>) => {
    sent++
    if (await post(url, body)) {
      for (const event of body.e) acknowledged.add(event.id)
      unacknowledged.delete(body.e[0].id)
    } else unacknowledged.set(body.e[0].id, body)
  }
  return {
    acknowledged,
    unacknowledged,
    sent: () => sent,
    /** Runs `connections` loops against the collector until stopped. */
    async run(url: string, connections = CONNECTIONS) {
      running = true
      const visitor = () => ulid()
      await Promise.all(
        Array.from({ length: connections }, async (_, n) => {
          let i = 0
          while (running) {
            const body = batch(siteId, Array.from({ length: 5 }, () => pageview({ u: 'http://localhost/pricing' })), { v: visitor() })
            await send(url, body)
            // Now and then, a retry of a batch that was answered: it must not be stored twice.
            if (++i % 7 === n % 7) await post(url, body)
          }
        }),
      )
    },
    stop() {
      running = false
    },
    /** Sends every batch not yet acknowledged, until each is. */
    async resendAll(url: string) {
      for (let attempt = 0; unacknowledged.size && attempt < 20; attempt++)
        for (const body of [...unacknowledged.values()]) await send(url, body)
    },
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('an acknowledged event is never lost', () => {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-crash-'))
  const db = join(dir, 'waymark.db')
  let siteId: string
  beforeAll(async () => {
    process.env.WAYMARK_RATE_PER_ADDRESS = '0'
    process.env.WAYMARK_RATE_PER_SITE = '0'
    siteId = /site id +(\S+)/.exec(await waymark('site', 'add', 'localhost', '--db', db))![1]
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it(`keeps every event it answered 2xx for, none twice, over ${ROUNDS} rounds of SIGKILL and restart under load`, async () => {
    const load = loadGenerator(siteId)
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    for (let round = 0; round < ROUNDS; round++) {
      const collector = await startWaymark(['--db', db, '--port', String(port), '--host', '127.0.0.1'])
      const running = load.run(url)
      await sleep(LOAD_MS[0] + Math.random() * (LOAD_MS[1] - LOAD_MS[0]))
      collector.process.kill('SIGKILL')
      await new Promise((resolve) => collector.process.once('exit', resolve))
      load.stop()
      await running
    }
    // Back up once more: what was never acknowledged is sent again, as the snippet would.
    const collector = await startWaymark(['--db', db, '--port', String(port), '--host', '127.0.0.1'])
    await load.resendAll(url)
    await collector.stop()

    expect(load.acknowledged.size).toBeGreaterThan(ROUNDS * 50)
    expect(load.unacknowledged.size).toBe(0)
    const store = new Database(db, { readonly: true })
    const stored = new Set(store.prepare('SELECT id FROM events').pluck().all() as string[])
    const rows = store.prepare('SELECT count(*) FROM events').pluck().get() as number
    store.close()
    const lost = [...load.acknowledged].filter((id) => !stored.has(id))
    expect(lost).toEqual([])
    // Every event sent was acknowledged in the end; each is stored once, and nothing else is.
    expect(rows).toBe(load.acknowledged.size)
    console.log(`crash rounds: ${ROUNDS}, batches sent ${load.sent()}, events acknowledged ${load.acknowledged.size}, all found, none twice`)
  }, STRESS ? 900_000 : 120_000)

  it('leaves sessions and stages after the kills as a rebuild from the events makes them', async () => {
    const store = openSqliteStore(db)
    const sessions = async () => {
      const all: string[] = []
      for await (const s of store.querySessions({ siteId })) all.push(`${s.id} ${s.pageviews} ${s.stages.b2b}`)
      return all
    }
    const afterKills = await sessions()
    expect(afterKills.length).toBeGreaterThan(0)
    await store.rebuild(siteId)
    expect(await sessions()).toEqual(afterKills)
    await store.close()
  }, 60_000)

  it('on SIGTERM stops taking requests, commits what it accepted, and exits 0', async () => {
    const load = loadGenerator(siteId)
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const collector = await startWaymark(['--db', db, '--port', String(port), '--host', '127.0.0.1'])
    const running = load.run(url)
    await sleep(700)
    const exited = new Promise<number | null>((resolve) => collector.process.once('exit', resolve))
    collector.process.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(collector.output()).toMatch(/SIGTERM: finishing accepted requests, then stopping/)
    load.stop()
    await running
    // After it stopped, nothing answers.
    expect(await fetch(`${url}/healthz`).then(() => 'answered', () => 'refused')).toBe('refused')
    const store = new Database(db, { readonly: true })
    const has = store.prepare('SELECT 1 FROM events WHERE id = ?').pluck()
    const lost = [...load.acknowledged].filter((id) => !has.get(id))
    store.close()
    expect(load.acknowledged.size).toBeGreaterThan(0)
    expect(lost).toEqual([])
  }, 60_000)
})
