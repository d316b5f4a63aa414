// A read thread (read-thread.ts): runs the statements it is given on a read-only connection of its
// own and posts back each one's first row, as arrays. Plain JavaScript, with nothing of the project
// imported, so it starts in tens of milliseconds without a TypeScript loader.
import Database from 'better-sqlite3'
import { parentPort, workerData } from 'node:worker_threads'

let db
try {
  db = new Database(workerData.path, { readonly: true, fileMustExist: true })
  parentPort.postMessage({ rows: workerData.reads.map(({ sql, params }) => db.prepare(sql).raw(true).get(params)) })
} catch (error) {
  parentPort.postMessage({ error: error?.stack ?? String(error) })
} finally {
  db?.close()
}
