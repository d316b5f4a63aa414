/**
 * The collector under fuzz: thousands of seeded, malformed requests at every public endpoint of a
 * real collector (HTTP on a free port, its own SQLite file), with valid events sent between them.
 *
 * What it holds the collector to:
 * 1. No answer is 5xx and the server never goes down: after all cases, GET /healthz is 200 and a
 *    valid batch is still taken. Where the README promises a status (an /e body over 64 KB gets 413,
 *    a body that is not JSON 400, a wrong write key or read token 401…), that status and no other.
 * 2. The valid events sent every ~50 cases, some of them twice, are each stored exactly once; events
 *    the collector refused (wrong write key, another site's page) are never stored.
 * 3. Memory stays flat: the heap after all rounds is within 64 MB of the heap after the warm-up round.
 *
 * Replay: every case is made by its own mulberry32 PRNG, seeded from the run's seed and the case's
 * number, so `WAYMARK_FUZZ_SEED=<seed> WAYMARK_FUZZ_CASE=<n>` sends exactly the case that failed.
 * A failed read (an export, a report) may owe its failure to what an earlier case stored: replay it
 * with the cases before it. `WAYMARK_FUZZ_CASES` sets how many cases run (default 3000;
 * `npm run test:stress` raises it).
 */
import Database from 'better-sqlite3'
import { rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { dirname } from 'node:path'
import { format } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { gunzipSync, gzipSync } from 'node:zlib'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEGMENT_LIMITS } from '../../collector/segment/messages'
import { LIMITS } from '../../shared/limits'
import { batch, CHROME_UA, collectorWithSite, pageview } from './helpers'

const CASES = Number(process.env.WAYMARK_FUZZ_CASES ?? 3000)
const SEED = Number(process.env.WAYMARK_FUZZ_SEED ?? 0x5eed1e55) >>> 0
/** Only this case (by its number), to replay a failure. */
const ONLY = process.env.WAYMARK_FUZZ_CASE === undefined ? undefined : Number(process.env.WAYMARK_FUZZ_CASE)
/** Valid events go in after every this many cases. */
const VALID_EVERY = 50
/** Cases in the warm-up round, after which the heap is first measured. */
const WARM_UP = Math.min(500, Math.max(1, Math.floor(CASES / 5)))
const HEAP_GROWTH_LIMIT = 64 * 1024 * 1024
/** A case that gets no answer in this time counts as a hang. */
const ANSWER_TIMEOUT_MS = 15_000

// ---------------------------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------------------------

