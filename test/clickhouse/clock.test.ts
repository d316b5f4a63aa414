import { describe, expect, it } from 'vitest'
import { narrowOffset, offsetFromReading, type Offset } from '../../collector/store/clickhouse/clock'

// The server's clock is ours plus 12,345.678 s; it tells only whole seconds, as ClickHouse 18.16 does.
const TRUE_OFFSET = 12_345_678
const serverSecondAt = (local: number) => Math.floor((local + TRUE_OFFSET) / 1000)
const read = (before: number, roundTrip: number) => offsetFromReading(serverSecondAt(before + roundTrip / 2), before, before + roundTrip)
const holdsTruth = (offset: Offset) => offset.low <= TRUE_OFFSET && TRUE_OFFSET <= offset.high

describe('the shared clock: the server’s time, from readings to the second', () => {
  it('knows the difference to within a second, the round trip and a kernel tick from one reading', () => {
    const offset = read(1_000_000, 4)
    expect(holdsTruth(offset)).toBe(true)
    expect(offset.high - offset.low).toBeLessThanOrEqual(999 + 4 + 10)
  })

  it('narrows to about the round trip as readings fall at different points of the server’s second', () => {
    let known: Offset | undefined
    let local = 1_000_000
    for (let i = 0; i < 40; i++) {
      local += 5_000 + ((i * 377) % 1000)
      known = narrowOffset(known, read(local, 4))
      expect(holdsTruth(known)).toBe(true)
    }
    expect(known!.high - known!.low).toBeLessThan(50)
  })

  it('widens what it knew as it ages, so clocks drifting apart never leave it wrong', () => {
    const known = { low: TRUE_OFFSET - 5, high: TRUE_OFFSET + 5, at: 0 }
    // An hour later the server's clock has gained 300 ms on ours (83 ppm).
    const later = offsetFromReading(Math.floor((3_600_000 + TRUE_OFFSET + 300) / 1000), 3_600_000, 3_600_004)
    const narrowed = narrowOffset(known, later)
    expect(narrowed.low).toBeLessThanOrEqual(TRUE_OFFSET + 300)
    expect(narrowed.high).toBeGreaterThanOrEqual(TRUE_OFFSET + 300)
  })

  it('starts again from the new reading when a clock was stepped', () => {
    const known = { low: TRUE_OFFSET - 5, high: TRUE_OFFSET + 5, at: 0 }
    // The server's clock was set back ten minutes.
    const stepped = offsetFromReading(Math.floor((10_000 + TRUE_OFFSET - 600_000) / 1000), 10_000, 10_004)
    expect(narrowOffset(known, stepped)).toEqual(stepped)
  })
})
