// A report thread (threads.ts): runs the reports it is given, one at a time, on a read-only
// connection of its own, and answers each with its JSON or its error.
import { parentPort, workerData } from 'node:worker_threads'
import { RequestError } from '../request-params'
import type { WaymarkConfig } from '../stages/config'
import { openSqliteReads } from '../store/sqlite/reads'
import { NotFound, runReport } from './index'
import type { ReportAnswer, ReportJob } from './threads'

const { path, config } = workerData as { path: string; config: WaymarkConfig }
const store = openSqliteReads(path, config)

parentPort!.on('message', async ({ siteId, name, params, now }: ReportJob) => {
  let answer: ReportAnswer
  try {
    answer = { json: JSON.stringify(await runReport(store, config, siteId, name, params, now)) }
  } catch (error) {
    const kind = error instanceof NotFound ? 'notFound' : error instanceof RequestError ? 'request' : 'internal'
    answer = { error: { kind, message: kind === 'internal' ? ((error as Error)?.stack ?? String(error)) : (error as Error).message } }
  }
  parentPort!.postMessage(answer)
})
