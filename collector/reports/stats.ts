/**
 * The p-th percentile (0 to 1) by linear interpolation between the nearest ranks, as a
 * spreadsheet's PERCENTILE.INC: the median of 1, 2, 3, 10 is 2.5. Null for no values.
 */
export function percentile(values: ArrayLike<number>, p: number): number | null {
  if (!values.length) return null
  const rank = p * (values.length - 1)
  const below = Math.floor(rank)
  // The two ranks are selected, not sorted for: a funnel's movers at ten million events are millions of values.
  const copy = Float64Array.from(values)
  const low = select(copy, below)
  let high = low
  if (below + 1 < copy.length) {
    // Everything after the selected rank is at least it; the next rank is the least of those.
    high = copy[below + 1]
    for (let i = below + 2; i < copy.length; i++) if (copy[i] < high) high = copy[i]
  }
  return between(low, high, rank)
}

/** The value at a fractional rank, between the values at the ranks either side of it (as percentile interpolates). */
export const between = (low: number, high: number, rank: number) => low + (high - low) * (rank - Math.floor(rank))

/**
 * The k-th smallest value (from 0), leaving every value before k no greater and every one after no
 * smaller (Hoare's selection, with the partition that splits runs of equal values evenly).
 */
function select(values: Float64Array, k: number): number {
  let left = 0
  let right = values.length - 1
  while (left < right) {
    const pivot = values[k]
    let i = left
    let j = right
    do {
      while (values[i] < pivot) i++
      while (pivot < values[j]) j--
      if (i <= j) {
        const swap = values[i]
        values[i] = values[j]
        values[j] = swap
        i++
        j--
      }
    } while (i <= j)
    if (j < k) left = i
    if (k < i) right = j
  }
  return values[k]
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

/** Whether a moment lies in a range (its start included, its end not; a missing bound is no bound). */
export const withinRange = (range: { from?: number; to?: number }) => (at: number) =>
  (range.from === undefined || at >= range.from) && (range.to === undefined || at < range.to)

/** Orders text as a database does (by code unit), not by locale: ties in lists go by id this way. */
export const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
