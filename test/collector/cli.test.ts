import { parse } from 'csv-parse/sync'
import { parquetReadObjects } from 'hyparquet'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addSite } from '../../collector/sites'
import { openSqliteStore } from '../../collector/store/sqlite'
import type { StoredEvent } from '../../collector/store/types'
import { waymark } from '../browser/processes'
import { generateTraffic } from '../fixtures/traffic'

describe('waymark export and waymark report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-cli-'))
  const db = join(dir, 'waymark.db')
  let events: StoredEvent[]

  beforeAll(async () => {
    const store = openSqliteStore(db)
    const { site } = await addSite(store, 'example.com')
    ;({ events } = generateTraffic({ siteId: site.id, visitors: 60, seed: 9, start: Date.UTC(2026, 0, 5), days: 20 }))
    await store.appendEvents(events)
    await store.close()
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("writes a month's sessions to a CSV file, and the same to standard output", async () => {
    const out = join(dir, 'sessions.csv')
    await waymark('export', 'sessions', '--format', 'csv', '--from', '2026-01-01', '--to', '2026-02-01', '--out', out, '--db', db)
    const file = readFileSync(out, 'utf8')
    const rows = parse(file, { columns: true }) as Record<string, string>[]
    expect(rows.length).toBeGreaterThan(60)
    for (const row of rows) expect(row.started_at.startsWith('2026-01')).toBe(true)
    expect(await waymark('export', 'sessions', '--from', '2026-01-01', '--to', '2026-02-01', '--db', db)).toBe(file)
  })

  it('writes events as Parquet and as NDJSON', async () => {
    const out = join(dir, 'events.parquet')
    await waymark('export', 'events', '--format', 'parquet', '--out', out, '--db', db)
    const bytes = readFileSync(out)
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) })
    expect(rows.map((r) => r.event_id).sort()).toEqual(events.map((e) => e.id).sort())
    const lines = (await waymark('export', 'events', '--format', 'ndjson', '--db', db)).trim().split('\n')
    expect(lines).toHaveLength(events.length)
  })

  it('prints the funnel as a table a marketer can read', async () => {
    const text = await waymark('report', 'funnel', '--from', '2026-01-01', '--to', '2026-03-01', '--db', db)
    expect(text).toContain('Funnel of journey "b2b", 2026-01-01 to 2026-03-01')
    // Ten visitors of each of six personas: all aware, all but bouncers consider.
    expect(text).toMatch(/^awareness +60 +30 +consideration +50 +83\.3 % +10 /m)
    expect(text).toMatch(/^consideration +50 +30 +decision +30 +60\.0 % +20 /m)
    const json = JSON.parse(await waymark('report', 'funnel', '--json', '--from', '2026-01-01', '--to', '2026-03-01', '--db', db))
    expect(json.stages[0].people.entered).toBe(60)
  })

  it('prints the other reports', async () => {
    expect(await waymark('report', 'sources', '--db', db)).toMatch(/People who entered decision in the range: 30/)
    expect(await waymark('report', 'forms', '--db', db)).toMatch(/Form "demo-request": 0 views, 20 starts, 20 submits/)
    expect(await waymark('report', 'content', '--db', db)).toMatch(/\/pricing +30 +30/)
    const email = (await waymark('export', 'people', '--format', 'ndjson', '--db', db)).split('\n').map((l) => l && JSON.parse(l)).find((p) => p?.stage === 'purchase').email
    expect(await waymark('report', 'timeline', '--email', email, '--db', db)).toMatch(/stage +b2b: decision → purchase/)
  })

  it('prints the account reports, and any report for a segment', async () => {
    expect(await waymark('report', 'length', '--db', db)).toMatch(/31 touches, 192 days, 3\.1 channels/)
    expect(await waymark('report', 'accounts', '--db', db)).toMatch(/^decision +30 +\d+$/m)
    expect(await waymark('report', 'paths', '--db', db)).toMatch(/Reached decision: 30 people and visitors/)
    expect(await waymark('report', 'cohorts', '--db', db)).toMatch(/People by the month of their first touch/)
    // Nobody in the generated history has a role: the segment holds no one.
    const segment = await waymark('report', 'funnel', '--segment', 'person.role=cto', '--db', db)
    expect(segment).toContain('segment person.role=cto')
    expect(segment).toMatch(/^awareness +0 +0 /m)
    await expect(waymark('report', 'funnel', '--segment', 'industry=software', '--db', db)).rejects.toThrow(/give company.<trait>=<value>/)
  })

  it('says what is wrong when asked for what it cannot give', async () => {
    await expect(waymark('export', 'visits', '--db', db)).rejects.toThrow(/unknown export "visits"/)
    await expect(waymark('report', 'funnel', '--from', 'last week', '--db', db)).rejects.toThrow(/is not a date/)
    await expect(waymark('report', 'funnel', '--site', 'nope', '--db', db)).rejects.toThrow(/no site "nope"/)
  })
})
