// Entry of the rebuild's reader thread (fold-thread.ts). A worker does not share the main
// thread's module loader, so it registers tsx itself, as bin/waymark.js does, then runs the
// TypeScript; if that fails, it says so to the waiting rebuild instead of leaving it waiting.
import { workerData } from 'node:worker_threads'

/** fold-thread.ts's slot of the batches posted (this file runs before TypeScript can be imported). */
const POSTED = 0

try {
  const { register } = await import('tsx/esm/api')
  register()
  await import('./fold-thread-worker.ts')
} catch (error) {
  workerData.port.postMessage({ error: error?.stack ?? String(error) })
  Atomics.add(workerData.counters, POSTED, 1)
  Atomics.notify(workerData.counters, POSTED)
}
