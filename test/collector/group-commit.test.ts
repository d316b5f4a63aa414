import { describe, expect, it } from 'vitest'
import { groupCommit } from '../../collector/ingest/group-commit'

describe('group commit', () => {
  it('writes what arrives together as one commit, and answers each request after it', async () => {
    const writes: number[][] = []
    const commits = groupCommit<number>(async (items) => void writes.push(items))
    await Promise.all([commits.add([1, 2]), commits.add([3]), commits.add([4, 5])])
    expect(writes).toEqual([[1, 2, 3, 4, 5]])
  })

  it('when a commit fails, commits each request on its own, so only the one the store refuses fails', async () => {
    const stored: number[] = []
    const commits = groupCommit<number>(async (items) => {
      if (items.includes(13)) throw new Error('refused')
      stored.push(...items)
    })
    const outcomes = await Promise.allSettled([commits.add([1, 2]), commits.add([13]), commits.add([4])])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(stored).toEqual([1, 2, 4])
  })
})
