import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads'
import type { WaymarkConfig } from '../../stages/config'
import type { OwnerFold } from './owner-fold'

/** Slots of the counters both threads share: batches posted by the worker, and taken by the rebuild. */
export const POSTED = 0
export const TAKEN = 1
/** How many batches the worker may be ahead: enough to keep both threads busy, little held. */
export const BATCHES_AHEAD = 4
/** Visitors' folds per message. */
export const FOLDS_PER_BATCH = 200
/** How long the rebuild waits for the worker's next batch before it gives up on it. */
const SILENCE_MS = 5 * 60_000

export type FoldMessage = { folds: OwnerFold[]; done: boolean } | { error: string }

/**
 * A site's owner folds (see owner-fold.ts), made on a worker thread that reads the events
 * from its own connection, while the rebuild's thread writes what they make: reading a million
 * events into values and folding them took about half a rebuild's time on one thread.
 *
 * The rebuild is one synchronous transaction, so the batches are taken with
 * receiveMessageOnPort, and each thread waits for the other on shared counters (Atomics): the
 * worker stays at most BATCHES_AHEAD batches ahead.
 */
export function* foldsFromThread(path: string, config: WaymarkConfig, siteId: string): Generator<OwnerFold> {
  const counters = new Int32Array(new SharedArrayBuffer(8))
  const { port1, port2 } = new MessageChannel()
  const worker = new Worker(new URL('./fold-thread-worker.mjs', import.meta.url), {
    workerData: { path, config, siteId, port: port2, counters },
    transferList: [port2],
  })
  try {
    for (;;) {
      const posted = Atomics.load(counters, POSTED)
      const received = receiveMessageOnPort(port1)
      if (!received) {
        if (Atomics.wait(counters, POSTED, posted, SILENCE_MS) === 'timed-out')
          throw new Error(`the rebuild's reader thread sent nothing for ${SILENCE_MS / 60_000} minutes; the rebuild is rolled back, run it again`)
        continue
      }
      Atomics.add(counters, TAKEN, 1)
      Atomics.notify(counters, TAKEN)
      const message = received.message as FoldMessage
      if ('error' in message) throw new Error(`the rebuild's reader thread failed: ${message.error}`)
      yield* message.folds
      if (message.done) return
    }
  } finally {
    port1.close()
    void worker.terminate()
  }
}
