import { parse } from 'csv-parse/sync'
import { parquetReadObjects } from 'hyparquet'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATASETS, type DatasetName } from '../../collector/export/datasets'
import { addSite } from '../../collector/sites'
import type { StoredEvent } from '../../collector/store/types'
import { generateTraffic, PERSONAS, type Persona } from '../fixtures/traffic'
import { batch, collectorWithSite, pageview } from './helpers'

const SEPTEMBER = Date.UTC(2026, 8, 1)

/** Sessions each persona makes, by its plan in the traffic fixture (a customer's second device adds one). */
const SESSIONS_OF: Record<Persona, number> = { bouncer: 1, researcher: 1, returner: 2, newsletter: 1, lead: 2, customer: 3 }

describe('export over HTTP', () => {
  let c: Awaited<ReturnType<typeof collectorWithSite>>
  let events: StoredEvent[]
  let expectedSessions: number
  const get = (path: string, token: string | null = c.readToken) =>
    fetch(`${c.url}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} })

  beforeAll(async () => {
    c = await collectorWithSite()
    const traffic = generateTraffic({ siteId: c.site.id, visitors: 120, seed: 21, start: SEPTEMBER, days: 10 })
    events = traffic.events
    // Values that test the formats: a comma, quotes and a line break; nested properties; a formula.
    // They come from a visitor of their own, in one session of their own.
    const tricky = { ...events[0], visitorId: ulid(SEPTEMBER), id: ulid(SEPTEMBER + 3_600_000), kind: 'track' as const, name: 'Quote, "Requested"', occurredAt: SEPTEMBER + 3_600_000,
      title: 'line one\nline two', props: { plan: { seats: 12, tier: 'pro' }, tags: ['a', 'b'] } }
    const formula = { ...tricky, id: ulid(SEPTEMBER + 3_600_001), occurredAt: SEPTEMBER + 3_600_001, name: 'Formula', title: '=HYPERLINK("http://evil")', props: null }
    // Clicks in the same visit, so the content and calls-to-action datasets have files and links to list.
    const click = (n: number, kind: StoredEvent['kind'], name: string, props: StoredEvent['props']) =>
      ({ ...tricky, id: ulid(SEPTEMBER + 3_600_010 + n), occurredAt: SEPTEMBER + 3_600_010 + n, title: null, kind, name, props })
    const clicks = [
      click(0, 'file_download', 'https://www.example.com/files/sizing-guide.pdf', { text: 'Sizing guide' }),
      click(1, 'cta', 'Book demo', { placement: 'hero' }),
      click(2, 'contact_click', 'sales@example.com', { kind: 'email' }),
      click(3, 'outbound_click', 'https://github.com/example', null),
    ]
    events.push(tricky, formula, ...clicks)
    await c.collector.store.appendEvents(events)
    expectedSessions = traffic.visitors.reduce((n, v) => n + SESSIONS_OF[v.persona] + (v.secondDevice ? 1 : 0), 1)
  })
  afterAll(() => c.close())

  async function allFormats(dataset: DatasetName, query = '') {
    const read = async (format: string) => {
      const response = await get(`/api/export/${dataset}?format=${format}${query}`)
      expect(response.status).toBe(200)
      return response
    }
    const csvResponse = await read('csv')
    expect(csvResponse.headers.get('content-type')).toMatch(/^text\/csv/)
    expect(csvResponse.headers.get('content-disposition')).toMatch(new RegExp(`attachment; filename="${dataset}.*\\.csv"`))
    const csvText = await csvResponse.text()
    const ndjsonText = await (await read('ndjson')).text()
    const parquetBytes = await (await read('parquet')).arrayBuffer()
    return {
      csvText,
      csv: parse(csvText, { columns: true }) as Record<string, string>[],
      ndjson: ndjsonText.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
      parquet: (await parquetReadObjects({ file: parquetBytes })) as Record<string, unknown>[],
    }
  }

  /** A value as CSV writes it, to compare the three formats cell by cell. */
  const asCsv = (value: unknown, type: string): string => {
    if (value === null || value === undefined) return ''
    if (value instanceof Date) return value.toISOString()
    if (typeof value === 'bigint') return String(value)
    if (type === 'json') return JSON.stringify(value)
    if (typeof value === 'string' && /^[=+\-@]/.test(value)) return "'" + value
    return String(value)
  }

  for (const dataset of Object.keys(DATASETS) as DatasetName[]) {
    it(`gives the same ${dataset}, columns and values in CSV, NDJSON and Parquet`, async () => {
      const { csv, ndjson, parquet } = await allFormats(dataset)
      const columns = DATASETS[dataset].columns
      expect(csv.length).toBeGreaterThan(0)
      expect(ndjson.length).toBe(csv.length)
      expect(parquet.length).toBe(csv.length)
      expect(Object.keys(csv[0])).toEqual(columns.map((c) => c.name))
      expect(Object.keys(ndjson[0])).toEqual(columns.map((c) => c.name))
      expect(Object.keys(parquet[0])).toEqual(columns.map((c) => c.name))
      for (let i = 0; i < csv.length; i++)
        for (const column of columns) {
          expect(asCsv(ndjson[i][column.name], column.type), `${dataset} row ${i} ${column.name} (NDJSON)`).toBe(csv[i][column.name])
          expect(asCsv(parquet[i][column.name], column.type), `${dataset} row ${i} ${column.name} (Parquet)`).toBe(csv[i][column.name])
        }
    })
  }

  it('exports every row of the content and calls-to-action reports, with the numbers the reports give', async () => {
    const report = async (name: string) => (await get(`/api/reports/${name}?limit=100000`)).json()
    const content = await report('content')
    const exported = (await allFormats('content')).ndjson
    expect(exported.map((r) => r.item)).toEqual([...content.pages.map((p: { path: string }) => p.path), ...content.files.map((f: { url: string }) => f.url)])
    const guide = exported.find((r) => r.item === 'https://www.example.com/files/sizing-guide.pdf')!
    expect(guide).toMatchObject({ type: 'file', views: content.files[0].views, visitors: content.files[0].visitors, read_past_75: null })
    const ctas = await report('ctas')
    const links = (await allFormats('ctas')).ndjson
    expect(links.map((r) => [r.type, r.name, r.clicks])).toEqual([
      ['cta', 'Book demo', ctas.ctas[0].clicks],
      ['contact', 'sales@example.com', ctas.contacts[0].clicks],
      ['outbound', 'https://github.com/example', ctas.outbound[0].clicks],
    ])
    expect(links[1].contact_kind).toBe('email')
  })

  it('exports every event and every session the plan makes', async () => {
    const { csv } = await allFormats('events')
    expect(csv.map((r) => r.event_id).sort()).toEqual(events.map((e) => e.id).sort())
    const sessions = await allFormats('sessions')
    expect(sessions.csv.length).toBe(expectedSessions)
  })

  it('writes RFC 4180 CSV: a header row, CRLF line ends, quoted commas, quotes and line breaks', async () => {
    const { csvText, csv, ndjson } = await allFormats('events')
    expect(csvText.split('\r\n')[0]).toBe(DATASETS.events.columns.map((c) => c.name).join(','))
    const row = csv.find((r) => r.name === 'Quote, "Requested"')!
    expect(row.title).toBe('line one\nline two')
    expect(csvText).toContain('"Quote, ""Requested"""')
    // Nested properties: JSON text in CSV, nested values in NDJSON.
    expect(JSON.parse(row.properties)).toEqual({ plan: { seats: 12, tier: 'pro' }, tags: ['a', 'b'] })
    expect(ndjson.find((r) => r.name === 'Quote, "Requested"')!.properties).toEqual({ plan: { seats: 12, tier: 'pro' }, tags: ['a', 'b'] })
    // Times: ISO 8601 UTC.
    expect(row.occurred_at).toBe(new Date(SEPTEMBER + 3_600_000).toISOString())
  })

  it("keeps a spreadsheet from running a visitor's formula in CSV, and leaves the value alone elsewhere", async () => {
    const { csv, ndjson } = await allFormats('events')
    expect(csv.find((r) => r.name === 'Formula')!.title).toBe(`'=HYPERLINK("http://evil")`)
    expect(ndjson.find((r) => r.name === 'Formula')!.title).toBe('=HYPERLINK("http://evil")')
  })

  it('filters by time range, from inclusive and to exclusive', async () => {
    const from = SEPTEMBER + 3 * 86_400_000
    const to = SEPTEMBER + 6 * 86_400_000
    const { csv } = await allFormats('events', `&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`)
    expect(csv.map((r) => r.event_id).sort()).toEqual(events.filter((e) => e.occurredAt >= from && e.occurredAt < to).map((e) => e.id).sort())
    const days = await allFormats('sessions', '&from=2026-09-04&to=2026-09-07')
    expect(days.csv.length).toBeGreaterThan(0)
    for (const session of days.csv) expect(session.started_at >= '2026-09-04' && session.started_at < '2026-09-07').toBe(true)
  })

  it('filters sessions, people and transitions by stage', async () => {
    // Customers are the people at purchase: one in six visitors by the fixture's plan.
    const customers = Math.ceil(120 / Object.keys(PERSONAS).length)
    const people = await allFormats('people', '&stage=purchase')
    expect(people.csv.length).toBe(customers)
    for (const person of people.csv) expect(person.stage).toBe('purchase')
    const moves = await allFormats('transitions', '&stage=purchase&journey=b2b')
    expect(moves.csv.filter((t) => t.owner_type === 'person').length).toBe(customers)
    for (const session of (await allFormats('sessions', '&stage=decision')).csv) expect(session.stage).toBe('decision')
  })

  it('answers 401 without a read token or with a wrong one, and 403 with another site’s', async () => {
    const none = await get('/api/export/sessions', null)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect((await none.json()).error).toMatch(/read token/)
    expect((await get('/api/export/sessions', 'rt_wrong')).status).toBe(401)
    // The write key is not a read token.
    expect((await get('/api/export/sessions', c.writeKey)).status).toBe(401)
    const other = await addSite(c.collector.store, 'other.example')
    const denied = await get(`/api/export/sessions?site=${c.site.id}`, other.readToken)
    expect(denied.status).toBe(403)
    // Its own token for its own site: an empty export, not another site's rows.
    const own = await get(`/api/export/events?site=${other.site.id}&format=ndjson`, other.readToken)
    expect(own.status).toBe(200)
    expect(await own.text()).toBe('')
  })

  it('says what is wrong with a request it cannot answer', async () => {
    const cases: [string, RegExp][] = [
      ['/api/export/visits', /unknown export "visits": use sessions, events, people, companies, transitions/],
      ['/api/export/sessions?format=xlsx', /unknown format "xlsx": use csv, ndjson, parquet/],
      ['/api/export/sessions?from=yesterday', /from "yesterday" is not a date/],
      ['/api/export/sessions?from=2026-02-01&to=2026-01-01', /must be after from/],
      ['/api/export/sessions?journey=nope', /no journey "nope"/],
      ['/api/export/sessions?stage=bored', /has no stage "bored"/],
      ['/api/export/events?stage=decision', /events have no stage/],
    ]
    for (const [path, message] of cases) {
      const response = await get(path)
      expect(response.status, path).toBe(400)
      expect((await response.json()).error, path).toMatch(message)
    }
  })

  it('streams while events arrive, and runs several exports at once', async () => {
    const response = await get('/api/export/events?format=ndjson')
    const reader = response.body!.getReader()
    const first = await reader.read()
    expect(first.done).toBe(false)
    // While the export is open: new events are taken and committed, and other exports run.
    const arriving = batch(c.site.id, [pageview({ t: Date.now() })])
    expect((await c.post(arriving)).status).toBe(200)
    const others = await Promise.all(['sessions', 'people', 'companies'].map(async (d) => (await get(`/api/export/${d}?format=csv`)).status))
    expect(others).toEqual([200, 200, 200])
    let text = new TextDecoder().decode(first.value)
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value)
    const ids = text.split('\n').filter(Boolean).map((line) => JSON.parse(line).event_id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const event of events) expect(ids).toContain(event.id)
  })
})
