import { totalmem } from 'node:os'
import { Worker } from 'node:worker_threads'
import { RequestError } from '../request-params'
import type { WaymarkConfig } from '../stages/config'
import type { Store, StoreReads } from '../store/types'
import { NotFound, runReport, type ReportParams } from './index'

/** Runs reports, each answered as its JSON text. */
export interface ReportRunner {
  run(siteId: string, name: string, params: ReportParams): Promise<string>
  /** Stops its threads; a report still running fails with ReportFailed. */
  close(): Promise<void>
}

/** A report its thread could not finish: out of its memory, or the thread died. Not the asker's fault. */
export class ReportFailed extends Error {}

/** One report as a thread is asked it, and as it answers. */
export interface ReportJob {
  siteId: string
  name: string
  params: ReportParams
  now: number
}
export type ReportAnswer = { json: string } | { error: { kind: 'request' | 'notFound' | 'internal'; message: string } }

/** How many reports run at once, each on its thread, by default. */
export const DEFAULT_REPORT_THREADS = 2
const MB = 1024 * 1024

/**
 * How much heap a report thread may use by default: a quarter of this machine's memory shared by
 * the threads, from 256 MB to 4 GB (V8's own default for a process is about 4 GB).
 */
export const defaultReportHeapMb = (threads: number) => Math.max(256, Math.min(4096, Math.floor(totalmem() / MB / 4 / threads)))

/** Reports in this process: for ClickHouse, whose reads are the server's work, and for a database in memory. */
export function reportsHere(store: StoreReads & Pick<Store, 'now'>, config: WaymarkConfig): ReportRunner {
  return {
    run: async (siteId, name, params) => JSON.stringify(await runReport(store, config, siteId, name, params, store.now())),
    close: async () => {},
  }
}

/** The answer of a thread as runReport's would be: the JSON, or the same error thrown. */
function answerOf(answer: ReportAnswer): string {
  if ('json' in answer) return answer.json
  const { kind, message } = answer.error
  throw kind === 'notFound' ? new NotFound(message) : kind === 'request' ? new RequestError(message) : new Error(message)
}

/**
 * Reports of a SQLite file on threads of their own, each with a read-only connection. A report
 * reads and folds for as long as its range and the site's history ask, synchronously (better-
 * sqlite3 does not yield): on the thread that takes events, a report of 25 s at ten million events
 * held every /e request for as long. And a report's fold can outgrow memory (the accounts view at
 * ten million events passed 4 GB): on its own thread, with its own heap limit, that ends the one
 * report, answered 503, not the collector.
 * Threads start as reports come (a thread takes about a quarter of a second to load), at most
 * `threads` of them; a report waits for a free one. The store settles first, so a report sees
 * every event committed before it was asked.
 */
export function reportThreads(store: Store, config: WaymarkConfig, path: string, options: { threads?: number; heapMb?: number } = {}): ReportRunner {
  const most = options.threads ?? DEFAULT_REPORT_THREADS
  const heapMb = options.heapMb ?? defaultReportHeapMb(most)
  type Waiting = { job: ReportJob; resolve: (json: string) => void; reject: (error: unknown) => void }
  const idle: Worker[] = []
  const running = new Map<Worker, Waiting>()
  const queue: Waiting[] = []
  let closed = false

  const ended = (worker: Worker, error: Error) => {
    const waiting = running.get(worker)
    running.delete(worker)
    const at = idle.indexOf(worker)
    if (at >= 0) idle.splice(at, 1)
    const outOfMemory = (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
    waiting?.reject(
      new ReportFailed(
        outOfMemory
          ? `this report needed more than the ${heapMb} MB a report may use: ask for a shorter range or a segment, or give reports more (WAYMARK_REPORT_HEAP_MB)`
          : `the report's thread stopped: ${error.message}`,
      ),
    )
    dispatch()
  }
  const startThread = () => {
    const worker = new Worker(new URL('./thread-worker.mjs', import.meta.url), {
      workerData: { path, config },
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    })
    worker.on('message', (answer: ReportAnswer) => {
      const waiting = running.get(worker)
      running.delete(worker)
      idle.push(worker)
      worker.unref()
      try {
        waiting?.resolve(answerOf(answer))
      } catch (error) {
        waiting?.reject(error)
      }
      dispatch()
    })
    worker.on('error', (error) => ended(worker, error))
    worker.on('exit', (code) => ended(worker, new Error(`exited with code ${code}`)))
    return worker
  }
  function dispatch() {
    while (queue.length && !closed) {
      const worker = idle.pop() ?? (running.size < most ? startThread() : undefined)
      if (!worker) return
      const waiting = queue.shift()!
      running.set(worker, waiting)
      worker.ref()
      worker.postMessage(waiting.job)
    }
  }

  return {
    async run(siteId, name, params) {
      if (closed) throw new ReportFailed('the collector is stopping')
      await store.settle()
      return new Promise<string>((resolve, reject) => {
        queue.push({ job: { siteId, name, params, now: store.now() }, resolve, reject })
        dispatch()
      })
    },
    async close() {
      closed = true
      for (const waiting of queue.splice(0)) waiting.reject(new ReportFailed('the collector is stopping'))
      await Promise.all([...idle, ...running.keys()].map((worker) => worker.terminate()))
    },
  }
}
