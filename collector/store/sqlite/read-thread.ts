import type Database from 'better-sqlite3'
import { Worker } from 'node:worker_threads'

export interface Read {
  sql: string
  params: Record<string, string | number>
}

/**
 * Each read's first row (as an array of values), read on a second thread with a connection of its
 * own while this thread reads what it must: a report whose reads are independent uses both cores.
 * A thread and its connection start in about 35 ms, so this pays only for reads of hundreds of
 * milliseconds. A database in memory has no file for a second connection; its reads, and any a
 * thread could not make, are made on this thread, with the same results.
 */
export async function readOnThread(reader: Database.Database, reads: Read[]): Promise<unknown[][]> {
  const here = () => readHere(reader, reads)
  if (reader.memory) return here()
  const worker = new Worker(new URL('./read-thread-worker.mjs', import.meta.url), { workerData: { path: reader.name, reads } })
  try {
    const message = await new Promise<{ rows?: unknown[][]; error?: string }>((resolve) => {
      worker.once('message', resolve)
      worker.once('error', (error) => resolve({ error: String(error) }))
      worker.once('exit', () => resolve({ error: 'exited' }))
    })
    return message.rows ?? here()
  } finally {
    void worker.terminate()
  }
}

/** The same reads on this thread and connection. */
export const readHere = (reader: Database.Database, reads: Read[]): unknown[][] => reads.map(({ sql, params }) => reader.prepare(sql).raw(true).get(params) as unknown[])
