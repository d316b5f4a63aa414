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
/**
 * Rows per Parquet row group: what is held in memory at once while writing Parquet. At 25,000,
 * 200,000 sessions already peaked at 330 MB; at 5,000, a million peak at 231 MB, for a file 1.6 %
 * larger than at 10,000.
 */
const ROW_GROUP_ROWS = 5_000

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab or CR before one) as a formula, and
 * visitors control page titles and URLs: such cells get a leading apostrophe (OWASP's advice), which
 * spreadsheets hide. CSV only; NDJSON and Parquet keep the value as it is.
 */
const FORMULA_START = /^[=+\-@\t\r]/
/** RFC 4180: a field with a comma, quote or line break is quoted, and its quotes doubled. */
const NEEDS_QUOTES = /[",\r\n]/

const csvQuoted = (text: string) => (NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text)
const csvText = (text: string) => csvQuoted(FORMULA_START.test(text) ? "'" + text : text)

/**
 * How each type is written in a CSV cell (null is an empty cell). Chosen once per column, not
 * tested per cell: an export writes tens of millions of cells.
 */
const CSV_CELLS: Record<ColumnType, (value: NonNullable<Cell>) => string> = {
  text: (value) => csvText(value as string),
  time: (value) => iso(value as number),
  // JSON text starts with { [ " or a number: never a formula, only quoted where it must be.
  json: (value) => csvQuoted(JSON.stringify(value)),
  integer: String,
  number: String,
  boolean: String,
}

/** Chunks of text, each handed on as bytes once it is about CHUNK_CHARS long. */
async function* chunked<Row>(rows: AsyncIterable<Row>, head: string, line: (row: Row) => string): AsyncGenerator<Uint8Array> {
  let chunk = head
  for await (const row of rows) {
    chunk += line(row)
    if (chunk.length >= CHUNK_CHARS) {
      yield Buffer.from(chunk)
      chunk = ''
    }
  }
  if (chunk) yield Buffer.from(chunk)
}

function csv<Row>(columns: Column<Row>[], rows: AsyncIterable<Row>): AsyncGenerator<Uint8Array> {
  const cells = columns.map((column) => ({ value: column.value, write: CSV_CELLS[column.type] }))
  return chunked(rows, columns.map((c) => c.name).join(',') + '\r\n', (row) => {
    let line = ''
    for (let i = 0; i < cells.length; i++) {
      const value = cells[i].value(row)
      if (i) line += ','
      if (value !== null) line += cells[i].write(value)
    }
    return line + '\r\n'
  })
}

/**
 * One JSON object per line, its keys in the columns' order. Written key by key rather than built
 * as an object and stringified: the same text, at a fraction of the cost for wide rows.
 */
function ndjson<Row>(columns: Column<Row>[], rows: AsyncIterable<Row>): AsyncGenerator<Uint8Array> {
  const cells = columns.map((column, i) => ({
    value: column.value,
    key: (i ? ',' : '{') + JSON.stringify(column.name) + ':',
    write: column.type === 'time' ? (value: Cell) => `"${iso(value as number)}"` : (value: Cell) => JSON.stringify(value),
  }))
  return chunked(rows, '', (row) => {
    let line = ''
    for (const cell of cells) {
      const value = cell.value(row)
      line += cell.key + (value === null ? 'null' : cell.write(value))
    }
    return (cells.length ? line : '{') + '}\n'
  })
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
