import type { ClickHouse } from './connection'

/**
 * The clock that collectors and the processor share: the ClickHouse server's.
 *
 * Collectors on many machines stamp each event with the time it arrived, and the processor folds
 * the events stamped before its watermark. Were each machine's own clock used, a collector whose
 * clock ran 20 minutes behind would stamp events the processor had already passed for good, and a
 * processor whose clock ran ahead would make every `settle()` wait a minute and fail. So every
 * Waymark process against one store keeps its estimate of the server's time and stamps, leases
 * and waits by that.
 *
 * ClickHouse 18.16 tells the time only to the second (`now()`, no `now64()`), so one reading says
 * the difference between the server's clock and ours to within a second and a round trip. Readings
 * either side of the moment the server's second turns say it to within their spacing and round
 * trips: a clock starts by reading until it sees that moment (a second at most), then reads again
 * every few seconds, at random points of the second, to stay there. What two readings allow is
 * where they overlap. Ours is the monotonic clock, so a step of this machine's wall clock changes
 * nothing.
 */

/** The difference, server's time less ours (ms), known to lie in [low, high]. */
export interface Offset {
  low: number
  high: number
  /** When (on our clock) this was last narrowed. */
  at: number
}

/**
 * How far two quartz clocks may drift apart, per ms: 200 ppm, well beyond what NTP-kept machines
 * do. What was known widens by that as it ages, so a slow drift never leaves it wrong.
 */
const DRIFT_PER_MS = 200e-6
/** How often a clock reads the server's again (plus up to as much at random, so readings fall at every point of a second). */
const SYNC_EVERY_MS = 5_000
/** Between readings while a clock starts, waiting for the server's second to turn; and how long it waits at most. */
const START_SPACING_MS = 5
const START_WAIT_MS = 1500
/**
 * How far apart two processes' readings of the shared clock may be, beyond a reader's own
 * uncertainty: what `settle()` allows for the collector that stamped an event. Clocks that saw the
 * server's second turn know it to within their round trips and START_SPACING_MS.
 */
export const OTHERS_UNCERTAINTY_MS = 50

/**
 * How late the server's second may turn: it reads a coarse clock (time(), updated once a kernel
 * tick: 4 ms at 250 Hz, 10 ms at 100 Hz). Readings on one machine put the turn up to 8 ms late.
 */
const SERVER_TICK_MS = 10

/** What one reading says: the server said `serverSecond` (s since the epoch) between `before` and `after` on our clock. */
export const offsetFromReading = (serverSecond: number, before: number, after: number): Offset => ({
  low: serverSecond * 1000 - after,
  high: serverSecond * 1000 + 999 + SERVER_TICK_MS - before,
  at: after,
})

/**
 * What is known once a reading is added: the overlap of the two, the older widened by the drift
 * since. No overlap means a clock was stepped (the server's, or a virtual machine's resumed): the
 * new reading alone holds then.
 */
export function narrowOffset(known: Offset | undefined, reading: Offset): Offset {
  if (!known) return reading
  const drift = Math.abs(reading.at - known.at) * DRIFT_PER_MS
  const low = Math.max(known.low - drift, reading.low)
  const high = Math.min(known.high + drift, reading.high)
  return low <= high ? { low, high, at: reading.at } : reading
}

export interface SharedClock {
  /** The server's time now, as best known (ms since the epoch); never less than it said before. */
  now(): number
  /** How far off now() may be, at most (ms): half the width of what is known. */
  uncertainty(): number
  stop(): void
}

/** Our own clock: monotonic, in ms since the epoch. */
const monotonic = () => performance.timeOrigin + performance.now()

/**
 * Starts a shared clock: reads the server's time until its second turns before it answers, then
 * again every few seconds in the background. `local` is this machine's clock (tests set one that is off).
 */
export async function startSharedClock(ch: ClickHouse, local: () => number = monotonic): Promise<SharedClock> {
  let offset: Offset | undefined
  let last = 0
  /** Reads the server's second, narrows what is known, and returns the second. */
  const sync = async () => {
    const before = local()
    const [row] = await ch.rows<{ second: number | string }>('SELECT toUInt32(now()) AS second')
    const second = Number(row.second)
    offset = narrowOffset(offset, offsetFromReading(second, before, local()))
    return second
  }
  const first = await sync()
  const started = local()
  while ((await sync()) === first && local() - started < START_WAIT_MS) await new Promise((resolve) => setTimeout(resolve, START_SPACING_MS))
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  // A reading that fails (the server away for a moment) leaves the estimate as it was.
  const next = () => {
    if (stopped) return
    timer = setTimeout(() => sync().catch(() => {}).finally(next), SYNC_EVERY_MS * (1 + Math.random()))
    timer.unref()
  }
  next()
  return {
    now() {
      const { low, high } = offset!
      last = Math.max(last, Math.round(local() + (low + high) / 2))
      return last
    },
    uncertainty: () => (offset!.high - offset!.low) / 2,
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
