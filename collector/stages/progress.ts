import type { Session } from '../sessions/sessionize'
import type { StoredEvent } from '../store/types'
import type { Condition, Journey, Stage } from './config'

/** When something happened, and on which page. */
export interface Moment {
  at: number
  path: string
}

/**
 * What one session contributes to a journey, from its own events alone: for each stage and each
 * of its conditions, when the session-local part first held (null: never); and the points its
 * score rules earned, each when its rule first held. Stored with the session, so a person's
 * stages can be recomputed from session rows without reading events again.
 */
export interface SessionProgress {
  inScope: boolean
  stageMoments: (Moment | null)[][]
  points: (Moment & { points: number })[]
}

const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
const patternOf = (glob: string) =>
  new RegExp(glob.startsWith('regex:') ? glob.slice(6) : '^' + glob.split('**').map((part) => part.split('*').map(escape).join('[^/]*')).join('.*') + '$', 'i')

/** Answers remembered per list of globs: the values tested repeat (event kinds and names, a site's pages). */
const ANSWERS_KEPT = 4096
const matchersOfGlob = new Map<string, (value: string) => boolean>()
const matchersOfList = new WeakMap<string[], (value: string) => boolean>()
function matcherOf(globs: string | string[]) {
  let matcher = typeof globs === 'string' ? matchersOfGlob.get(globs) : matchersOfList.get(globs)
  if (matcher) return matcher
  const patterns = (typeof globs === 'string' ? [globs] : globs).map(patternOf)
  const answers = new Map<string, boolean>()
  matcher = (value: string) => {
    let answer = answers.get(value)
    if (answer === undefined) {
      answer = patterns.some((pattern) => pattern.test(value))
      if (answers.size >= ANSWERS_KEPT) answers.clear()
      answers.set(value, answer)
    }
    return answer
  }
  if (typeof globs === 'string') matchersOfGlob.set(globs, matcher)
  else matchersOfList.set(globs, matcher)
  return matcher
}

/** A glob (* within a path segment, ** across them) or "regex:…", matched in any case. */
export function matches(globs: string | string[], value: string | null | undefined): boolean {
  return value != null && matcherOf(globs)(value)
}

/** A trait's value as text to compare: objects (which a page may send) as their JSON, never by their own toString. */
const asText = (value: unknown) => (value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value ?? '')).toLowerCase()
const sameValue = (want: unknown, got: unknown) => (Array.isArray(want) ? want : [want]).some((w) => asText(w) === asText(got))

type Named = Pick<StoredEvent, 'kind' | 'name'>
/** An event of this kind, or a track event or tagged call to action of this name (a CTA matches by its kind too). */
const isEvent = (globs: string | string[], e: Named) => matches(globs, e.kind === 'track' ? e.name : e.kind) || (e.kind === 'cta' && matches(globs, e.name))
const isFormSubmit = (globs: string | string[], e: Named) => e.kind === 'form_submit' && matches(globs, e.name)

/** Each session-local key of a condition, as a test of one event (with what came before it in the session). */
/** What came before an event in its session (itself included): page views, and engaged time so far. */
interface Seen {
  pageviews: number
  engagedMs: number
}

type LocalTest = (event: StoredEvent, seen: Seen) => boolean
const testsOfCondition = new WeakMap<Condition, LocalTest[]>()
/** A condition's tests, made once: they run for every event of every session. */
function localTests(condition: Condition): LocalTest[] {
  let tests = testsOfCondition.get(condition)
  if (!tests) testsOfCondition.set(condition, (tests = makeLocalTests(condition)))
  return tests
}

