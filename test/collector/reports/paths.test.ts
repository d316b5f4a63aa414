import { describe, expect, it } from 'vitest'
import { collapse, contentGroup, MAX_STEPS, pathsFold, type PathOwner } from '../../../collector/reports/paths'

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 8, 1)

/** An owner whose sessions start an hour apart on these channels, each showing the page given beside it. */
function owner(steps: [channel: string, item: string][], goalAfter: number | null = null): PathOwner {
  return {
    sessions: steps.map(([channel], i) => ({ at: T0 + i * HOUR, channel })),
    content: steps.map(([, item], i) => ({ at: T0 + i * HOUR + 1000, item })),
    // Entered the goal stage in the session of this index, a minute in.
    goalAt: goalAfter === null ? null : T0 + goalAfter * HOUR + 60_000,
  }
}

function paths(owners: PathOwner[], top = 20) {
  const fold = pathsFold({ top })
  for (const o of owners) fold.add(o)
  return fold.result()
}

describe('contentGroup', () => {
  it.each([
    ['/blog/how-to-choose', '/blog'],
    ['/blog', '/blog'],
    ['/pricing/', '/pricing'],
    ['/', '/'],
    ['', '/'],
    ['//docs//api', '/docs'],
  ])('%s → %s', (path, group) => expect(contentGroup(path)).toBe(group))
})

describe('collapse', () => {
  it('collapses repeats in a row, and only those', () => {
    expect(collapse(['Direct', 'Direct', 'Email', 'Email', 'Email', 'Direct'])).toEqual(['Direct', 'Email', 'Direct'])
    expect(collapse([])).toEqual([])
  })

  it(`keeps a path of up to ${MAX_STEPS} steps whole and shortens a longer one to the first 3, "…" and the last 2`, () => {
    expect(MAX_STEPS).toBe(6)
    const six = ['a', 'b', 'c', 'd', 'e', 'f']
    expect(collapse(six)).toEqual(six)
    expect(collapse([...six, 'g'])).toEqual(['a', 'b', 'c', '…', 'f', 'g'])
    // Repeats are collapsed before the length is judged: 8 steps, 6 once collapsed.
    expect(collapse(['a', 'a', 'b', 'c', 'c', 'd', 'e', 'f'])).toEqual(six)
    expect(collapse(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'c'])).toEqual(['a', 'b', 'a', '…', 'a', 'c'])
  })
})

describe('Paths', () => {
  it('counts the journeys that reached the goal up to the moment they did, and the others whole', () => {
    const result = paths([
      // Reached the goal in the second session: the third does not count.
      owner([['Organic Search', '/blog'], ['Email', '/pricing'], ['Direct', '/demo']], 1),
      owner([['Organic Search', '/blog'], ['Email', '/pricing']], 1),
      owner([['Email', '/pricing']], 0),
      // Never reached it: all of it.
      owner([['Organic Search', '/blog'], ['Email', '/pricing'], ['Direct', '/demo']]),
    ])
    expect(result.reached).toEqual({
      owners: 3,
      channels: [
        { path: ['Organic Search', 'Email'], count: 2, share: 0.6667 },
        { path: ['Email'], count: 1, share: 0.3333 },
      ],
      content: [
        { path: ['/blog', '/pricing'], count: 2, share: 0.6667 },
        { path: ['/pricing'], count: 1, share: 0.3333 },
      ],
    })
    expect(result.notReached).toEqual({
      owners: 1,
      channels: [{ path: ['Organic Search', 'Email', 'Direct'], count: 1, share: 1 }],
      content: [{ path: ['/blog', '/pricing', '/demo'], count: 1, share: 1 }],
    })
  })

  it('counts a session and a page at the goal moment itself, and not after it', () => {
    const goalAt = T0 + 5 * HOUR
    const result = paths([
      {
        sessions: [{ at: T0, channel: 'Direct' }, { at: goalAt, channel: 'Email' }, { at: goalAt + 1, channel: 'Referral' }],
        content: [{ at: T0, item: '/blog' }, { at: goalAt, item: '/demo' }, { at: goalAt + 1, item: '/thanks' }],
        goalAt,
      },
    ])
    expect(result.reached.channels).toEqual([{ path: ['Direct', 'Email'], count: 1, share: 1 }])
    expect(result.reached.content).toEqual([{ path: ['/blog', '/demo'], count: 1, share: 1 }])
  })

  it('orders each owner’s sessions and pages by time, and collapses repeats', () => {
    const result = paths([
      {
        sessions: [{ at: T0 + 3 * HOUR, channel: 'Email' }, { at: T0, channel: 'Direct' }, { at: T0 + HOUR, channel: 'Direct' }],
        content: [{ at: T0 + 2 * HOUR, item: '/blog' }, { at: T0 + HOUR, item: '/blog' }, { at: T0, item: '/' }],
        goalAt: null,
      },
    ])
    expect(result.notReached.channels[0].path).toEqual(['Direct', 'Email'])
    expect(result.notReached.content[0].path).toEqual(['/', '/blog'])
  })

  it('counts an owner with no pages in the group but lists no content path for them, and skips an owner with no session before the goal', () => {
    const result = paths([
      { sessions: [{ at: T0, channel: 'Offline' }], content: [], goalAt: null },
      { sessions: [{ at: T0 + HOUR, channel: 'Direct' }], content: [{ at: T0 + HOUR, item: '/' }], goalAt: T0 },
      { sessions: [], content: [], goalAt: null },
    ])
    expect(result.notReached).toEqual({ owners: 1, channels: [{ path: ['Offline'], count: 1, share: 1 }], content: [] })
    expect(result.reached).toEqual({ owners: 0, channels: [], content: [] })
  })

  it('lists the most common first, ties by path, at most `top`, with shares of all the group’s owners', () => {
    const one = (channel: string) => owner([[channel, '/']])
    const result = paths([one('Email'), one('Direct'), one('Email'), one('Referral'), one('Direct'), one('Email'), one('Organic Search')], 3)
    // 7 owners: Email 3, Direct 2, then Organic Search and Referral 1 each (Organic Search first by name).
    expect(result.notReached.owners).toBe(7)
    expect(result.notReached.channels).toEqual([
      { path: ['Email'], count: 3, share: 0.4286 },
      { path: ['Direct'], count: 2, share: 0.2857 },
      { path: ['Organic Search'], count: 1, share: 0.1429 },
    ])
    expect(result.notReached.content).toEqual([{ path: ['/'], count: 7, share: 1 }])
  })

  it('counts a long journey by its shortened path', () => {
    const channels = ['Organic Search', 'Email', 'Direct', 'Referral', 'Organic Social', 'Paid Search', 'Email']
    const result = paths([owner(channels.map((c) => [c, '/'])), owner([...channels.slice(0, 3), 'Display', 'Affiliate', ...channels.slice(-2)].map((c) => [c, '/']))])
    // Both are 7 steps with the same first 3 and last 2: one path, counted twice.
    expect(result.notReached.channels).toEqual([{ path: ['Organic Search', 'Email', 'Direct', '…', 'Paid Search', 'Email'], count: 2, share: 1 }])
  })
})
