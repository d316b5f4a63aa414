import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runReport } from '../../collector/reports'
import { DEFAULT_CONFIG } from '../../collector/stages/config'
import { openClickHouseStore } from '../../collector/store/clickhouse'
import { connectClickHouse } from '../../collector/store/clickhouse/connection'
import type { Store } from '../../collector/store/types'
import type { WireBatch } from '../../shared/wire'
import { freePort, startWaymark } from '../browser/processes'
import { batch, CHROME_UA, collectorWithSite, pageview } from '../collector/helpers'
import { random } from '../fixtures/traffic'
import { startClickHouseCluster, type RunningClickHouse } from './server'

const BIN = fileURLToPath(new URL('../../bin/waymark.js', import.meta.url))
const DAY = 86_400_000

/** A round-robin proxy over the collectors; one that is down answers 502, as a load balancer would. */
async function roundRobin(targets: number[]): Promise<{ url: string; server: Server }> {
  let next = 0
  const server = createServer((incoming, outgoing) => {
    const port = targets[next++ % targets.length]
    const forward = request({ host: '127.0.0.1', port, path: incoming.url, method: incoming.method, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(outgoing)
    })
    forward.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502)
      outgoing.end()
    })
    incoming.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server }
}

/** Visitors reading a few pages over a few days; some sign up. Every batch without a send time, so each engine dates events alike. */
function generatedBatches(siteId: string, visitors: number): WireBatch[] {
  const rnd = random(99)
  const start = Date.now() - 5 * DAY
  const batches: WireBatch[] = []
  for (let i = 0; i < visitors; i++) {
    const visitor = ulid()
    let at = start + rnd.int(0, 3) * DAY + rnd.int(0, 20) * 3_600_000
    const pages = ['/blog/post-' + rnd.int(1, 9), '/pricing', '/demo', '/customers'].slice(0, rnd.int(1, 4))
    const events: object[] = pages.map((path, n) =>
      pageview({ id: ulid(), t: (at += rnd.int(10, 120) * 1000), u: `https://www.example.com${path}${n === 0 && i % 3 === 0 ? '?utm_source=newsletter&utm_medium=email' : ''}` }),
    )
    if (i % 4 === 0) events.push({ id: ulid(), k: 'i', t: (at += 5000), u: 'https://www.example.com/demo', n: `lead${i}@firm-${i % 7}.example` })
    for (let j = 0; j < events.length; j += 2) batches.push({ ...batch(siteId, events.slice(j, j + 2), { v: visitor }), t: undefined as unknown as number })
  }
  return rnd.shuffle(batches)
}

let retries = 0
const send = async (url: string, body: WireBatch) => {
  for (let attempt = 0; attempt < 40; attempt++) {
    if (attempt) retries++
    const status = await fetch(`${url}/e`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'text/plain', Origin: 'https://www.example.com', 'User-Agent': CHROME_UA },
    }).then((r) => r.status, () => 0)
    if (status === 200) return
    // As the tag does: the same batch again, a moment later, wherever the proxy sends it.
    await new Promise((resolve) => setTimeout(resolve, 50 + attempt * 50))
  }
  throw new Error('a batch was never acknowledged')
}

describe('two ClickHouse shards, three collectors behind a proxy and a processor, with one collector and the processor killed mid-load', () => {
  let clickhouse: RunningClickHouse
  let dir: string
  const children: ChildProcess[] = []
  const stopping: (() => Promise<void>)[] = []

  beforeAll(async () => {
    clickhouse = await startClickHouseCluster(2)
    dir = mkdtempSync(join(tmpdir(), 'waymark-scale-'))
  })
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    for (const stop of stopping) await stop()
    await clickhouse?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('stores every acknowledged event once, and reports what one SQLite collector reports', async () => {
    const storeUrl = clickhouse.storeUrl('scale')
    const setup = await openClickHouseStore(storeUrl)
    const single = await collectorWithSite('example.com', { limits: { perAddress: 0, perSite: 0 } })
    stopping.push(() => single.close())
    await setup.addSite(single.site)
    const siteId = single.site.id

    const env = { ...process.env, WAYMARK_RATE_PER_ADDRESS: '0', WAYMARK_RATE_PER_SITE: '0', WAYMARK_MAX_LAG_MS: '0' }
    const collectors: (Awaited<ReturnType<typeof startWaymark>> & { port: number })[] = []
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      const collector = await startWaymark(['--port', String(port), '--host', '127.0.0.1', '--store', storeUrl], env)
      children.push(collector.process)
      collectors.push({ ...collector, port })
    }
    const proxy = await roundRobin(collectors.map((c) => c.port))
    stopping.push(() => new Promise((resolve) => proxy.server.close(() => resolve())))
    const startProcessor = () => {
      const child = spawn(process.execPath, [BIN, 'process', '--store', storeUrl, '--work', join(dir, 'processor.db')], { stdio: 'ignore', env })
      children.push(child)
      return child
    }
    let processor = startProcessor()

    const batches = generatedBatches(siteId, 240)
    const sentIds = new Set(batches.flatMap((b) => b.e.map((e) => e.id)))
    let sent = 0
    const lanes = Array.from({ length: 8 }, async (_, lane) => {
      for (let i = lane; i < batches.length; i += 8) {
        await send(proxy.url, batches[i])
        // A tenth of the batches sent again, as the tag does when an answer is lost on the way back.
        if (i % 10 === 0) await send(proxy.url, batches[i])
        sent++
        if (sent === Math.floor(batches.length / 3)) collectors[1].process.kill('SIGKILL')
        if (sent === Math.floor(batches.length / 2)) {
          processor.kill('SIGKILL')
          processor = startProcessor()
        }
      }
    })
    await Promise.all(lanes)
    expect(collectors[1].process.signalCode).toBe('SIGKILL')
    // The same batches, once each, to one collector on SQLite.
    for (const body of batches) await send(single.url, body)

    await setup.settle()
    const ch = connectClickHouse(storeUrl)
    const [{ stored, distinct }] = await ch.rows<{ stored: number; distinct: number }>(
      `SELECT count() AS stored, uniqExact(id) AS distinct FROM scale.events FINAL WHERE site_id = '${siteId}'`,
    )
    const [{ rows }] = await ch.rows<{ rows: number }>(`SELECT count() AS rows FROM scale.events WHERE site_id = '${siteId}'`)
    console.log(`scale: ${sentIds.size} events in ${batches.length} batches, ${retries} retries; ${rows} rows written, ${stored} after FINAL`)
    await ch.close()
    expect(distinct).toBe(sentIds.size)
    expect(stored).toBe(sentIds.size)
    const ids = new Set<string>()
    for await (const event of setup.queryEvents({ siteId, sessionIds: false })) ids.add(event.id)
    expect(ids).toEqual(sentIds)

    await single.collector.store.settle()
    const now = Date.now()
    const report = (store: Store, name: string) => runReport(store, DEFAULT_CONFIG, siteId, name, {}, now)
    for (const name of ['funnel', 'sources', 'content', 'paths', 'length', 'accounts', 'people', 'companies'])
      expect(await report(setup, name), name).toEqual(await report(single.collector.store, name))
    await setup.close()
  }, 240_000)
})