function makeLocalTests(condition: Condition): LocalTest[] {
  const tests: LocalTest[] = []
  const c = condition
  if (c.visit) tests.push(() => true)
  if (c.path !== undefined) tests.push((e) => e.kind === 'pageview' && matches(c.path!, e.path))
  if (c.event !== undefined) tests.push((e) => isEvent(c.event!, e))
  if (c.download !== undefined)
    tests.push((e) => e.kind === 'file_download' && (matches(c.download!, e.name) || matches(c.download!, e.props?.text as string | undefined)))
  if (c.formSubmit !== undefined) tests.push((e) => isFormSubmit(c.formSubmit!, e))
  if (c.formStart !== undefined) tests.push((e) => e.kind === 'form_start' && matches(c.formStart!, e.name))
  if (c.pageviews !== undefined) tests.push((_, seen) => seen.pageviews >= c.pageviews!)
  if (c.engagedSeconds !== undefined) tests.push((_, seen) => seen.engagedMs >= c.engagedSeconds! * 1000)
  if (c.identify) tests.push((e) => e.kind === 'identify')
  if (c.trait !== undefined)
    tests.push((e) => e.kind === 'identify' && Object.entries(c.trait!).every(([key, want]) => sameValue(want, e.props?.[key])))
  return tests
}

/**
 * Whether an event is itself a request a stage's rules name: a form submitted or an event of a
 * name (a demo request, a contact click), as opposed to a visit, an identify or a score. The
 * accounts report uses it to say who in a company asked.
 */
export function requestsStage(stage: Stage): (event: Named) => boolean {
  const asks = stage.when.filter((c) => (c.formSubmit !== undefined || c.event !== undefined) && Object.keys(c).every((key) => key === 'formSubmit' || key === 'event'))
  return (e) =>
    asks.some(
      (c) =>
        (c.formSubmit === undefined || isFormSubmit(c.formSubmit, e)) && (c.event === undefined || isEvent(c.event, e)),
    )
}

/**
 * When every session-local key of the condition has held (the latest of their first moments),
 * or null if one never did. A condition with only owner keys (returning, score) holds locally
 * from the session's start.
 */
function localMoment(condition: Condition, session: Session, events: StoredEvent[]): Moment | null {
  const tests = localTests(condition)
  if (!tests.length) return { at: session.startedAt, path: session.entryPath }
  let latest: Moment | null = null
  // Engaged time as the session counts it: the time the tag reported for its page views (reached
  // at the view that brings the sum to it), or, in a session with no report, the span so far.
  const reported = events.some((e) => e.engagedMs != null)
  for (const test of tests) {
    let pageviews = 0
    let engagedMs = 0
    let first: Moment | null = null
    for (const event of events) {
      if (event.kind === 'pageview') pageviews++
      engagedMs = reported ? engagedMs + (event.engagedMs ?? 0) : event.occurredAt - session.startedAt
      if (test(event, { pageviews, engagedMs })) {
        first = { at: event.occurredAt, path: event.path }
        break
      }
    }
    if (!first) return null
    if (!latest || first.at > latest.at) latest = first
  }
  return latest
}

export function sessionProgress(journey: Journey, session: Session, events: StoredEvent[]): SessionProgress {
  const inScope = !journey.scope || localMoment(journey.scope, session, events) !== null
  return {
    inScope,
    stageMoments: inScope ? journey.stages.map((stage) => stage.when.map((c) => localMoment(c, session, events))) : [],
    points: inScope
      ? (journey.score ?? []).flatMap((rule) => {
          const moment = localMoment(rule.when, session, events)
          return moment ? [{ ...moment, points: rule.points }] : []
        })
      : [],
  }
}

/** A session as the owner fold needs it: its row, not its events. */
export interface ProgressedSession {
  id: string
  startedAt: number
  entryPath: string
  channel: string
  campaign: string | null
  progress: SessionProgress
}

export interface StageEntry {
  stage: string
  at: number
  sessionId: string
  channel: string
  campaign: string | null
  page: string
}

export interface StageTransition {
  from: string | null
  to: string
  at: number
  sessionId: string
}

export interface OwnerProgress {
  /** For each session in the journey's scope: the furthest stage it reached, and the lead score after it. */
  sessions: { sessionId: string; stage: string | null; score: number }[]
  /** When each stage was first entered, and the touch that moved the owner there. */
  entries: StageEntry[]
  transitions: StageTransition[]
  stage: string | null
  score: number
}

const earlier = (a: Moment | null, b: Moment | null) => (!a ? b : !b ? a : b.at < a.at ? b : a)

