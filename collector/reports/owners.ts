import { compareText } from './stats'

/** A person or company as the people and companies lists show them. */
export interface ListedOwner {
  id: string
  /** Email, user id, domain or account id: what a marketer knows them by. */
  name: string
  companyId: string | null
  people: number | null
  stage: string | null
  stageEnteredAt: number | null
  lastSeen: number | null
  sessions: number
  score: number
}

export interface ListRow extends ListedOwner {
  daysInStage: number | null
  /** In a stage other than the last for longer than the threshold. */
  stalled: boolean
}

/** How a list judges and orders its owners. */
export interface ListOptions {
  /** The moment time in a stage is measured to. */
  asOf: number
  /** In a stage (not the last) for longer than this: stalled. */
  stalledAfterMs: number
  /** The journey's last stage: no one in it is stalled. */
  last: string
  /** Owners listed. */
  limit: number
}

/** What a list orders owners by. */
type Listable = { id: string; stage: string | null; stageEnteredAt: number | null; lastSeen: number | null }

/** How many owners a list counts, how many of them are stalled, and the first `limit` of them in its order. */
export interface OwnerPage<T> {
  total: number
  stalled: number
  rows: T[]
}

export const isStalled = (owner: Listable, options: ListOptions) =>
  owner.stageEnteredAt !== null && owner.stage !== options.last && options.asOf - owner.stageEnteredAt > options.stalledAfterMs

/**
 * A list's order: the stalled first (longest in their stage first), then the most recently seen
 * (never seen last), ties by id as a database orders text.
 */
export function listOrder(options: ListOptions) {
  return (a: Listable, b: Listable) => {
    const [aStalled, bStalled] = [isStalled(a, options), isStalled(b, options)]
    return (
      Number(bStalled) - Number(aStalled) ||
      (aStalled ? a.stageEnteredAt! - b.stageEnteredAt! : (b.lastSeen ?? 0) - (a.lastSeen ?? 0)) ||
      compareText(a.id, b.id)
    )
  }
}

/**
 * People (or companies) by stage, the stalled ones first, folded one at a time and keeping only
 * the top `limit`: the definition every store's own list must match, and what a store narrowed to
 * a segment lists with. Pure.
 */
export function ownerPageFold<T extends Listable>(options: ListOptions) {
  const order = listOrder(options)
  let rows: T[] = []
  let total = 0
  let stalled = 0
  const trim = () => {
    rows.sort(order)
    rows = rows.slice(0, options.limit)
  }
  return {
    add(owner: T) {
      rows.push(owner)
      total++
      if (isStalled(owner, options)) stalled++
      if (rows.length >= options.limit * 2) trim()
    },
    result(): OwnerPage<T> {
      trim()
      return { total, stalled, rows }
    },
  }
}

export async function ownerPageOf<T extends Listable>(owners: AsyncIterable<T>, options: ListOptions): Promise<OwnerPage<T>> {
  const fold = ownerPageFold<T>(options)
  for await (const owner of owners) fold.add(owner)
  return fold.result()
}

/** A list's rows as shown: each owner with their days in the stage, and whether they are stalled. */
export function listRows(owners: ListedOwner[], options: ListOptions): ListRow[] {
  return owners.map(({ id, name, companyId, people, stage, stageEnteredAt, lastSeen, sessions, score }) => ({
    id, name, companyId, people, stage, stageEnteredAt, lastSeen, sessions, score,
    daysInStage: stageEnteredAt === null ? null : Math.floor((options.asOf - stageEnteredAt) / 86_400_000),
    stalled: isStalled({ id, stage, stageEnteredAt, lastSeen }, options),
  }))
}
