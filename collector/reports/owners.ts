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

/**
 * People (or companies) by stage, the stalled ones first (longest in their stage first), then
 * the most recently seen. Folded one at a time, keeping only the top `limit`, so a list of a site
 * with a million people costs what it shows.
 */
export function ownerList(options: { asOf: number; stalledAfterMs: number; last: string; limit: number }) {
  let rows: ListRow[] = []
  let total = 0
  let stalled = 0
  const order = (a: ListRow, b: ListRow) =>
    Number(b.stalled) - Number(a.stalled) ||
    (a.stalled ? (a.stageEnteredAt ?? 0) - (b.stageEnteredAt ?? 0) : (b.lastSeen ?? 0) - (a.lastSeen ?? 0)) ||
    a.id.localeCompare(b.id)
  const trim = () => {
    rows.sort(order)
    rows = rows.slice(0, options.limit)
  }
  return {
    add(owner: ListedOwner) {
      const inStage = owner.stageEnteredAt === null ? null : options.asOf - owner.stageEnteredAt
      const isStalled = inStage !== null && owner.stage !== options.last && inStage > options.stalledAfterMs
      const { id, name, companyId, people, stage, stageEnteredAt, lastSeen, sessions, score } = owner
      rows.push({ id, name, companyId, people, stage, stageEnteredAt, lastSeen, sessions, score, daysInStage: inStage === null ? null : Math.floor(inStage / 86_400_000), stalled: isStalled })
      total++
      if (isStalled) stalled++
      if (rows.length >= options.limit * 2) trim()
    },
    result() {
      trim()
      return { total, stalled, rows }
    },
  }
}