/**
 * A person's (or anonymous visitor's) way through a journey: their sessions in order, each
 * adding what only the owner's history can say (a return visit, the lead score so far). A stage
 * reached implies the ones before it: reaching decision first thing also enters consideration.
 */
export function ownerProgress(journey: Journey, sessions: ProgressedSession[]): OwnerProgress {
  let score = 0
  let earlierSessions = 0
  let furthest = -1
  const result: OwnerProgress = { sessions: [], entries: [], transitions: [], stage: null, score: 0 }

  for (const session of sessions) {
    const { progress } = session
    if (!progress.inScope) {
      earlierSessions++
      continue
    }
    const start: Moment = { at: session.startedAt, path: session.entryPath }
    const points = [...progress.points].sort((a, b) => a.at - b.at)
    const scoreReached = (needed: number): Moment | null => {
      if (score >= needed) return start
      let running = score
      for (const point of points) if ((running += point.points) >= needed) return point
      return null
    }

    const reached: { stage: number; moment: Moment }[] = []
    journey.stages.forEach((stage, i) => {
      let moment: Moment | null = null
      stage.when.forEach((condition, c) => {
        const local = progress.stageMoments[i][c]
        if (!local) return
        const parts: (Moment | null)[] = [local]
        if (condition.returning) parts.push(earlierSessions > 0 ? start : null)
        if (condition.score !== undefined) parts.push(scoreReached(condition.score))
        if (parts.some((part) => !part)) return
        const latest = parts.reduce((a, b) => (b!.at > a!.at ? b : a))
        moment = earlier(moment, latest)
      })
      if (moment) reached.push({ stage: i, moment })
    })

    reached.sort((a, b) => a.moment.at - b.moment.at || a.stage - b.stage)
    for (const { stage, moment } of reached) {
      if (stage <= furthest) continue
      const touch = { sessionId: session.id, channel: session.channel, campaign: session.campaign, page: moment.path, at: moment.at }
      for (let entered = furthest + 1; entered <= stage; entered++) result.entries.push({ stage: journey.stages[entered].name, ...touch })
      result.transitions.push({ from: furthest >= 0 ? journey.stages[furthest].name : null, to: journey.stages[stage].name, at: moment.at, sessionId: session.id })
      furthest = stage
    }
    score += points.reduce((sum, point) => sum + point.points, 0)
    earlierSessions++
    const sessionStage = reached.length ? journey.stages[Math.max(...reached.map((r) => r.stage))].name : null
    result.sessions.push({ sessionId: session.id, stage: sessionStage, score })
  }
  result.stage = furthest >= 0 ? journey.stages[furthest].name : null
  result.score = score
  return result
}

/** Orders stage entries (or moves, by the stage reached) as they happened, and within one moment in the journey's order. */
export function asTheyHappened(journey: Journey) {
  const order = (stage: string) => journey.stages.findIndex((s) => s.name === stage)
  return (a: { at: number; stage: string }, b: { at: number; stage: string }) => a.at - b.at || order(a.stage) - order(b.stage)
}

/**
 * A company's way through a journey, from its people's: each stage entered when the first of
 * them entered it, by that person's touch.
 */
export function companyProgress(journey: Journey, people: StageEntry[][]): { entries: StageEntry[]; transitions: StageTransition[]; stage: string | null } {
  const first = new Map<string, StageEntry>()
  for (const entry of people.flat()) {
    const known = first.get(entry.stage)
    if (!known || entry.at < known.at || (entry.at === known.at && entry.sessionId < known.sessionId)) first.set(entry.stage, entry)
  }
  const entries = journey.stages.map((stage) => first.get(stage.name)).filter((e): e is StageEntry => Boolean(e))
  const transitions: StageTransition[] = []
  let furthest = -1
  const order = (name: string) => journey.stages.findIndex((stage) => stage.name === name)
  for (const entry of [...entries].sort(asTheyHappened(journey))) {
    const index = order(entry.stage)
    if (index <= furthest) continue
    transitions.push({ from: furthest >= 0 ? journey.stages[furthest].name : null, to: entry.stage, at: entry.at, sessionId: entry.sessionId })
    furthest = index
  }
  return { entries, transitions, stage: furthest >= 0 ? journey.stages[furthest].name : null }
}
