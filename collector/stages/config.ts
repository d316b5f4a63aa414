import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser'

/**
 * A condition on what happened. Every key given must hold (AND); a stage's `when` lists
 * conditions of which any one is enough (OR). All conditions only ever become true, never false
 * again, which is what lets the time a stage was reached be computed exactly.
 */
export interface Condition {
  /** Any visit. */
  visit?: true
  /** A page view of a path matching a glob (* within a segment, ** across) or "regex:…". */
  path?: string | string[]
  /** An event of this kind (form_submit, contact_click, …), or a track event or tagged call to action of this name; globs, any case. */
  event?: string | string[]
  /** A file downloaded whose URL or link text matches; globs, any case. */
  download?: string | string[]
  /** A form submitted whose key matches. */
  formSubmit?: string | string[]
  /** A form started whose key matches. */
  formStart?: string | string[]
  /** At least this many page views in the session. */
  pageviews?: number
  /** At least this many seconds of engaged time in the session. */
  engagedSeconds?: number
  /** An identify in the session. */
  identify?: true
  /** An identify in the session sets each of these traits to one of the values (any case). */
  trait?: Record<string, string | number | boolean | (string | number | boolean)[]>
  /** The person (or anonymous visitor) had a session before. */
  returning?: true
  /** The person's lead score has reached this many points. */
  score?: number
}

export interface Stage {
  name: string
  when: Condition[]
}

export interface ScoreRule {
  when: Condition
  /** Added once per session in which the condition holds. */
  points: number
}

export interface Journey {
  name: string
  /** Which sessions belong to this journey (a page view or event it names); every session when left out. */
  scope?: Condition
  stages: Stage[]
  score?: ScoreRule[]
}

export interface WaymarkConfig {
  sessionTimeoutMinutes: number
  journeys: Journey[]
}

/** Conditions on the owner's history rather than the session: they cannot scope a journey or score. */
export const OWNER_CONDITIONS = ['returning', 'score'] as const

/** Downloads that are research, by the words in their URL or link text: case studies, guides and their kin. */
export const CONTENT_DOWNLOADS = [
  '**case-stud**', '**case stud**', '**case_stud**', '**casestud**', '**guide**', '**whitepaper**', '**white-paper**', '**white paper**',
  '**ebook**', '**e-book**', '**report**', '**datasheet**', '**data-sheet**', '**brochure**', '**playbook**', '**checklist**',
]
/** Track events that say a download by name: "Whitepaper Download", "Guide downloaded", "Download pricing". */
const DOWNLOAD_EVENTS = ['* Download', '* Downloaded', 'Download *']

/** The B2B funnel, used when nothing is configured. README: "The default journey". */
export const DEFAULT_JOURNEY: Journey = {
  name: 'b2b',
  stages: [
    { name: 'awareness', when: [{ visit: true }] },
    {
      name: 'consideration',
      when: [
        { path: ['/pricing**', '/plans**', '/product**', '/features**', '/solutions/**', '/integrations**', '/case-stud**', '/customers/**', '/compare**', '/vs/**', '/alternatives/**'] },
        { download: CONTENT_DOWNLOADS },
        { event: DOWNLOAD_EVENTS },
        { pageviews: 3 },
        { engagedSeconds: 60 },
        { returning: true },
        { formStart: '*' },
      ],
    },
    {
      name: 'decision',
      when: [
        { formSubmit: ['*demo*', '*contact*', '*quote*', '*trial*', '*sales*', '*meeting*'] },
        { event: 'contact_click' },
        { event: ['Demo Requested', 'Trial Started', 'Quote Requested', 'Contact Requested', 'Meeting Booked'] },
        { identify: true },
      ],
    },
    {
      name: 'purchase',
      when: [
        { event: ['Deal Won', 'Order Completed', 'Purchase', 'Purchased', 'Subscription Started', 'Invoice Paid'] },
        { trait: { lifecycle: 'customer' } },
        { trait: { lifecycleStage: 'customer' } },
      ],
    },
    { name: 'loyalty', when: [{ event: ['Renewal', 'Subscription Renewed', 'Repeat Purchase', 'Upsell', 'Expansion'] }] },
    { name: 'advocacy', when: [{ event: ['Referral', 'Referral Sent', 'Review Submitted', 'Testimonial Given', 'Case Study Participation'] }] },
  ],
  score: [
    { when: { path: ['/pricing**', '/plans**'] }, points: 10 },
    { when: { path: ['/case-stud**', '/customers/**'] }, points: 10 },
    { when: { download: CONTENT_DOWNLOADS }, points: 20 },
    { when: { event: DOWNLOAD_EVENTS }, points: 20 },
    { when: { event: 'cta' }, points: 10 },
    { when: { event: 'contact_click' }, points: 20 },
    { when: { formStart: '*' }, points: 5 },
    { when: { identify: true }, points: 20 },
  ],
}