/** mulberry32: a tiny 32-bit PRNG, good enough to pick cases and reproducible from its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The seed of case `n`: each case has its own stream, so one case can be replayed alone. */
const caseSeed = (n: number) => (SEED ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

class Gen {
  constructor(private readonly random: () => number) {}
  int(n: number): number {
    return Math.floor(this.random() * n)
  }
  chance(p: number): boolean {
    return this.random() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }
  /** Picks by weight: [[weight, value], …]. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    let roll = this.random() * items.reduce((sum, [w]) => sum + w, 0)
    for (const [w, value] of items) if ((roll -= w) < 0) return value
    return items[items.length - 1][1]
  }
  chars(n: number, alphabet: string): string {
    let out = ''
    for (let i = 0; i < n; i++) out += alphabet[this.int(alphabet.length)]
    return out
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }
  /** A well-formed ULID (as far as the collector checks), from the seeded stream. */
  ulid(): string {
    return this.chars(26, CROCKFORD)
  }
}

// ---------------------------------------------------------------------------------------------
// JSON with raw fragments: what JSON.stringify cannot write (own __proto__ keys, NaN, 1e400,
// lone surrogates, nesting deeper than it recurses)
// ---------------------------------------------------------------------------------------------

class Raw {
  constructor(readonly text: string) {}
}
const raw = (text: string) => new Raw(text)
type Json = null | boolean | number | string | Raw | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

function toJson(value: Json): string {
  if (value instanceof Raw) return value.text
  if (Array.isArray(value)) return '[' + value.map(toJson).join(',') + ']'
  if (value !== null && typeof value === 'object')
    return '{' + Object.entries(value).map(([key, child]) => JSON.stringify(key) + ':' + toJson(child)).join(',') + '}'
  return JSON.stringify(value) ?? 'null'
}

/** Sets an own property, even one named __proto__ (a plain assignment would set the prototype). */
function setOwn(target: JsonObject, key: string, value: Json) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

function clone(value: Json): Json {
  if (value instanceof Raw || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(clone)
  const copy: JsonObject = {}
  for (const [key, child] of Object.entries(value)) setOwn(copy, key, clone(child))
  return copy
}

// ---------------------------------------------------------------------------------------------
// What goes into a field: the evil values
// ---------------------------------------------------------------------------------------------

const SQL = [
  "'; DROP TABLE events; --",
  '" OR 1=1 --',
  "1; DELETE FROM sites WHERE '1'='1",
  "') ON CONFLICT DO NOTHING; --",
  "%' UNION SELECT write_key_hash FROM sites --",
  'Robert"); DROP TABLE people;--',
]
const HTML = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(document.cookie)',
  '=HYPERLINK("https://evil.example","click")',
  '+cmd|\' /C calc\'!A0',
  '</script><script>fetch("//evil.example")</script>',
  "{{constructor.constructor('alert(1)')()}}",
  '\r\nSet-Cookie: session=stolen',
  '${process.exit(1)}',
]
const ODD_STRINGS = [
  '', ' ', '\u0000', '\t\n\r', 'null', 'undefined', 'true', '0', '-1', 'NaN', 'Infinity', '1e308',
  '😀👩‍👩‍👧', 'עברית\u202eevil', 'zero\u200bwidth', '\ufeffbom', 'Ω≈ç√∫', 'é'.repeat(40),
  'https://www.example.com/', 'https://evil.example/', 'javascript:void(0)', 'file:///etc/passwd',
  'https://user:pass@www.example.com/?token=secret&utm_source=x', '//www.example.com/x', 'http://', 'https://[::1',
  'https://www.example.com:99999/', 'data:text/html,<b>x</b>', '%00%ff%fe', '../../../etc/passwd',
  '2026-13-45T99:99:99Z', '+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', new Date().toISOString(),
  '0001-01-01T00:00:00Z', 'yesterday', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
]
const NUMBERS = [0, -0.5, -1, 1, 1.5, 42, 99_999, 100_000, 1e14, 1e15, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 1e308, -1e308, 5e-324, Date.now(), -Date.now()]
/** Numbers JSON.stringify cannot write: JSON.parse makes 1e400 Infinity; NaN and the rest break the body. */
const RAW_NUMBERS = ['1e400', '-1e400', '1e-400', '-0', 'NaN', 'Infinity', '-Infinity', '0x10', '01', '1.', '.5', '+1', '1e', '--1']
/** Lone surrogates and escapes, as JSON text. */
const RAW_STRINGS = ['"\\ud800"', '"\\udfff\\ud800"', '"a\\u0000b"', '"\\uDBFF\\uDFFF"', '"\\u202e"', '"\\/\\b\\f"', '"\\x41"', '"\\ud83d"']
/** Lengths around every limit in shared/limits.ts and SEGMENT_LIMITS, and well past them. */
const LENGTHS = [63, 64, 65, 99, 100, 101, 199, 200, 201, 255, 256, 257, 511, 512, 513, 1023, 1024, 1025, 2047, 2048, 2049, 5000, 20_000, 40_000]
/** Hundreds of levels, and thousands: deeper than a recursive walk (JSON.stringify's) can go. */
const DEPTHS = [4, 10, 50, 100, 200, 300, 500, 1000, 2000, 6000, 10_000]
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype']
const ODD_KEYS = [...PROTO_KEYS, '', ' ', 'toString', 'hasOwnProperty', 'valueOf', 'k'.repeat(101), 'é'.repeat(100), "'; DROP TABLE events; --", '<script>', '\u0000', '😀', '1', '-1', 'length']

function longString(g: Gen): string {
  const length = g.pick(LENGTHS)
  const kind = g.int(6)
  if (kind === 0) return 'https://www.example.com/' + 'a'.repeat(Math.max(0, length - 24))
  if (kind === 1) return g.pick(['é', '😀', '"', '\\', '\u0000', '<']).repeat(Math.ceil(length / 2)).slice(0, length)
  if (kind === 2) return g.pick([...SQL, ...HTML]).repeat(Math.ceil(length / 20)).slice(0, length)
  return g.chars(Math.min(length, 2048), ALNUM).padEnd(length, 'x')
}

/** Nesting `depth` levels deep, as raw text (arrays, objects, or both by turns). */
function deep(g: Gen, depth = g.pick(DEPTHS)): Raw {
  const kind = g.int(3)
  if (kind === 0) return raw('['.repeat(depth) + ']'.repeat(depth))
  if (kind === 1) return raw('{"a":'.repeat(depth) + '1' + '}'.repeat(depth))
  let open = ''
  let close = ''
  for (let i = 0; i < depth; i++) {
    open += i % 2 ? '[' : '{"x":'
    close = (i % 2 ? ']' : '}') + close
  }
  return raw(open + 'null' + close)
}

/** An object with a prototype key, as raw JSON text (JSON.stringify drops __proto__). */
function protoObject(g: Gen): Raw {
  return raw(
    g.pick([
      '{"__proto__":{"polluted":"yes","isAdmin":true}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"prototype":{"polluted":"yes"}}',
      '{"__proto__":null}',
      '{"__proto__":[]}',
      '{"a":{"__proto__":{"polluted":"yes"}},"b":1}',
      '{"__proto__":{"toString":"x","valueOf":1}}',
      '{"toString":1,"hasOwnProperty":"x","valueOf":null}',
    ]),
  )
}

/** A random JSON value of random shape. */
function randomJson(g: Gen, depth = 0): Json {
  const kind = g.int(depth > 3 ? 5 : 8)
  if (kind === 0) return null
  if (kind === 1) return g.chance(0.5)
  if (kind === 2) return g.chance(0.7) ? g.pick(NUMBERS) : raw(g.pick(RAW_NUMBERS.slice(0, 3)))
  if (kind === 3) return g.pick([...ODD_STRINGS, ...SQL, ...HTML])
  if (kind === 4) return g.chars(g.int(30), ALNUM)
  if (kind === 5) return Array.from({ length: g.int(6) }, () => randomJson(g, depth + 1))
  const object: JsonObject = {}
  for (let i = g.int(6); i > 0; i--) setOwn(object, g.chance(0.3) ? g.pick(ODD_KEYS) : g.chance(0.5) ? g.pick(FIELD_NAMES) : g.chars(g.int(8) + 1, ALNUM), randomJson(g, depth + 1))
  return object
}
const FIELD_NAMES = ['s', 'v', 't', 'sw', 'l', 'z', 'e', 'id', 'k', 'u', 'r', 'ti', 'n', 'p', 'batch', 'type', 'userId', 'anonymousId', 'event', 'messageId', 'timestamp', 'sentAt', 'properties', 'traits', 'context', 'writeKey', 'previousId', 'groupId']

/** Any value that does not belong: odd strings, SQL and HTML, numbers, long strings, nesting, prototype keys. */
function evil(g: Gen): Json {
  return g.weighted<() => Json>([
    [3, () => g.pick(NUMBERS)],
    [2, () => raw(g.pick(RAW_NUMBERS))],
    [1, () => raw(g.pick(RAW_STRINGS))],
    [3, () => g.pick(ODD_STRINGS)],
    [3, () => g.pick(SQL)],
    [3, () => g.pick(HTML)],
    [3, () => longString(g)],
    [1, () => null],
    [1, () => g.chance(0.5)],
    [1, () => []],
    [1, () => ({})],
    [1, () => Array.from({ length: g.pick([1, 2, 60, 200]) }, (_, i) => (g.chance(0.5) ? i : 'x'))],
    [1, () => Object.fromEntries(Array.from({ length: g.pick([1, 51, 60, 300]) }, (_, i) => [`k${i}`, i]))],
    [2, () => deep(g)],
    [2, () => protoObject(g)],
    [2, () => randomJson(g)],
  ])()
}

/** A value of another type than the one the field should hold (a string where a number belongs, …). */
function otherType(g: Gen, original: Json): Json {
  const kinds: [string, () => Json][] = [
    ['number', () => g.pick(NUMBERS)],
    ['string', () => g.pick([...ODD_STRINGS, ...SQL, ...HTML])],
    ['array', () => g.pick<Json>([[], [original], [1, 'a', null], ['https://www.example.com/']])],
    ['object', () => g.pick<Json>([{}, { value: original }, { length: 1 }, { toString: 'x' }])],
    ['null', () => null],
    ['boolean', () => g.chance(0.5)],
  ]
  const type = original === null ? 'null' : Array.isArray(original) ? 'array' : typeof original
  const others = kinds.filter(([name]) => name !== type)
  return g.pick(others)[1]()
}

// ---------------------------------------------------------------------------------------------
// Mutations of a valid template, field by field, and of its text
// ---------------------------------------------------------------------------------------------

type Path = (string | number)[]

/** Every field of the template, nested ones included. */
function fieldPaths(value: Json, path: Path = []): Path[] {
  if (value instanceof Raw || value === null || typeof value !== 'object') return []
  const entries: [string | number, Json][] = Array.isArray(value) ? value.map((child, i) => [i, child]) : Object.entries(value)
  return entries.flatMap(([key, child]) => [[...path, key], ...fieldPaths(child, [...path, key])])
}

function getAt(root: Json, path: Path): Json {
  let node: Json = root
  for (const key of path) node = (node as Record<string | number, Json>)[key]
  return node
}

function setAt(root: Json, path: Path, value: Json | undefined) {
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, Json> | Json[]
  const key = path[path.length - 1]
  if (Array.isArray(parent)) {
    if (value === undefined) parent.splice(Number(key), 1)
    else parent[Number(key)] = value
  } else if (value === undefined) delete (parent as JsonObject)[key]
  else setOwn(parent as JsonObject, String(key), value)
}

/** One to three fields replaced by evil values or values of another type, removed, or joined by odd keys. */
function mutateFields(g: Gen, template: Json): { body: Json; what: string[] } {
  const body = clone(template)
  const what: string[] = []
  for (let n = 1 + g.int(3); n > 0; n--) {
    const paths = fieldPaths(body)
    const path = paths.length ? g.pick(paths) : []
    const name = path.join('.') || '(root)'
    const op = g.weighted([[5, 'evil'], [4, 'type'], [2, 'delete'], [2, 'add']] as const)
    if (!path.length || op === 'add') {
      const containers = [[], ...paths].filter((p) => {
        const node = getAt(body, p)
        return node !== null && typeof node === 'object' && !(node instanceof Raw) && !Array.isArray(node)
      })
      const where = g.pick(containers)
      const key = g.chance(0.6) ? g.pick(ODD_KEYS) : g.pick(FIELD_NAMES)
      setOwn(getAt(body, where) as JsonObject, key, evil(g))
      what.push(`add ${[...where, key].join('.')}`)
    } else if (op === 'delete') {
      setAt(body, path, undefined)
      what.push(`delete ${name}`)
    } else {
      setAt(body, path, op === 'evil' ? evil(g) : otherType(g, getAt(body, path)))
      what.push(`${op === 'evil' ? 'evil' : 'retype'} ${name}`)
    }
  }
  return { body, what }
}

/** Breaks the JSON text itself: truncated, trailing garbage, a character changed, wrapped, doubled. */
function breakText(g: Gen, text: string): { text: string; what: string } {
  const at = g.int(text.length + 1)
  return g.weighted<() => { text: string; what: string }>([
    [3, () => ({ text: text.slice(0, at), what: `truncated at ${at}` })],
    [2, () => ({ text: text + g.pick(['}', ']', ',', 'x', '\u0000', '{"a":1}', ' garbage', '\n\n{}', ',"s":1}']), what: 'trailing garbage' })],
    [1, () => ({ text: g.pick(['\ufeff', ' ', 'x', ',', ')]}\'\n', '\u0000']) + text, what: 'leading garbage' })],
    [2, () => ({ text: text.slice(0, at) + g.pick(['"', '{', '}', ':', ',', '\\', '\n', '\u0000', '\ud800']) + text.slice(at + 1), what: `character ${at} changed` })],
    [1, () => ({ text: `[${text}]`, what: 'wrapped in an array' })],
    [1, () => ({ text: text + text, what: 'doubled' })],
    [1, () => ({ text: text.replace(/"/g, "'"), what: 'single quotes' })],
    [1, () => ({ text: text.replace(/}$/, `,${JSON.stringify(g.pick(FIELD_NAMES))}:${toJson(evil(g))}}`), what: 'duplicate key' })],
    [1, () => ({ text: '', what: 'empty' })],
  ])()
}

/** Invalid UTF-8 at a random place in the bytes: lone continuation bytes, overlong forms, surrogates, a cut sequence. */
function breakUtf8(g: Gen, bytes: Buffer): Buffer {
  const at = g.int(bytes.length + 1)
  const bad = Buffer.from(g.pick([[0xff], [0xfe, 0xff], [0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x9f]]))
  return Buffer.concat([bytes.subarray(0, at), bad, bytes.subarray(at)])
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

interface FuzzRequest {
  /** What the case did, for the report. */
  what: string
  method: string
  path: string
  headers: Record<string, string | string[]>
  body?: string | Buffer
  /** fetch where it can send it; node:http for raw bytes, chunked bodies, no Content-Type, latin1 headers. */
  via: 'fetch' | 'http'
  /** node:http only: send the body in chunks, without Content-Length. */
  chunked?: boolean
  /** The status the README promises for this request when it promises one beyond the generic rules. */
  promise?: number
  /** Ids that must never be stored (refused events). */
  neverStored?: string[]
}

interface Answer {
  status: number
  body: Buffer
}

interface Context {
  url: string
  port: number
  siteId: string
  writeKey: string
  readToken: string
}

const bodyBytes = (body: string | Buffer | undefined) => (body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body) : body)
const parses = (text: string) => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
const headerOf = (request: FuzzRequest, name: string) => {
  const found = Object.entries(request.headers).find(([key]) => key.toLowerCase() === name)?.[1]
  return Array.isArray(found) ? found[0] : found
}

/**
 * The status the README promises for a request, if it promises one. `POST /e`: over 64 KB, 413; not
 * JSON, 400. The Segment API: over 500 KB (after gunzip when gzipped), not gzip though it says so,
 * or not JSON, 400. Beyond these, what the case itself was built to get (401, 403, 404, 413).
 */
function promisedStatus(request: FuzzRequest): number | undefined {
  if (request.method !== 'POST') return request.promise
  const bytes = bodyBytes(request.body)
  if (request.path === '/e') {
    if (bytes.length > LIMITS.bodyBytes) return 413
    if (!parses(bytes.toString('utf8'))) return 400
  } else if (request.path.startsWith('/v1/')) {
    if (bytes.length > SEGMENT_LIMITS.batchBytes) return 400
    let text: string
    const encoding = headerOf(request, 'content-encoding')?.trim().toLowerCase()
    if (encoding === 'gzip') {
      try {
        text = gunzipSync(bytes, { maxOutputLength: SEGMENT_LIMITS.batchBytes }).toString('utf8')
      } catch {
        return 400
      }
    } else if (encoding && encoding !== 'identity') return request.promise
    else text = bytes.toString('utf8')
    if (!parses(text)) return 400
  }
  return request.promise
}

async function viaFetch(ctx: Context, request: FuzzRequest): Promise<Answer> {
  const response = await fetch(ctx.url + request.path, {
    method: request.method,
    headers: request.headers as Record<string, string>,
    body: request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : new Uint8Array(request.body),
    redirect: 'manual',
    signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
  })
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()) }
}

function viaHttp(ctx: Context, request: FuzzRequest, g: Gen): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const bytes = request.body === undefined ? undefined : bodyBytes(request.body)
    const headers: Record<string, string | string[] | number> = { ...request.headers }
    if (bytes && !request.chunked) headers['Content-Length'] = bytes.length
    const outgoing = httpRequest({ host: '127.0.0.1', port: ctx.port, method: request.method, path: request.path, headers, agent: false }, (incoming) => {
      const chunks: Buffer[] = []
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks) }))
      incoming.on('error', reject)
    })
    outgoing.setTimeout(ANSWER_TIMEOUT_MS, () => outgoing.destroy(new Error(`no answer in ${ANSWER_TIMEOUT_MS / 1000} s`)))
    outgoing.on('error', reject)
    if (bytes && request.chunked) {
      // In pieces of random size, as a slow or streaming client sends them.
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + g.int(Math.min(bytes.length - at, 16 * 1024))
        outgoing.write(bytes.subarray(at, at + size))
        at += size
      }
      outgoing.end()
    } else outgoing.end(bytes)
  })
}

