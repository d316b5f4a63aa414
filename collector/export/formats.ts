import { ByteWriter, ParquetWriter, schemaFromColumnData, type ColumnSource } from 'hyparquet-writer'
import type { Cell, Column, ColumnType } from './datasets'

export const FORMATS = ['csv', 'ndjson', 'parquet'] as const
export type Format = (typeof FORMATS)[number]

export const CONTENT_TYPES: Record<Format, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  ndjson: 'application/x-ndjson; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
}

/** Text is handed on in chunks of about this size: few writes, little held. */
const CHUNK_CHARS = 64 * 1024
/** Rows per Parquet row group: what is held in memory at once while writing Parquet. */
const ROW_GROUP_ROWS = 25_000

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab or CR before one) as a formula, and
 * visitors control page titles and URLs: such cells get a leading apostrophe (OWASP's advice), which
 * spreadsheets hide. CSV only; NDJSON and Parquet keep the value as it is.
 */
const FORMULA_START = /^[=+\-@\t\r]/
/** RFC 4180: a field with a comma, quote or line break is quoted, and its quotes doubled. */
const NEEDS_QUOTES = /[",\r\n]/

function csvField(value: Cell, type: ColumnType): string {
  if (value === null) return ''
  let text: string
  if (type === 'time') text = iso(value as number)
  else if (type === 'json') text = JSON.stringify(value)
  else if (type === 'text') {
    text = value as string
    if (FORMULA_START.test(text)) text = "'" + text
  } else return String(value)
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

async function* csv<Row>(columns: Column<Row>[], rows: AsyncIterable<Row>): AsyncGenerator<Uint8Array> {
  let chunk = columns.map((c) => c.name).join(',') + '\r\n'
  for await (const row of rows) {
    let line = ''
    for (let i = 0; i < columns.length; i++) line += (i ? ',' : '') + csvField(columns[i].value(row), columns[i].type)
    chunk += line + '\r\n'
    if (chunk.length >= CHUNK_CHARS) {
      yield Buffer.from(chunk)
      chunk = ''
    }
  }
  yield Buffer.from(chunk)
}

async function* ndjson<Row>(columns: Column<Row>[], rows: AsyncIterable<Row>): AsyncGenerator<Uint8Array> {
  let chunk = ''
  for await (const row of rows) {
    const record: Record<string, Cell> = {}
    for (const column of columns) {
      const value = column.value(row)
      record[column.name] = column.type === 'time' && value !== null ? iso(value as number) : value
    }
    chunk += JSON.stringify(record) + '\n'
    if (chunk.length >= CHUNK_CHARS) {
      yield Buffer.from(chunk)
      chunk = ''
    }
  }
  if (chunk) yield Buffer.from(chunk)
}

const PARQUET_TYPES = { text: 'STRING', integer: 'INT64', number: 'DOUBLE', time: 'TIMESTAMP', boolean: 'BOOLEAN', json: 'JSON' } as const

/**
 * Parquet, a row group at a time: rows are gathered into columns until a group is full, the
 * group is encoded (snappy, dictionaries where they pay), and its bytes are handed on before the
 * next one is gathered.
 */
async function* parquet<Row>(columns: Column<Row>[], rows: AsyncIterable<Row>): AsyncGenerator<Uint8Array> {
  const schema = schemaFromColumnData({
    columnData: columns.map((c) => ({ name: c.name, data: [], type: PARQUET_TYPES[c.type], nullable: true })),
  })
  const bytes = new ByteWriter() as ByteWriter & { flush(): void }
  const ready: Uint8Array[] = []
  // Hand on what a row group wrote, and start the buffer again.
  bytes.flush = () => {
    ready.push(bytes.getBytes().slice())
    bytes.index = 0
  }
  bytes.finish = bytes.flush
  const writer = new ParquetWriter({ writer: bytes, schema, createdBy: 'waymark' })
  const toParquet = (value: Cell, type: ColumnType) => (value !== null && type === 'integer' ? BigInt(value as number) : value)

  let group: unknown[][] = columns.map(() => [])
  const writeGroup = () => {
    const columnData: ColumnSource[] = columns.map((c, i) => ({ name: c.name, data: group[i] as ColumnSource['data'] }))
    void writer.write({ columnData, rowGroupSize: group[0].length })
    group = columns.map(() => [])
  }
  for await (const row of rows) {
    for (let i = 0; i < columns.length; i++) group[i].push(toParquet(columns[i].value(row), columns[i].type))
    if (group[0].length === ROW_GROUP_ROWS) {
      writeGroup()
      yield* ready.splice(0)
    }
  }
  if (group[0].length) writeGroup()
  void writer.finish()
  // The header bytes come before the first group's, if no group was written.
  bytes.flush()
  yield* ready.splice(0).filter((chunk) => chunk.length)
}

/** Encodes rows in a format, chunk by chunk, pulling rows only as fast as the chunks are taken. */
export function encodeRows<Row>(format: Format, columns: Column<Row>[], rows: AsyncIterable<Row>): AsyncGenerator<Uint8Array> {
  return format === 'csv' ? csv(columns, rows) : format === 'ndjson' ? ndjson(columns, rows) : parquet(columns, rows)
}
