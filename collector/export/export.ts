import type { WaymarkConfig } from '../stages/config'
import type { Store } from '../store/types'
import { oneOf, parseJourney, parseRange, RequestError } from '../request-params'
import { DATASET_NAMES, DATASETS, type Dataset, type DatasetName, type ExportFilter } from './datasets'
import { encodeRows, FORMATS, type Format } from './formats'

/** An export as asked for on the command line or in a URL: every value a string, as typed. */
export interface ExportParams {
  dataset?: string
  format?: string
  from?: string
  to?: string
  journey?: string
  stage?: string
}

export interface ExportRequest {
  dataset: DatasetName
  format: Format
  filter: ExportFilter
  /** The journeys the report datasets (content, ctas) fold by. */
  config: WaymarkConfig
}

/** Checks an export's parameters and turns them into a request, or throws a RequestError saying what to change. */
export function parseExport(siteId: string, config: WaymarkConfig, params: ExportParams): ExportRequest {
  const dataset = oneOf(params.dataset, DATASET_NAMES, 'export')
  const format = oneOf(params.format, FORMATS, 'format', 'csv')
  const { journey, stage } = parseJourney(config, params)
  if (stage !== undefined && !DATASETS[dataset].stages)
    throw new RequestError(`${dataset} have no stage to filter by: leave out stage, or export sessions, people, companies or transitions`)
  return { dataset, format, filter: { siteId, ...parseRange(params), journey: journey.name, stage }, config }
}

/** The export's bytes, streamed: rows are read only as fast as the bytes are taken. */
export function exportRows(store: Store, request: ExportRequest): AsyncGenerator<Uint8Array> {
  const encode = <Row>(dataset: Dataset<Row>) => encodeRows(request.format, dataset.columns, dataset.rows(store, request.filter, request.config))
  // Each dataset's rows fit its own columns; the union of them is what TypeScript cannot see.
  return encode(DATASETS[request.dataset] as Dataset<unknown>)
}

/** A file name that says what is in it: sessions-2026-01-01-to-2026-02-01.csv. */
export function exportFileName({ dataset, format, filter }: ExportRequest): string {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
  const range = filter.from !== undefined || filter.to !== undefined
    ? `-${filter.from !== undefined ? day(filter.from) : 'start'}-to-${filter.to !== undefined ? day(filter.to) : 'now'}`
    : ''
  return `${dataset}${range}.${format}`
}