const basic = (user: string) => `Basic ${Buffer.from(`${user}:`).toString('base64')}`

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

const SITE_ORIGIN = 'https://www.example.com'
const snippetHeaders = (): Record<string, string> => ({ 'Content-Type': 'text/plain', Origin: SITE_ORIGIN, 'User-Agent': CHROME_UA })
const CONTENT_TYPES = ['application/json', 'text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz', 'application/json; charset=utf-16', 'application/octet-stream', 'a/b/c;;;=', '', '*/*', 'text/html']
const ORIGINS = ['null', '', 'https://evil.example', 'https://example.com.evil.example', 'https://wwwexample.com', 'not a url', 'https://www.example.com:99999', 'HTTPS://WWW.EXAMPLE.COM', 'https://a.b.c.www.example.com', 'file://', 'https://www.example.com/path?q=1', "https://'; DROP TABLE sites; --.example.com"]
const USER_AGENTS = ['', 'curl/8.0', 'Googlebot/2.1 (+http://www.google.com/bot.html)', 'x'.repeat(8000), "'; DROP TABLE events; --", '<script>alert(1)</script>', 'Mozilla/5.0 (' + '('.repeat(500), CHROME_UA]

/** A valid /e batch of two events, with ids from the seeded stream. */
function eTemplate(g: Gen, siteId: string): JsonObject {
  const now = Date.now()
  return {
    s: siteId,
    v: g.ulid(),
    t: now,
    sw: 1440,
    l: 'en-GB',
    z: 'Europe/London',
    e: [
      { id: g.ulid(), k: 'p', t: now - 1000, u: 'https://www.example.com/pricing?utm_source=fuzz&gclid=abc&secret=1', r: 'https://search.example/q?x=1', ti: 'Pricing' },
      { id: g.ulid(), k: g.pick(['t', 'i', 'g', 'fv', 'fs', 'ff', 'fu', 'fa']), t: now - 500, u: 'https://www.example.com/demo', n: 'Demo Requested', p: { plan: 'pro', seats: 3, trial: true, nested: { list: [1, 'two', null], deeper: { x: 1 } } } },
    ],
  }
}

