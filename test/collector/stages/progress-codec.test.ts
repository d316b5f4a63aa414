import { describe, expect, it } from 'vitest'
import { DEFAULT_JOURNEY } from '../../../collector/stages/config'
import { decodeProgress, encodeProgress } from '../../../collector/stages/progress-codec'
import type { SessionProgress } from '../../../collector/stages/progress'
import { sessionProgress } from '../../../collector/stages/progress'
import { sessionize } from '../../../collector/sessions/sessionize'
import { generateTraffic } from '../../fixtures/traffic'

const START = Date.UTC(2026, 2, 2, 9, 0, 0)

describe('The stored form of a session’s progress', () => {
  it('decodes to exactly what was encoded: moments, their paths, points and the empty conditions', () => {
    const progress: SessionProgress = {
      inScope: true,
      stageMoments: DEFAULT_JOURNEY.stages.map((stage, i) =>
        stage.when.map((_, c) => (i === 0 && c === 0 ? { at: START, path: '/blog/a' } : i === 1 && c === 1 ? { at: START + 60_000, path: '/pricing' } : null)),
      ),
      points: [
        { at: START + 60_000, path: '/pricing', points: 10 },
        { at: START + 5_000, path: '/blog/a', points: -3 },
      ],
    }
    expect(decodeProgress(encodeProgress(progress, START), START, DEFAULT_JOURNEY)).toEqual(progress)
  })

  it('keeps a session out of scope as out of scope', () => {
    const progress: SessionProgress = { inScope: false, stageMoments: [], points: [] }
    expect(decodeProgress(encodeProgress(progress, START), START, DEFAULT_JOURNEY)).toEqual(progress)
  })

  it('round-trips every session of a generated month, in a quarter of the plain JSON or less', () => {
    const { events } = generateTraffic({ siteId: 's', visitors: 300, seed: 7, start: START, days: 30 })
    const byVisitor = new Map<string, typeof events>()
    for (const e of events) byVisitor.set(e.visitorId, [...(byVisitor.get(e.visitorId) ?? []), e])
    let plain = 0
    let compact = 0
    for (const own of byVisitor.values())
      for (const { session, events: sessionEvents } of sessionize(own.sort((a, b) => a.occurredAt - b.occurredAt || (a.id < b.id ? -1 : 1)), 30 * 60_000)) {
        const progress = sessionProgress(DEFAULT_JOURNEY, session, sessionEvents)
        const stored = encodeProgress(progress, session.startedAt)
        expect(decodeProgress(stored, session.startedAt, DEFAULT_JOURNEY)).toEqual(progress)
        plain += JSON.stringify(progress).length
        compact += stored.length
      }
    expect(compact * 4).toBeLessThanOrEqual(plain)
  })
})
