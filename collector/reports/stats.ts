/**
 * The p-th percentile (0 to 1) by linear interpolation between the nearest ranks, as a
 * spreadsheet's PERCENTILE.INC: the median of 1, 2, 3, 10 is 2.5. Null for no values.
 */
export function percentile(values: number[], p: number): number | null {
  if (!values.length) return null
  // A typed array sorts numerically without a comparator call per step: several times faster.
  const sorted = Float64Array.from(values).sort()
  const rank = p * (sorted.length - 1)
  const below = Math.floor(rank)
  const above = Math.min(below + 1, sorted.length - 1)
  return sorted[below] + (sorted[above] - sorted[below]) * (rank - below)
}

/** A share as a fraction rounded to 4 places; null when there is nothing to divide by. */
export const rate = (part: number, whole: number): number | null => (whole ? Math.round((part / whole) * 10_000) / 10_000 : null)

/** Counts by key. */
export class Tally<Key> {
  readonly counts = new Map<Key, number>()
  add(key: Key, by = 1) {
    this.counts.set(key, (this.counts.get(key) ?? 0) + by)
  }
  /** The most frequent first (ties in key order), at most `limit`. */
  top(limit = Infinity): [Key, number][] {
    return [...this.counts].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0]))).slice(0, limit)
  }
}

/** Groups a stream of rows sorted by a key into runs of rows with the same key. */
export async function* runs<Row>(rows: AsyncIterable<Row>, keyOf: (row: Row) => string): AsyncGenerator<Row[]> {
  let run: Row[] = []
  let key: string | undefined
  for await (const row of rows) {
    const k = keyOf(row)
    if (run.length && k !== key) {
      yield run
      run = []
    }
    key = k
    run.push(row)
  }
  if (run.length) yield run
}

export const DAY_MS = 86_400_000
