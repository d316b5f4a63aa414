import { describe, expect, it } from 'vitest'
import { DAY_MS, percentile, rate, runs, Tally } from '../../../collector/reports/stats'

/** An async stream of the given rows, as the store hands them out. */
async function* stream<Row>(rows: Row[]): AsyncIterable<Row> {
  for (const row of rows) yield row
}
const collect = async <Row>(gen: AsyncIterable<Row>) => {
  const out: Row[] = []
  for await (const item of gen) out.push(item)
  return out
}

describe('percentile', () => {
  it('is null when there are no values', () => {
    expect(percentile([], 0.5)).toBeNull()
  })

  it('interpolates between the nearest ranks, as PERCENTILE.INC: the median of 1, 2, 3, 10 is 2.5', () => {
    // rank = 0.5 × (4 − 1) = 1.5: halfway between the 2nd value (2) and the 3rd (3).
    expect(percentile([1, 2, 3, 10], 0.5)).toBe(2.5)
  })

  it('gives the 75th percentile of 1, 2, 3, 10 as 4.75', () => {
    // rank = 0.75 × 3 = 2.25: 3 + (10 − 3) × 0.25.
    expect(percentile([1, 2, 3, 10], 0.75)).toBe(4.75)
  })

  it('gives the 10th percentile of 1, 2, 3, 10 as 1.3', () => {
    // rank = 0.1 × 3 = 0.3: 1 + (2 − 1) × 0.3.
    expect(percentile([1, 2, 3, 10], 0.1)).toBeCloseTo(1.3, 10)
  })

  it('is the middle value of an odd count', () => {
    expect(percentile([5, 1, 3], 0.5)).toBe(3)
  })

  it('agrees with sorting every value, for any percentile, with runs of equal values and in any order', () => {
    // A seeded generator: the same lists every run.
    let seed = 7
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
    for (let list = 0; list < 200; list++) {
      const length = 1 + Math.floor(next() * 60)
      // Few distinct values in half the lists: stages entered at the same moment give many zeros.
      const values = Array.from({ length }, () => Math.floor(next() * (list % 2 ? 5 : 1000)))
      const sorted = [...values].sort((a, b) => a - b)
      for (const p of [0, 0.1, 0.5, 0.75, 0.99, 1]) {
        const rank = p * (length - 1)
        const below = Math.floor(rank)
        const above = Math.min(below + 1, length - 1)
        expect(percentile(values, p)).toBeCloseTo(sorted[below] + (sorted[above] - sorted[below]) * (rank - below), 9)
      }
    }
  })

  it('sorts the values itself, numerically, and leaves the caller’s array as it was', () => {
    const values = [10, 1, 3, 2]
    expect(percentile(values, 0.5)).toBe(2.5)
    expect(values).toEqual([10, 1, 3, 2])
    // Numerically, not as text (as text, "10" would sort before "9").
    expect(percentile([9, 10, 100], 0.5)).toBe(10)
  })

  it('is the smallest value at 0 and the largest at 1', () => {
    expect(percentile([4, 8, 15, 16, 23, 42], 0)).toBe(4)
    expect(percentile([4, 8, 15, 16, 23, 42], 1)).toBe(42)
  })

  it('is the one value, whatever the percentile, when there is one', () => {
    expect(percentile([7], 0.5)).toBe(7)
    expect(percentile([7], 0.9)).toBe(7)
  })
})

describe('rate', () => {
  it('is the share as a fraction', () => {
    expect(rate(1, 4)).toBe(0.25)
    expect(rate(4, 4)).toBe(1)
    expect(rate(0, 4)).toBe(0)
  })

  it('is rounded to 4 places', () => {
    expect(rate(1, 3)).toBe(0.3333)
    expect(rate(2, 3)).toBe(0.6667)
    expect(rate(1, 8)).toBe(0.125)
  })

  it('is null when there is nothing to divide by', () => {
    expect(rate(0, 0)).toBeNull()
    expect(rate(3, 0)).toBeNull()
  })
})

describe('Tally', () => {
  it('counts each key once per add, or by the amount given', () => {
    const tally = new Tally<string>()
    tally.add('a')
    tally.add('b')
    tally.add('a')
    tally.add('c', 5)
    expect(Object.fromEntries(tally.counts)).toEqual({ a: 2, b: 1, c: 5 })
  })

  it('lists the most frequent first', () => {
    const tally = new Tally<string>()
    for (const key of ['x', 'y', 'y', 'z', 'z', 'z']) tally.add(key)
    expect(tally.top()).toEqual([['z', 3], ['y', 2], ['x', 1]])
  })

  it('breaks ties in key order', () => {
    const tally = new Tally<string>()
    for (const key of ['pear', 'apple', 'fig', 'fig']) tally.add(key)
    expect(tally.top()).toEqual([['fig', 2], ['apple', 1], ['pear', 1]])
  })

  it('keeps at most `limit` rows, the most frequent', () => {
    const tally = new Tally<string>()
    for (const key of ['a', 'b', 'b', 'c', 'c', 'c', 'd']) tally.add(key)
    expect(tally.top(2)).toEqual([['c', 3], ['b', 2]])
  })

  it('lists nothing when nothing was added', () => {
    expect(new Tally<string>().top()).toEqual([])
  })
})

describe('runs', () => {
  const byOwner = (row: { owner: string }) => row.owner

  it('groups rows with the same key that follow each other', async () => {
    const rows = [
      { owner: 'a', n: 1 }, { owner: 'a', n: 2 },
      { owner: 'b', n: 3 },
      { owner: 'c', n: 4 }, { owner: 'c', n: 5 },
    ]
    expect(await collect(runs(stream(rows), byOwner))).toEqual([
      [{ owner: 'a', n: 1 }, { owner: 'a', n: 2 }],
      [{ owner: 'b', n: 3 }],
      [{ owner: 'c', n: 4 }, { owner: 'c', n: 5 }],
    ])
  })

  it('yields nothing for an empty stream', async () => {
    expect(await collect(runs(stream<{ owner: string }>([]), byOwner))).toEqual([])
  })

  it('yields one run for a single row', async () => {
    expect(await collect(runs(stream([{ owner: 'a' }]), byOwner))).toEqual([[{ owner: 'a' }]])
  })

  it('expects rows sorted by key: a key that comes back later starts a new run', async () => {
    const rows = [{ owner: 'a' }, { owner: 'b' }, { owner: 'a' }]
    expect(await collect(runs(stream(rows), byOwner))).toEqual([[{ owner: 'a' }], [{ owner: 'b' }], [{ owner: 'a' }]])
  })

  it('treats the empty string as a key like any other', async () => {
    const rows = [{ owner: '' }, { owner: '' }, { owner: 'x' }]
    expect(await collect(runs(stream(rows), byOwner))).toEqual([[{ owner: '' }, { owner: '' }], [{ owner: 'x' }]])
  })
})

describe('DAY_MS', () => {
  it('is 24 hours of milliseconds', () => {
    expect(DAY_MS).toBe(24 * 60 * 60 * 1000)
  })
})
