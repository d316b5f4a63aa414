// The worker side of fold-thread.ts: reads a site's events from its own read-only connection,
// folds each owner, and posts the folds in batches, never more than BATCHES_AHEAD ahead.
import Database from 'better-sqlite3'
import { workerData } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import type { WaymarkConfig } from '../../stages/config'
import { BATCHES_AHEAD, FOLDS_PER_BATCH, POSTED, TAKEN, type FoldMessage } from './fold-thread'
import { ownerFolds, type OwnerFold } from './owner-fold'

const { path, config, siteId, port, counters } = workerData as { path: string; config: WaymarkConfig; siteId: string; port: MessagePort; counters: Int32Array }

const post = (message: FoldMessage) => {
  for (;;) {
    const taken = Atomics.load(counters, TAKEN)
    if (Atomics.load(counters, POSTED) - taken < BATCHES_AHEAD) break
    Atomics.wait(counters, TAKEN, taken, 1000)
  }
  port.postMessage(message)
  Atomics.add(counters, POSTED, 1)
  Atomics.notify(counters, POSTED)
}

const db = new Database(path, { readonly: true })
try {
  let batch: OwnerFold[] = []
  for (const fold of ownerFolds(db, config, siteId)) {
    batch.push(fold)
    if (batch.length === FOLDS_PER_BATCH) {
      post({ folds: batch, done: false })
      batch = []
    }
  }
  post({ folds: batch, done: true })
} catch (error) {
  post({ error: (error as Error).stack ?? String(error) })
} finally {
  db.close()
}