const SEGMENT_CALLS = ['batch', 'track', 'identify', 'alias'] as const
const SEGMENT_TYPES_AND_GARBAGE = ['track', 'identify', 'alias', 'page', 'screen', 'group', 'launch', '', 'TRACK', 'constructor']

/** A valid Segment message of a type, with a fuzz messageId from the seeded stream. */
function segmentMessage(g: Gen, type: string): JsonObject {
  const message: JsonObject = {
    type,
    userId: `crm-contact-${g.int(500)}`,
    anonymousId: g.ulid(),
    messageId: `fuzz-${g.chars(20, ALNUM)}`,
    timestamp: new Date(Date.now() - g.int(3_600_000)).toISOString(),
    sentAt: new Date().toISOString(),
    context: {
      page: { url: 'https://www.example.com/pricing?utm_source=crm', title: 'Pricing', referrer: 'https://search.example/' },
      campaign: { source: 'crm', medium: 'email', name: 'q4', term: 't', content: 'c' },
      userAgent: CHROME_UA,
      screen: { width: 1440, height: 900 },
      locale: 'en-GB',
      timezone: 'Europe/London',
    },
    integrations: { All: true },
  }
  if (type === 'track') Object.assign(message, { event: 'Deal Won', properties: { amount: 24000, currency: 'EUR', items: [{ sku: 'a', qty: 2 }] } })
  else if (type === 'identify') Object.assign(message, { traits: { email: `ann${g.int(500)}@buyer${g.int(20)}.example`, title: 'CTO', lifecycle: g.pick(['lead', 'customer']) } })
  else if (type === 'alias') Object.assign(message, { previousId: `crm-contact-${g.int(500)}` })
  else if (type === 'group') Object.assign(message, { groupId: `acct-${g.int(50)}`, traits: { name: 'Buyer Inc', industry: 'Software' } })
  else if (type === 'page' || type === 'screen') Object.assign(message, { name: 'Pricing', properties: { url: 'https://www.example.com/pricing', title: 'Pricing' } })
  return message
}

/** A valid body for /v1/<call>: a batch of a few messages, or one message. */
function segmentTemplate(g: Gen, call: (typeof SEGMENT_CALLS)[number]): JsonObject {
  if (call !== 'batch') return segmentMessage(g, call)
  return { batch: Array.from({ length: 1 + g.int(3) }, () => segmentMessage(g, g.pick(SEGMENT_TYPES_AND_GARBAGE.slice(0, 6)))), sentAt: new Date().toISOString(), context: { library: { name: 'fuzz' } } }
}

