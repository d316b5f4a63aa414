// @ts-expect-error autocannon ships no types; the two calls below are all we use of it
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { pacedLoad, type PacedResult } from './paced-load'

/** BENCH_NODE_ARGS: flags for the servers the bench starts (a profiler, say). */
export const SERVER_NODE_ARGS = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []
const SERVER = fileURLToPath(new URL('./intake-server.ts', import.meta.url))
export const EVENTS_PER_BATCH = 5
const CHROME_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'

interface Started {
  port: number
  siteId?: string
  writeKey?: string
  dbPath?: string
  stop: () => Promise<void>
}

async function startServer(mode: 'bare' | 'collector'): Promise<Started> {
  const child = spawn(process.execPath, [...SERVER_NODE_ARGS, '--import', 'tsx', SERVER, mode], { stdio: ['ignore', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve, reject) => {
    let output = ''
    child.stdout!.on('data', (chunk) => {
      output += chunk
      if (output.includes('\n')) resolve(output.split('\n')[0])
    })
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)))
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    ...JSON.parse(line),
    stop: () => {
      child.kill('SIGTERM')
      return exited
    },
  }
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const RUN_PREFIX = Array.from(randomBytes(8), (byte) => CROCKFORD[byte & 31]).join('')
let counter = 0
/**
 * Unique, valid ULIDs, cheaply: the time, a random prefix for this run, then a counter. The ulid
 * package makes about 11 k ids/s here, which would make the load generator the bottleneck.
 */
function nextId(): string {
  let time = Date.now()
  let n = counter++
  let id = ''
  for (let i = 0; i < 10; i++, time = Math.floor(time / 32)) id = CROCKFORD[time % 32] + id
  let tail = ''
  for (let i = 0; i < 8; i++, n = Math.floor(n / 32)) tail = CROCKFORD[n % 32] + tail
  return id + RUN_PREFIX + tail
}

/** A page-view batch as the snippet sends it, with fresh ids so every event is a new row. */
function body(siteId: string) {
  const now = Date.now()
  return JSON.stringify({
    s: siteId,
    v: nextId(),
    t: now,
    sw: 1440,
    l: 'en-US',
    z: 'America/New_York',
    e: Array.from({ length: EVENTS_PER_BATCH }, (_, i) => ({
      id: nextId(),
      k: 'p',
      t: now - (EVENTS_PER_BATCH - i) * 1000,
      u: `http://localhost:3000/products/analytics/page-${i}?utm_source=newsletter&utm_medium=email&utm_campaign=q4`,
      r: i === 0 ? 'https://www.google.com/' : undefined,
      ti: 'Waymark: journey analytics for B2B teams, page ' + i,
    })),
  })
}

/** The same five page views as a server sends them to the Segment-spec endpoint. */
function segmentBody() {
  const now = Date.now()
  const anonymousId = nextId()
  return JSON.stringify({
    sentAt: new Date(now).toISOString(),
    batch: Array.from({ length: EVENTS_PER_BATCH }, (_, i) => ({
      type: 'page',
      messageId: nextId(),
      anonymousId,
      timestamp: new Date(now - (EVENTS_PER_BATCH - i) * 1000).toISOString(),
      properties: {
        url: `http://localhost:3000/products/analytics/page-${i}?utm_source=newsletter&utm_medium=email&utm_campaign=q4`,
        title: 'Waymark: journey analytics for B2B teams, page ' + i,
        referrer: i === 0 ? 'https://www.google.com/' : undefined,
      },
      context: { userAgent: CHROME_UA, locale: 'en-US', timezone: 'America/New_York', screen: { width: 1440 } },
    })),
  })
}

/**
 * What is measured: the tag's endpoint, or the Segment-spec batch endpoint a server library
 * posts to (authenticated with the site's write key). The bare handler answers both with 204.
 */
export type Api = 'tag' | 'segment'

interface Requests {
  path: string
  headers: Record<string, string>
  body: () => string
}

/** The snippet's batches for a site, as the load generator sends them. */
export const tagRequests = (siteId: string): Requests => ({ path: '/e', headers: HEADERS, body: () => body(siteId) })

function requestsFor(api: Api, server: Started): Requests {
  if (api === 'tag') {
    const siteId = server.siteId ?? 'bench'
    return { path: '/e', headers: HEADERS, body: () => body(siteId) }
  }
  const authorization = 'Basic ' + Buffer.from(`${server.writeKey ?? 'bench'}:`).toString('base64')
  return { path: '/v1/batch', headers: { 'content-type': 'application/json', authorization }, body: segmentBody }
}

export interface IntakeResult {
  requestsPerSecond: number
  eventsPerSecond: number
  p50: number
  p99: number
  non2xx: number
  acknowledgedEvents: number
  storedEvents?: number
}

interface LoadResult {
  '2xx': number
  non2xx: number
  errors: number
  latency: { p50: number; p99: number }
}

const HEADERS = { 'content-type': 'text/plain;charset=UTF-8', origin: 'http://localhost:3000', 'user-agent': CHROME_UA }

export async function load(port: number, requests: Requests, seconds: number, connections: number): Promise<LoadResult> {
  return new Promise((resolve, reject) =>
    autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: requests.path,
            headers: requests.headers,
            setupRequest: (request: object) => ({ ...request, body: requests.body() }),
          },
        ],
      },
      (error: Error | null, result: LoadResult) => (error ? reject(error) : resolve(result)),
    ),
  )
}

/** Drives one server with the same load generator and bodies; for the collector, checks what it acknowledged is stored. */
export async function measureIntake(mode: 'bare' | 'collector', seconds: number, api: Api = 'tag', connections = 32): Promise<IntakeResult> {
  const server = await startServer(mode)
  try {
    const result = await load(server.port, requestsFor(api, server), seconds, connections)
    const ok = result['2xx']
    const outcome: IntakeResult = {
      requestsPerSecond: ok / seconds,
      eventsPerSecond: (ok * EVENTS_PER_BATCH) / seconds,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx + result.errors,
      acknowledgedEvents: ok * EVENTS_PER_BATCH,
    }
    await server.stop()
    if (server.dbPath) {
      const db = new Database(server.dbPath, { readonly: true })
      outcome.storedEvents = (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n
      db.close()
    }
    return outcome
  } finally {
    await server.stop().catch(() => {})
  }
}

/** Latency of one server at a steady offered load (requests of EVENTS_PER_BATCH events each). */
export async function measureLatency(mode: 'bare' | 'collector', seconds: number, eventsPerSecond: number): Promise<PacedResult> {
  const server = await startServer(mode)
  try {
    return await pacedLoad({ port: server.port, ...requestsFor('tag', server), requestsPerSecond: eventsPerSecond / EVENTS_PER_BATCH, seconds })
  } finally {
    await server.stop()
  }
}
