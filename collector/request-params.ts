import { normalizeEmail } from './identity/free-mail'
import type { WaymarkConfig } from './stages/config'
import type { PersonRef } from './store/types'

/** A request (from the command line or a URL) that cannot be answered as asked; the message says how to fix it. */
export class RequestError extends Error {}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/

/** An ISO 8601 date (midnight UTC) or date and time with its offset, as ms since the epoch. */
export function parseTime(value: string, name: string): number {
  const ms = DATE_ONLY.test(value) ? Date.parse(value + 'T00:00:00Z') : DATE_TIME.test(value) ? Date.parse(value) : NaN
  if (Number.isNaN(ms))
    throw new RequestError(`${name} "${value}" is not a date: give 2026-01-31 (midnight UTC) or 2026-01-31T09:30:00Z`)
  return ms
}

export interface Range {
  /** Inclusive. */
  from?: number
  /** Exclusive. */
  to?: number
}

/** `from` and `to` as given: either may be left out; `to` is exclusive, so a month is --from 2026-01-01 --to 2026-02-01. */
export function parseRange(params: { from?: string; to?: string }): Range {
  const from = params.from ? parseTime(params.from, 'from') : undefined
  const to = params.to ? parseTime(params.to, 'to') : undefined
  if (from !== undefined && to !== undefined && to <= from)
    throw new RequestError(`to (${params.to}) must be after from (${params.from}); to is exclusive`)
  return { from, to }
}

/** The journey asked for (the first configured one when none is named), and a stage of it if one is named. */
export function parseJourney(config: WaymarkConfig, params: { journey?: string; stage?: string }) {
  const journey = params.journey ? config.journeys.find((j) => j.name === params.journey) : config.journeys[0]
  if (!journey)
    throw new RequestError(`no journey "${params.journey}": the configured ones are ${config.journeys.map((j) => j.name).join(', ')}`)
  if (params.stage !== undefined && !journey.stages.some((s) => s.name === params.stage))
    throw new RequestError(`journey "${journey.name}" has no stage "${params.stage}": its stages are ${journey.stages.map((s) => s.name).join(', ')}`)
  return { journey, stage: params.stage }
}

/** A person named by id (`person`), email or user id, as the timeline and erasure take them; undefined if none is given. */
export const personRef = (params: { person?: string; email?: string; userId?: string }): PersonRef | undefined =>
  params.person ? { id: params.person } : params.email ? { email: normalizeEmail(params.email) ?? params.email } : params.userId ? { userId: params.userId } : undefined

/** Picks one of a fixed set of words, or says which are allowed. */
export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], name: string, fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback
  if (!allowed.includes(value as T))
    throw new RequestError(value === undefined ? `say which ${name}: ${allowed.join(', ')}` : `unknown ${name} "${value}": use ${allowed.join(', ')}`)
  return value as T
}