export const DEFAULT_CONFIG: WaymarkConfig = { sessionTimeoutMinutes: 30, journeys: [DEFAULT_JOURNEY] }

export class ConfigError extends Error {}

const CONDITION_KEYS = ['visit', 'path', 'event', 'download', 'formSubmit', 'formStart', 'pageviews', 'engagedSeconds', 'identify', 'trait', 'returning', 'score']

type Path = (string | number)[]
type Problem = { path: Path; expected: string }

/** Checks a parsed configuration; returns the first problem, with where it is. */
function checkConfig(value: unknown): Problem | undefined {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
  const isGlobs = (v: unknown) => typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((g) => typeof g === 'string'))
  const isCount = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0

  const checkCondition = (c: unknown, path: Path, localOnly: boolean): Problem | undefined => {
    if (!isObject(c)) return { path, expected: 'a condition object, such as {"path": "/pricing**"}' }
    const keys = Object.keys(c)
    if (keys.length === 0) return { path, expected: `a condition with at least one of: ${CONDITION_KEYS.join(', ')}` }
    for (const key of keys) {
      const at = [...path, key]
      const v = c[key]
      if (!CONDITION_KEYS.includes(key)) return { path: at, expected: `a condition key, one of: ${CONDITION_KEYS.join(', ')}` }
      if (localOnly && (OWNER_CONDITIONS as readonly string[]).includes(key))
        return { path: at, expected: `a condition on the session (${key} is about the person, so it cannot scope a journey or score points)` }
      if (['path', 'event', 'download', 'formSubmit', 'formStart'].includes(key) && !isGlobs(v)) return { path: at, expected: 'a pattern or a list of patterns (strings)' }
      if (['pageviews', 'engagedSeconds', 'score'].includes(key) && !isCount(v)) return { path: at, expected: 'a number, 0 or more' }
      if (['visit', 'identify', 'returning'].includes(key) && v !== true) return { path: at, expected: 'true' }
      if (key === 'trait') {
        if (!isObject(v) || Object.keys(v).length === 0) return { path: at, expected: 'an object of trait names and values, such as {"lifecycle": "customer"}' }
        for (const [name, want] of Object.entries(v)) {
          const ok = (x: unknown) => ['string', 'number', 'boolean'].includes(typeof x)
          if (!(ok(want) || (Array.isArray(want) && want.length > 0 && want.every(ok)))) return { path: [...at, name], expected: 'a value or a list of values' }
        }
      }
      if (key.startsWith('path') || key === 'event' || key === 'download' || key.startsWith('form')) {
        for (const [i, glob] of (Array.isArray(v) ? v : [v]).entries())
          if (glob.startsWith('regex:'))
            try {
              new RegExp(glob.slice(6))
            } catch (error) {
              return { path: Array.isArray(v) ? [...at, i] : at, expected: `a valid regular expression (${(error as Error).message})` }
            }
      }
    }
  }

  if (!isObject(value)) return { path: [], expected: 'an object with "journeys"' }
  for (const key of Object.keys(value))
    if (!['journeys', 'sessionTimeoutMinutes', '$schema'].includes(key)) return { path: [key], expected: 'one of "journeys", "sessionTimeoutMinutes"' }
  if (value.sessionTimeoutMinutes !== undefined && !(isCount(value.sessionTimeoutMinutes) && (value.sessionTimeoutMinutes as number) >= 1))
    return { path: ['sessionTimeoutMinutes'], expected: 'a number of minutes, 1 or more' }
  if (value.journeys === undefined) return
  if (!Array.isArray(value.journeys) || value.journeys.length === 0) return { path: ['journeys'], expected: 'a list of one or more journeys' }
  const journeyNames = new Set<string>()
  for (const [j, journey] of value.journeys.entries()) {
    const at: Path = ['journeys', j]
    if (!isObject(journey)) return { path: at, expected: 'a journey: {"name": …, "stages": […]}' }
    for (const key of Object.keys(journey))
      if (!['name', 'scope', 'stages', 'score'].includes(key)) return { path: [...at, key], expected: 'one of "name", "scope", "stages", "score"' }
    if (typeof journey.name !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/i.test(journey.name)) return { path: [...at, 'name'], expected: 'a name of letters, digits, - and _' }
    if (journeyNames.has(journey.name)) return { path: [...at, 'name'], expected: `a name not used by another journey ("${journey.name}" is)` }
    journeyNames.add(journey.name)
    if (journey.scope !== undefined) {
      const problem = checkCondition(journey.scope, [...at, 'scope'], true)
      if (problem) return problem
    }
    if (!Array.isArray(journey.stages) || journey.stages.length === 0) return { path: [...at, 'stages'], expected: 'a list of one or more stages, in funnel order' }
    const stageNames = new Set<string>()
    for (const [s, stage] of journey.stages.entries()) {
      const sat: Path = [...at, 'stages', s]
      if (!isObject(stage)) return { path: sat, expected: 'a stage: {"name": …, "when": [conditions]}' }
      if (typeof stage.name !== 'string' || !stage.name) return { path: [...sat, 'name'], expected: 'the stage name' }
      if (stageNames.has(stage.name)) return { path: [...sat, 'name'], expected: `a stage name not used before in this journey ("${stage.name}" is)` }
      stageNames.add(stage.name)
      if (!Array.isArray(stage.when) || stage.when.length === 0) return { path: [...sat, 'when'], expected: 'a list of conditions, any one of which enters the stage' }
      for (const [c, condition] of stage.when.entries()) {
        const problem = checkCondition(condition, [...sat, 'when', c], false)
        if (problem) return problem
      }
    }
    if (journey.score !== undefined) {
      if (!Array.isArray(journey.score)) return { path: [...at, 'score'], expected: 'a list of score rules: {"when": condition, "points": n}' }
      for (const [r, rule] of journey.score.entries()) {
        if (!isObject(rule)) return { path: [...at, 'score', r], expected: 'a score rule: {"when": condition, "points": n}' }
        if (typeof rule.points !== 'number' || !Number.isFinite(rule.points)) return { path: [...at, 'score', r, 'points'], expected: 'a number of points' }
        const problem = checkCondition(rule.when, [...at, 'score', r, 'when'], true)
        if (problem) return problem
      }
    }
  }
}