/** Random garbage of every sort: bytes, printable noise, JSON token soup, or a random JSON value. */
function garbageBody(g: Gen): { body: string | Buffer; what: string; binary: boolean } {
  return g.weighted<() => { body: string | Buffer; what: string; binary: boolean }>([
    [2, () => ({ body: g.bytes(g.pick([1, 16, 300, 4000, 70_000])), what: 'random bytes', binary: true })],
    [2, () => ({ body: g.chars(g.pick([1, 10, 500, 5000]), ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~'), what: 'printable noise', binary: false })],
    [2, () => ({ body: Array.from({ length: g.int(200) }, () => g.pick(['{', '}', '[', ']', '"', ':', ',', '1', 'true', 'null', '"s"', '"e"', '-', '.', 'e', '\\'])).join(''), what: 'JSON token soup', binary: false })],
    [3, () => ({ body: toJson(randomJson(g)), what: 'random JSON', binary: false })],
    [1, () => ({ body: toJson(deep(g, g.pick([100, 300, 1000, 5000, 20_000]))), what: 'deep nesting', binary: false })],
    [1, () => ({ body: g.pick(['', ' ', 'null', '0', '""', '[]', '{}', 'true', '[{}]', '{"batch":[]}', '{"e":[]}']), what: 'near-empty', binary: false })],
  ])()
}

/** `POST /e`: the valid template, mutated field by field, maybe its text broken, maybe its headers wrong. */
function eMutated(g: Gen, ctx: Context): FuzzRequest {
  const { body, what } = mutateFields(g, eTemplate(g, ctx.siteId))
  let text = toJson(body)
  if (g.chance(0.2)) {
    const broken = breakText(g, text)
    text = broken.text
    what.push(broken.what)
  }
  const headers = snippetHeaders()
  if (g.chance(0.15)) {
    const header = g.pick(['Origin', 'Content-Type', 'User-Agent', 'Referer'])
    if (header === 'Content-Type') headers[header] = g.pick(CONTENT_TYPES)
    else if (header === 'User-Agent') headers[header] = g.pick(USER_AGENTS)
    else if (header === 'Referer') {
      delete headers.Origin
      headers.Referer = g.pick([...ORIGINS, 'https://www.example.com/page'])
    } else headers.Origin = g.pick(ORIGINS)
    what.push(`${header}: ${JSON.stringify(headers[header] ?? '').slice(0, 40)}`)
  }
  if (g.chance(0.1)) {
    // Invalid UTF-8 and no Content-Type: bytes fetch will not send as they are.
    delete headers['Content-Type']
    what.push('invalid UTF-8, no Content-Type')
    return { what: `/e: ${what.join('; ')}`, method: 'POST', path: '/e', headers, body: breakUtf8(g, Buffer.from(text)), via: 'http', chunked: g.chance(0.3) }
  }
  return { what: `/e: ${what.join('; ')}`, method: 'POST', path: '/e', headers, body: text, via: 'fetch' }
}

function eGarbage(g: Gen): FuzzRequest {
  const garbage = garbageBody(g)
  const headers = snippetHeaders()
  if (g.chance(0.3)) headers['Content-Type'] = g.pick(CONTENT_TYPES)
  return { what: `/e ${garbage.what}`, method: 'POST', path: '/e', headers, body: garbage.body, via: garbage.binary || g.chance(0.2) ? 'http' : 'fetch', chunked: g.chance(0.2) }
}

/** Over the 64 KB limit (by Content-Length, or chunked with none) gets 413; at the limit, not. */
function eOversize(g: Gen, ctx: Context): FuzzRequest {
  const template = eTemplate(g, ctx.siteId)
  const base = toJson(template).length
  const size = g.pick([LIMITS.bodyBytes, LIMITS.bodyBytes + 1, LIMITS.bodyBytes + 1000, 200_000, 1_000_000])
  ;((template.e as JsonObject[])[0]).ti = 'x'.repeat(Math.max(0, size - base - 8))
  let text = toJson(template)
  text = text.length < size ? text.replace(/}$/, ' '.repeat(size - text.length) + '}') : text.slice(0, size)
  const chunked = g.chance(0.4)
  return { what: `/e body of ${size} bytes${chunked ? ', chunked' : ''}`, method: 'POST', path: '/e', headers: snippetHeaders(), body: text, via: chunked ? 'http' : 'fetch', chunked }
}

/** Events from another site's page (403) or for no site (404) are never stored. */
function eRefused(g: Gen, ctx: Context): FuzzRequest {
  const template = eTemplate(g, ctx.siteId)
  const ids = (template.e as JsonObject[]).map((e) => e.id as string)
  if (g.chance(0.5)) {
    const origin = g.pick(['https://evil.example', 'https://example.com.evil.example', 'https://notexample.com', 'null'])
    return { what: `/e from ${origin}`, method: 'POST', path: '/e', headers: { ...snippetHeaders(), Origin: origin }, body: toJson(template), via: 'fetch', promise: 403, neverStored: ids }
  }
  template.s = g.pick(['nosuchsite', 'x'.repeat(64), "'; DROP TABLE sites; --", ctx.siteId.toUpperCase(), ctx.siteId + ' '])
  return { what: `/e for site ${JSON.stringify(template.s).slice(0, 40)}`, method: 'POST', path: '/e', headers: snippetHeaders(), body: toJson(template), via: 'fetch', promise: 404, neverStored: ids }
}

const segmentHeaders = (ctx: Context): Record<string, string> => ({ 'Content-Type': 'application/json', Authorization: basic(ctx.writeKey), 'User-Agent': 'analytics-node-next/latest' })

/** The Segment API: a valid body for the call, mutated field by field (inside a batch's messages too), maybe broken as text. */
function segmentMutated(g: Gen, ctx: Context): FuzzRequest {
  const call = g.pick(SEGMENT_CALLS)
  const { body, what } = mutateFields(g, segmentTemplate(g, call))
  let text = toJson(body)
  if (g.chance(0.15)) {
    const broken = breakText(g, text)
    text = broken.text
    what.push(broken.what)
  }
  const headers = segmentHeaders(ctx)
  if (g.chance(0.15)) {
    headers['Content-Type'] = g.pick(CONTENT_TYPES)
    what.push(`Content-Type: ${headers['Content-Type']}`)
  }
  if (g.chance(0.1)) {
    delete headers['Content-Type']
    what.push('invalid UTF-8, no Content-Type')
    return { what: `/v1/${call}: ${what.join('; ')}`, method: 'POST', path: `/v1/${call}`, headers, body: breakUtf8(g, Buffer.from(text)), via: 'http', chunked: g.chance(0.3) }
  }
  if (g.chance(0.15)) {
    what.push('gzipped')
    return { what: `/v1/${call}: ${what.join('; ')}`, method: 'POST', path: `/v1/${call}`, headers: { ...headers, 'Content-Encoding': 'gzip' }, body: gzipSync(text), via: 'fetch' }
  }
  return { what: `/v1/${call}: ${what.join('; ')}`, method: 'POST', path: `/v1/${call}`, headers, body: text, via: 'fetch' }
}

function segmentGarbage(g: Gen, ctx: Context): FuzzRequest {
  const call = g.pick(SEGMENT_CALLS)
  const garbage = garbageBody(g)
  return { what: `/v1/${call} ${garbage.what}`, method: 'POST', path: `/v1/${call}`, headers: segmentHeaders(ctx), body: garbage.body, via: garbage.binary || g.chance(0.2) ? 'http' : 'fetch', chunked: g.chance(0.2) }
}

/** Content-Encoding: gzip with a body that is not gzip, cut gzip, a gzip bomb; other encodings. */
function segmentEncoding(g: Gen, ctx: Context): FuzzRequest {
  const call = g.pick(SEGMENT_CALLS)
  const json = toJson(segmentTemplate(g, call))
  const zipped = gzipSync(json)
  const [what, encoding, makeBody] = g.pick<[string, string, () => string | Buffer]>([
    ['gzip header, plain JSON', 'gzip', () => json],
    ['gzip header, random bytes', 'gzip', () => g.bytes(1 + g.int(2000))],
    ['gzip header, empty body', 'gzip', () => ''],
    ['gzip cut short', 'gzip', () => zipped.subarray(0, g.int(zipped.length))],
    ['gzip with a bad checksum', 'gzip', () => Buffer.concat([zipped.subarray(0, zipped.length - 8), Buffer.alloc(8, 0xff)])],
    ['gzip of garbage', 'gzip', () => gzipSync(g.bytes(500))],
    ['gzip of broken JSON', 'gzip', () => gzipSync(json.slice(0, -3))],
    ['gzip bomb (1 MB of spaces)', 'gzip', () => gzipSync(Buffer.alloc(1_000_000, 0x20))],
    ['gzip bomb (20 MB of zeros)', 'gzip', () => gzipSync(Buffer.alloc(20_000_000))],
    ['gzip twice', 'gzip', () => gzipSync(zipped)],
    ['GZIP, upper case', ' GZIP ', () => zipped],
    ['gzip, gzip', 'gzip, gzip', () => zipped],
    ['br', 'br', () => zipped],
    ['deflate', 'deflate', () => zipped],
    ['identity', 'identity', () => json],
    ['x-gzip', 'x-gzip', () => zipped],
  ])
  const body = makeBody()
  return { what: `/v1/${call} ${what}`, method: 'POST', path: `/v1/${call}`, headers: { ...segmentHeaders(ctx), 'Content-Encoding': encoding }, body, via: 'fetch' }
}

/** Over 500 KB (sent as it is, or chunked) gets 400. */
function segmentOversize(g: Gen, ctx: Context): FuzzRequest {
  const size = g.pick([SEGMENT_LIMITS.batchBytes + 1, 600_000, 2_000_000])
  const messages = Array.from({ length: Math.ceil(size / 1000) }, () => ({ ...segmentMessage(g, 'track'), properties: { pad: 'z'.repeat(800) } }))
  const body = toJson({ batch: messages })
  const chunked = g.chance(0.3)
  return { what: `/v1/batch of ${body.length} bytes${chunked ? ', chunked' : ''}`, method: 'POST', path: '/v1/batch', headers: segmentHeaders(ctx), body, via: chunked ? 'http' : 'fetch', chunked }
}

/** A missing or wrong write key gets 401, and nothing of the body is stored. */
function segmentUnauthorized(g: Gen, ctx: Context): FuzzRequest {
  const call = g.pick(SEGMENT_CALLS)
  const body = segmentTemplate(g, call)
  const messages = (call === 'batch' ? body.batch : [body]) as JsonObject[]
  for (const message of messages) message.messageId = `unauthorized-${g.chars(20, ALNUM)}`
  const headers = segmentHeaders(ctx)
  const [what, authorization, writeKey] = g.pick<[string, string | undefined, Json | undefined]>([
    ['no key', undefined, undefined],
    ['a wrong key', basic('wk_wrong'), undefined],
    ['the read token', basic(ctx.readToken), undefined],
    ['the public site id, from no page', basic(ctx.siteId), undefined],
    ['the key and one more character', basic(ctx.writeKey + 'x'), undefined],
    ['the key less its last character', basic(ctx.writeKey.slice(0, -1)), undefined],
    ['the key upper-cased', basic(ctx.writeKey.toUpperCase()), undefined],
    ['the key as Bearer', `Bearer ${ctx.writeKey}`, undefined],
    ['the key as the password', `Basic ${Buffer.from(`:${ctx.writeKey}`).toString('base64')}`, undefined],
    ['Basic with no base64', 'Basic', undefined],
    ['Basic with garbage', `Basic ${g.chars(40, '!@#$%^&*()')}`, undefined],
    ['Basic with 8 KB', `Basic ${Buffer.from('k'.repeat(6000)).toString('base64')}`, undefined],
    ['Basic with SQL', basic("' OR 1=1 --"), undefined],
    ['a wrong writeKey in the body', undefined, 'wk_wrong'],
    ['writeKey a number', undefined, 12345],
    ['writeKey an array', undefined, [ctx.writeKey]],
    ['writeKey an object', undefined, { key: ctx.writeKey }],
    ['writeKey SQL', undefined, "' OR 1=1 --"],
    ['writeKey the read token', undefined, ctx.readToken],
  ])
  if (authorization === undefined) delete headers.Authorization
  else headers.Authorization = authorization
  if (writeKey !== undefined) body.writeKey = writeKey
  return { what: `/v1/${call} with ${what}`, method: 'POST', path: `/v1/${call}`, headers, body: toJson(body), via: 'fetch', promise: 401, neverStored: messages.map((m) => `${ctx.siteId}:${m.messageId}`) }
}

const API_PATHS = ['/api/export/sessions', '/api/reports/funnel']
const QUERY_KEYS = ['format', 'from', 'to', 'journey', 'stage', 'site', 'stalledDays', 'limit', 'dataset', 'person', 'email', 'userId', 'company', 'domain', 'x', '', 'from[]', '__proto__', 'constructor', 'toString']
const QUERY_VALUES = [
  'csv', 'ndjson', 'parquet', 'CSV', 'xml', 'b2b', 'awareness', 'purchase', 'nosuchjourney', 'nosuchstage',
  '2026-10-01', '2026-10-01T09:00:00Z', '2026-10-01T09:00:00.123+02:00', '2026-13-45', '2026-02-30', '0000-00-00', '9999-12-31', '0001-01-01',
  '2026-10-01T25:61:61Z', '2026-10-01T00:00:00+99:99', '275760-09-13', '-1', '0', '1', '0.5', '1e308', '-1e308', 'NaN', 'Infinity', '1e-400',
  '', ' ', ...SQL, ...HTML, '😀', '\u0000', 'x'.repeat(3000), 'é'.repeat(500),
]
const RAW_QUERY = ['%', '%zz', '%E0%A4%A', '%C0%AF', '%00', '&&&', '=', '==x', '?x=1', '+', '%2B%2F', ';from=1', 'from&to', '%ff%fe%fd']

/** Read routes with garbage query strings; without a read token that opens the site, 401. */

/** encodeURIComponent, for strings that may hold a lone surrogate (which it refuses): that one becomes U+FFFD, as a browser would send it. */
const encodeQuery = (text: string) => encodeURIComponent(String(text).replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'))

function apiRead(g: Gen, ctx: Context): FuzzRequest {
  const path = g.pick(API_PATHS)
  const pairs: string[] = []
  for (let n = g.int(6); n > 0; n--) {
    const key = g.chance(0.8) ? g.pick(QUERY_KEYS.slice(0, 8)) : g.pick(QUERY_KEYS)
    const value = g.chance(0.1) ? ctx.siteId : g.chance(0.1) ? toJson(evil(g)).slice(0, 5000) : g.pick(QUERY_VALUES)
    pairs.push(g.chance(0.1) ? `${key}=${value}` : `${encodeQuery(key)}=${encodeQuery(value)}`)
  }
  if (g.chance(0.2)) pairs.push(g.pick(RAW_QUERY))
  const query = pairs.length ? '?' + pairs.join('&') : ''
  const [authWhat, authorization, promise] = g.weighted<[string, string | undefined, number | undefined]>([
    [12, ['read token', `Bearer ${ctx.readToken}`, undefined]],
    [1, ['read token, bearer in lower case', `bearer ${ctx.readToken}`, undefined]],
    [1, ['no token', undefined, 401]],
    [1, ['Bearer alone', 'Bearer', 401]],
    [1, ['a wrong token', 'Bearer rt_wrong', 401]],
    [1, ['the write key', `Bearer ${ctx.writeKey}`, 401]],
    [1, ['the site id', `Bearer ${ctx.siteId}`, 401]],
    [1, ['the token and more', `Bearer ${ctx.readToken} ${ctx.readToken}`, 401]],
    [1, ['the token as Basic', basic(ctx.readToken), 401]],
    [1, ['SQL', "Bearer ' OR 1=1 --", 401]],
  ])
  const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization }
  // A URL with raw bytes fetch would escape goes as it is, by node:http. It is no valid HTTP (Node's
  // parser may answer 400 before the collector sees it), so no status is promised for it.
  const rawBytes = g.chance(0.1)
  const target = rawBytes ? path + '?from=' + g.pick(['\u00ff\u00fe', '2026-10-01\u00e9', '\u0080', '%\u00c3']) + '&to=' + g.chars(5, '!$()*,;:@') : path + query
  return { what: `GET ${target.slice(0, 200)} with ${authWhat}`, method: 'GET', path: target, headers, via: rawBytes ? 'http' : 'fetch', promise: rawBytes ? undefined : promise }
}

/** Preflights, with whatever headers a tool sends. */
function preflight(g: Gen): FuzzRequest {
  const headers: Record<string, string> = {}
  if (g.chance(0.7)) headers.Origin = g.pick([SITE_ORIGIN, ...ORIGINS])
  if (g.chance(0.7)) headers['Access-Control-Request-Method'] = g.pick(['POST', 'GET', 'DELETE', 'x', ''])
  if (g.chance(0.5)) headers['Access-Control-Request-Headers'] = g.pick(['content-type', 'authorization, content-encoding', 'x-'.repeat(2000), ''])
  const path = g.pick(['/e', '/e', '/e', '/v1/track', '/v1/batch'])
  return { what: `OPTIONS ${path} ${JSON.stringify(headers).slice(0, 100)}`, method: 'OPTIONS', path, headers, via: 'fetch' }
}

/** Nesting hundreds and thousands of levels deep in one field of a valid /e or Segment body. */
function deepField(g: Gen, ctx: Context): FuzzRequest {
  const toE = g.chance(0.5)
  const call = g.pick(SEGMENT_CALLS)
  const template = toE ? eTemplate(g, ctx.siteId) : segmentTemplate(g, call)
  const path = g.pick(fieldPaths(template))
  const depth = g.pick(DEPTHS)
  setAt(template, path, deep(g, depth))
  const what = `${depth} levels deep at ${path.join('.')}`
  return toE
    ? { what: `/e ${what}`, method: 'POST', path: '/e', headers: snippetHeaders(), body: toJson(template), via: 'fetch' }
    : { what: `/v1/${call} ${what}`, method: 'POST', path: `/v1/${call}`, headers: segmentHeaders(ctx), body: toJson(template), via: 'fetch' }
}

/** Methods the routes do not take. */
function wrongMethod(g: Gen, ctx: Context): FuzzRequest {
  const method = g.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD'])
  const path = g.pick(['/e', '/v1/track', '/v1/batch', '/v1/alias', '/api/export/sessions', '/api/reports/funnel'])
  const hasBody = method !== 'GET' && method !== 'HEAD'
  return {
    what: `${method} ${path}`,
    method,
    path,
    headers: path.startsWith('/api') ? { Authorization: `Bearer ${ctx.readToken}` } : path === '/e' ? snippetHeaders() : segmentHeaders(ctx),
    body: hasBody ? toJson(path === '/e' ? eTemplate(g, ctx.siteId) : segmentTemplate(g, 'track')) : undefined,
    via: 'fetch',
  }
}

/** By node:http: latin1 header values, duplicated headers, no Content-Type at all. */
function rawHeaders(g: Gen, ctx: Context): FuzzRequest {
  const toE = g.chance(0.5)
  const body = toJson(toE ? eTemplate(g, ctx.siteId) : segmentTemplate(g, 'track'))
  const headers: Record<string, string | string[]> = toE ? snippetHeaders() : segmentHeaders(ctx)
  const [what, change] = g.pick<[string, () => void]>([
    ['no Content-Type', () => delete headers['Content-Type']],
    ['latin1 Origin', () => (headers.Origin = 'https://www.ex\u00e4mple.com')],
    ['latin1 User-Agent', () => (headers['User-Agent'] = 'Mozilla/5.0 \u00ff\u00fe\u00e9')],
    ['two Origins', () => (headers.Origin = [SITE_ORIGIN, 'https://evil.example'])],
    ['two Authorizations', () => (headers.Authorization = ['Basic x', basic(ctx.writeKey)])],
    ['latin1 Authorization', () => (headers.Authorization = 'Basic \u00e9\u00e9\u00e9')],
    ['Content-Type with latin1', () => (headers['Content-Type'] = 'application/json; charset=\u00e9')],
    ['16 KB of headers', () => (headers['X-Padding'] = 'p'.repeat(16 * 1024))],
  ])
  change()
  return { what: `${toE ? '/e' : '/v1/track'} ${what}`, method: 'POST', path: toE ? '/e' : '/v1/track', headers, body, via: 'http', chunked: g.chance(0.3) }
}

type Maker = (g: Gen, ctx: Context) => FuzzRequest
const MAKERS: readonly (readonly [number, Maker])[] = [
  [16, eMutated],
  [4, eGarbage],
  [2, eOversize],
  [2, eRefused],
  [16, segmentMutated],
  [4, segmentGarbage],
  [3, segmentEncoding],
  [1, segmentOversize],
  [2, deepField],
  [3, segmentUnauthorized],
  [9, apiRead],
  [2, preflight],
  [1, wrongMethod],
  [2, rawHeaders],
]

function makeCase(n: number, ctx: Context): { request: FuzzRequest; g: Gen } {
  const g = new Gen(mulberry32(caseSeed(n)))
  return { request: g.weighted(MAKERS)(g, ctx), g }
}

/** The request, short enough to read: method, path, headers and the start of the body. */
function preview(request: FuzzRequest): string {
  const bytes = bodyBytes(request.body)
  const text = bytes.toString('utf8')
  const body = request.body === undefined ? '(none)' : Buffer.from(text).equals(bytes) ? JSON.stringify(text.slice(0, 300)) : `hex ${bytes.subarray(0, 64).toString('hex')}`
  return `${request.method} ${request.path.slice(0, 200)} via ${request.via}${request.chunked ? ' (chunked)' : ''} headers ${JSON.stringify(request.headers).slice(0, 300)} body ${body}${bytes.length > 300 ? ` … (${bytes.length} bytes)` : ''}`
}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

/** The collector runs in this process: its heap is ours. gc() when it can be had, to measure what is kept, not garbage. */
function collectGarbage(): (() => void) | undefined {
  if (typeof globalThis.gc === 'function') return globalThis.gc
  try {
    setFlagsFromString('--expose-gc')
    return runInNewContext('gc') as () => void
  } catch {
    return undefined
  }
}
const gc = collectGarbage()
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.()
    await new Promise((done) => setTimeout(done, 100))
  }
  return process.memoryUsage().heapUsed
}

/**
 * What the collector logged for a case, as one line: the error and the first place in the collector it
 * came from. The background catch-up's own message, logged whenever it runs, names the case's cause only alone.
 */
function causeOf(entries: string[]): string {
  const logged = entries.find((entry) => !entry.startsWith('waymark: keeping sessions')) ?? entries[0]
  const error = logged.replace(/^waymark: request failed: /, '').split('\n')[0].replace(/-?\d[\d.e+-]{5,}/g, 'N').slice(0, 120)
  const where = /(collector|shared)\/[\w/.-]+\.ts:\d+/.exec(logged)?.[0]
  return where ? `${error} (${where})` : error
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

describe(`the collector under ${ONLY === undefined ? CASES : 1} seeded malformed requests (seed ${SEED})`, () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>>
  let ctx: Context
  const serverErrors: string[] = []
  const consoleError = console.error
  /** Each failed case in full, and its cause (the collector's logged error, or what came back) to group them by. */
  const failures: { report: string; cause: string }[] = []
  const validIds: string[] = []
  const neverStored: string[] = []
  const statuses = new Map<string, Map<number, number>>()
  let heapAfterWarmUp = 0
  let heapAtEnd = 0
  let casesRun = 0

  beforeAll(async () => {
    // What the collector logs when a request fails (app.onError) is kept for the report.
    console.error = (...args: unknown[]) => {
      serverErrors.push(format(...args))
      consoleError(...args)
    }
    c = await collectorWithSite('example.com', { limits: { perAddress: 0, perSite: 0 } })
    ctx = { url: c.url, port: c.collector.port, siteId: c.site.id, writeKey: c.writeKey, readToken: c.readToken }
  })
  afterAll(async () => {
    console.error = consoleError
    try {
      await c?.close()
    } finally {
      // close() removes the database's folder only when the store closed cleanly.
      if (c) rmSync(dirname(c.dbPath), { recursive: true, force: true })
    }
  })

  let validRound = 0
  /** A valid /e batch and a valid Segment track, each sent twice every third round; both must be taken. */
  async function sendValid() {
    const twice = validRound % 3 === 0
    const messageId = `valid-${SEED}-${validRound++}-${ulid()}`
    const event = pageview()
    const body = batch(c.site.id, [event])
    const track = JSON.stringify({ userId: 'fuzz-valid-user', event: 'Fuzz Check', messageId, properties: { round: validRound } })
    for (let i = 0; i < (twice ? 2 : 1); i++) {
      const e = await c.post(body)
      const eReply = await e.text()
      if (e.status !== 200) failures.push({ report: `valid /e batch (round ${validRound}) got ${e.status}: ${eReply.slice(0, 300)}`, cause: `valid /e batch got ${e.status}` })
      const v1 = await fetch(`${c.url}/v1/track`, { method: 'POST', body: track, headers: { 'Content-Type': 'application/json', Authorization: basic(c.writeKey) } })
      const v1Reply = await v1.text()
      if (v1.status !== 200) failures.push({ report: `valid /v1/track (round ${validRound}) got ${v1.status}: ${v1Reply.slice(0, 300)}`, cause: `valid /v1/track got ${v1.status}` })
    }
    validIds.push(event.id, `${c.site.id}:${messageId}`)
  }

  async function runCase(n: number) {
    const { request, g } = makeCase(n, ctx)
    const expected = promisedStatus(request)
    const errorsBefore = serverErrors.length
    let outcome: string | undefined
    try {
      const answer = request.via === 'fetch' ? await viaFetch(ctx, request) : await viaHttp(ctx, request, g)
      const key = `${request.method} ${request.path.split('?')[0]}`
      const counts = statuses.get(key) ?? new Map<number, number>()
      counts.set(answer.status, (counts.get(answer.status) ?? 0) + 1)
      statuses.set(key, counts)
      if (answer.status >= 500) outcome = `answered ${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`
      // Node refuses a request line and headers over 16 KB with 431 before any route sees it: that comes first.
      else if (expected !== undefined && answer.status !== expected && !(answer.status === 431 && request.path.length + JSON.stringify(request.headers ?? {}).length > 16_000))
        outcome = `answered ${answer.status}, the README promises ${expected}: ${answer.body.toString('utf8').slice(0, 200)}`
    } catch (error) {
      outcome = `got no answer: ${(error as Error).message}${(error as { cause?: Error }).cause ? ` (${(error as { cause: Error }).cause.message})` : ''}`
    }
    if (request.neverStored) neverStored.push(...request.neverStored)
    if (outcome) {
      const entries = serverErrors.slice(errorsBefore)
      const logged = entries.join('\n').slice(0, 1500)
      failures.push({
        report: `case ${n} [replay: WAYMARK_FUZZ_SEED=${SEED} WAYMARK_FUZZ_CASE=${n}] ${request.what}: ${outcome}\n  request: ${preview(request)}${logged ? `\n  server stderr: ${logged}` : ''}`,
        cause: entries.length ? causeOf(entries) : outcome.replace(/^(answered \d+|got no answer: [^(]*).*$/s, '$1'),
      })
    }
  }

  it('answers every request below 500, and with the status the README promises where it promises one', { timeout: Math.max(120_000, CASES * 200) }, async () => {
    const started = performance.now()
    const numbers = ONLY === undefined ? Array.from({ length: CASES }, (_, n) => n) : [ONLY]
    for (const [i, n] of numbers.entries()) {
      await runCase(n)
      casesRun++
      if (i % VALID_EVERY === VALID_EVERY - 1) await sendValid()
      if (i === WARM_UP - 1) heapAfterWarmUp = await settledHeap()
    }
    await sendValid()
    if (!heapAfterWarmUp) heapAfterWarmUp = await settledHeap()
    heapAtEnd = await settledHeap()
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    const table = [...statuses].sort().map(([route, counts]) => `  ${route}: ${[...counts].sort((a, b) => a[0] - b[0]).map(([s, k]) => `${s}×${k}`).join(' ')}`)
    console.log(`fuzz: ${casesRun} cases and ${validRound} valid rounds in ${seconds} s (seed ${SEED}); answers by route:\n${table.join('\n')}`)
    const causes = new Map<string, number>()
    for (const { cause } of failures) causes.set(cause, (causes.get(cause) ?? 0) + 1)
    if (causes.size) console.log(`fuzz failures by cause:\n${[...causes].map(([cause, count]) => `  ${count}× ${cause}`).join('\n')}`)
    const shown = failures.slice(0, 15).map((f) => f.report)
    expect(shown, `${failures.length} of ${casesRun} cases failed (first ${shown.length} shown)`).toEqual([])
  })

  it('is still up afterwards: /healthz answers 200 and a valid batch is taken', async () => {
    expect((await fetch(`${c.url}/healthz`)).status).toBe(200)
    const event = pageview()
    const response = await c.post(batch(c.site.id, [event]))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ accepted: 1, rejected: [] })
    validIds.push(event.id)
  })

  it('stores every valid event sent between the malformed ones exactly once, and none it refused', async () => {
    const counts = new Map<string, number>()
    let queryFailed: unknown
    try {
      for await (const event of c.collector.store.queryEvents({ siteId: c.site.id })) counts.set(event.id, (counts.get(event.id) ?? 0) + 1)
    } catch (error) {
      // The store would not answer: count from the file itself, so what was stored is still judged, then fail on the query.
      queryFailed = error
      counts.clear()
      const db = new Database(c.dbPath, { readonly: true })
      for (const id of db.prepare('SELECT id FROM events WHERE site_id = ?').pluck().all(c.site.id) as string[]) counts.set(id, (counts.get(id) ?? 0) + 1)
      db.close()
    }
    expect(validIds.length).toBeGreaterThan(0)
    expect(validIds.filter((id) => counts.get(id) !== 1).map((id) => `${id} stored ${counts.get(id) ?? 0} times`)).toEqual([])
    expect(neverStored.filter((id) => counts.has(id))).toEqual([])
    expect(queryFailed, 'store.queryEvents threw').toBeUndefined()
  })

  it('leaves no prototype polluted', () => {
    const probe = {} as Record<string, unknown>
    expect([probe.polluted, probe.isAdmin, ([] as unknown as Record<string, unknown>).polluted]).toEqual([undefined, undefined, undefined])
  })

  it(`does not grow its heap by more than ${HEAP_GROWTH_LIMIT / 1024 / 1024} MB from the warm-up round to the end`, () => {
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
    console.log(`fuzz heap: ${mb(heapAfterWarmUp)} MB after ${Math.min(WARM_UP, casesRun)} warm-up cases, ${mb(heapAtEnd)} MB after ${casesRun} (growth ${mb(heapAtEnd - heapAfterWarmUp)} MB; gc ${gc ? 'forced' : 'not available'})`)
    expect(heapAfterWarmUp).toBeGreaterThan(0)
    expect(heapAtEnd - heapAfterWarmUp).toBeLessThan(HEAP_GROWTH_LIMIT)
  })
})
