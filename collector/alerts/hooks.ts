import { randomToken } from '../sites'
import type { WaymarkConfig } from '../stages/config'
import type { AlertHook, AlertOwner } from '../store/types'

export const ALERT_OWNERS: AlertOwner[] = ['person', 'company', 'both']
export const DEFAULT_STALLED_DAYS = 30

/** A hook as asked for on the command line: every value as typed. */
export interface HookRequest {
  siteId: string
  url?: string
  stage?: string
  /** Asked for the daily stalled list rather than a stage. */
  stalled?: boolean
  journey?: string
  owner?: string
  stalledDays?: string
}

/**
 * A new hook, checked against the configuration in force, and its signing secret (a fresh
 * random one, shown to the user once; the collector keeps it to sign with).
 */
export function newHook(config: WaymarkConfig, request: HookRequest, now = Date.now()): AlertHook {
  const url = checkUrl(request.url)
  if (request.stalled && request.stage) throw new Error('give --stage <name> (alert when someone enters it) or --stalled (the stalled people, daily), not both')
  if (!request.stalled && !request.stage)
    throw new Error('say what to alert on: --stage <name> (when a person or company enters it) or --stalled (daily, the people stalled in the journey)')
  const names = config.journeys.map((j) => j.name)
  const journey = config.journeys.find((j) => j.name === (request.journey ?? names[0]))
  if (!journey) throw new Error(`no journey "${request.journey}" in the configuration: its journeys are ${names.join(', ')} (check --config)`)
  const stages = journey.stages.map((s) => s.name)
  if (request.stage && !stages.includes(request.stage))
    throw new Error(`no stage "${request.stage}" in journey "${journey.name}": its stages are ${stages.join(', ')}`)
  const owner = (request.owner ?? 'person') as AlertOwner
  if (!ALERT_OWNERS.includes(owner)) throw new Error(`--owner "${request.owner}" must be person, company or both`)
  if (request.stalled && owner !== 'person') throw new Error('the stalled list is of people: leave out --owner with --stalled')
  if (!request.stalled && request.stalledDays !== undefined) throw new Error('--stalled-days goes with --stalled')
  let stalledDays: number | null = null
  if (request.stalled) {
    stalledDays = request.stalledDays === undefined ? DEFAULT_STALLED_DAYS : Number(request.stalledDays)
    if (!Number.isInteger(stalledDays) || stalledDays < 1) throw new Error(`--stalled-days "${request.stalledDays}" must be a whole number of days, 1 or more`)
  }
  return {
    id: randomToken(10),
    siteId: request.siteId,
    kind: request.stalled ? 'stalled' : 'stage',
    journey: journey.name,
    stage: request.stage ?? null,
    owner,
    url,
    secret: 'whsec_' + randomToken(32),
    stalledDays,
    createdAt: now,
  }
}

function checkUrl(input: string | undefined): string {
  const example = 'such as --url https://hooks.example.com/waymark'
  if (!input) throw new Error(`say where to send alerts: --url, ${example}`)
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw new Error(`--url "${input}" is not an address: give the receiver's whole URL, ${example}`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`--url "${input}" must be an http:// or https:// address, ${example}`)
  if (url.username || url.password) throw new Error(`--url "${input}" must not carry a user name or password: the signature authenticates each alert`)
  return url.href
}

/** A hook's configuration problem, if its journey or stage is no longer configured (it then never fires). */
export function hookProblem(config: WaymarkConfig, hook: AlertHook): string | undefined {
  const journey = config.journeys.find((j) => j.name === hook.journey)
  if (!journey) return `alert hook ${hook.id} names journey "${hook.journey}", which is not configured: it sends nothing until it is (or: waymark alerts remove ${hook.id})`
  if (hook.stage && !journey.stages.some((s) => s.name === hook.stage))
    return `alert hook ${hook.id} names stage "${hook.stage}", which journey "${hook.journey}" no longer has: it sends nothing until it does (or: waymark alerts remove ${hook.id})`
}