function lineAndColumn(text: string, offset: number) {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
}

/** Parses and checks a configuration's text; errors name the file, the line and what was expected there. */
export function parseConfig(text: string, file = 'waymark.config.json'): WaymarkConfig {
  const errors: ParseError[] = []
  const tree = parseTree(text, errors, { allowTrailingComma: true })
  if (errors.length || !tree) {
    const first = errors[0]
    const { line, column } = lineAndColumn(text, first?.offset ?? 0)
    throw new ConfigError(`${file}:${line}:${column}: not valid JSON (${first ? printParseErrorCode(first.error) : 'empty'})`)
  }
  const value = JSON.parse(JSON.stringify(nodeValue(tree)))
  const problem = checkConfig(value)
  if (problem) {
    // Point at the deepest part of the path that exists in the file.
    let node: Node | undefined
    for (let depth = problem.path.length; depth >= 0 && !node; depth--) node = findNodeAtLocation(tree, problem.path.slice(0, depth))
    const { line, column } = lineAndColumn(text, node?.parent?.type === 'property' ? node.parent.offset : (node?.offset ?? 0))
    const where = problem.path.length ? problem.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').slice(1) : 'the top level'
    throw new ConfigError(`${file}:${line}:${column}: at ${where}: expected ${problem.expected}`)
  }
  return {
    sessionTimeoutMinutes: value.sessionTimeoutMinutes ?? DEFAULT_CONFIG.sessionTimeoutMinutes,
    journeys: value.journeys ?? DEFAULT_CONFIG.journeys,
  }
}

function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object':
      return Object.fromEntries((node.children ?? []).map((property) => [property.children![0].value, nodeValue(property.children![1])]))
    case 'array':
      return (node.children ?? []).map(nodeValue)
    default:
      return node.value
  }
}

/**
 * The configuration in force: the file named by --config or WAYMARK_CONFIG (which must exist),
 * else ./waymark.config.json if there is one, else the default B2B journey.
 */
export function loadConfig(explicitPath?: string): { config: WaymarkConfig; source: string } {
  const path = explicitPath ? resolve(explicitPath) : resolve('waymark.config.json')
  if (!existsSync(path)) {
    if (explicitPath) throw new ConfigError(`${explicitPath}: no such file: check --config or WAYMARK_CONFIG`)
    return { config: DEFAULT_CONFIG, source: 'the default B2B journey' }
  }
  return { config: parseConfig(readFileSync(path, 'utf8'), path), source: path }
}
