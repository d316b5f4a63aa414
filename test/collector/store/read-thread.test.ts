import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readHere, readOnThread, type Read } from '../../../collector/store/sqlite/read-thread'

const READS: Read[] = [
  { sql: 'SELECT count(*), sum(n) FROM numbers WHERE n >= @from', params: { from: 10 } },
  { sql: "SELECT json_group_array(n) FILTER (WHERE n % @every = 0), @label FROM numbers", params: { every: 25, label: 'quarters' } },
]

// A report's independent reads go to a second thread with its own read-only connection; what comes
// back must be what the same reads give on the calling thread.
describe('reads on a second thread', () => {
  let dir: string
  let file: Database.Database
  let reader: Database.Database

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-read-thread-'))
    file = new Database(join(dir, 'numbers.db'))
    file.pragma('journal_mode = WAL')
    file.exec('CREATE TABLE numbers (n INTEGER)')
    const insert = file.prepare('INSERT INTO numbers (n) VALUES (?)')
    file.transaction(() => {
      for (let n = 0; n < 100; n++) insert.run(n)
    })()
    reader = new Database(join(dir, 'numbers.db'), { readonly: true })
  })
  afterAll(() => {
    reader.close()
    file.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('gives each read’s first row, as on this thread', async () => {
    const rows = await readOnThread(reader, READS)
    expect(rows).toEqual([[90, 4950 - 45], ['[0,25,50,75]', 'quarters']])
    expect(rows).toEqual(readHere(reader, READS))
  })

  it('is answered by the thread itself (not by this thread standing in for it)', async () => {
    const worker = new Worker(new URL('../../../collector/store/sqlite/read-thread-worker.mjs', import.meta.url), { workerData: { path: reader.name, reads: READS } })
    const message = await new Promise((resolve) => worker.once('message', resolve))
    await worker.terminate()
    expect(message).toEqual({ rows: [[90, 4950 - 45], ['[0,25,50,75]', 'quarters']] })
  })

  it('sees what was committed before it was asked', async () => {
    file.prepare('INSERT INTO numbers (n) VALUES (1000)').run()
    expect((await readOnThread(reader, READS))[0]).toEqual([91, 4950 - 45 + 1000])
    file.prepare('DELETE FROM numbers WHERE n = 1000').run()
  })

  it('reads a database in memory on this thread: there is no file for a second connection', async () => {
    const memory = new Database(':memory:')
    memory.exec('CREATE TABLE numbers (n INTEGER); INSERT INTO numbers VALUES (10), (20), (25)')
    expect(await readOnThread(memory, READS)).toEqual([[3, 55], ['[25]', 'quarters']])
    memory.close()
  })

  it('makes a read the thread could not make on this thread, so its error is the one the read gives', async () => {
    await expect(readOnThread(reader, [{ sql: 'SELECT n FROM nowhere', params: {} }])).rejects.toThrow(/no such table: nowhere/)
  })
})
