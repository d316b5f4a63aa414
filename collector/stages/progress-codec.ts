import type { Journey } from './config'
import type { Moment, SessionProgress } from './progress'

/**
 * How a session's progress is stored: every session keeps one per journey, so its size is paid
 * for every session ever recorded. The plain JSON repeats a 13-digit time and a path for each
 * moment and a null for each condition not met (about 310 bytes for a typical session); this
 * form keeps only the conditions met, each path once, and times as offsets from the session's
 * start (about 60 bytes), and a session outside the journey's scope as 0. It decodes, with the
 * journey it was made for, to exactly what was encoded (stored progress made under another
 * journey configuration is recomputed on start, never decoded).
 *
 *   [[path, …], [[stage, condition, offset, path#], …], [[offset, path#, points], …]]
 */
type Encoded = [string[], [number, number, number, number][], [number, number, number][]]

export function encodeProgress(progress: SessionProgress, startedAt: number): string {
  if (!progress.inScope) return '0'
  const paths: string[] = []
  const pathIndex = new Map<string, number>()
  const ref = (path: string) => {
    let i = pathIndex.get(path)
    if (i === undefined) pathIndex.set(path, (i = paths.push(path) - 1))
    return i
  }
  const moments: Encoded[1] = []
  progress.stageMoments.forEach((conditions, stage) =>
    conditions.forEach((moment, condition) => {
      if (moment) moments.push([stage, condition, moment.at - startedAt, ref(moment.path)])
    }),
  )
  const points: Encoded[2] = progress.points.map((point) => [point.at - startedAt, ref(point.path), point.points])
  return JSON.stringify([paths, moments, points] satisfies Encoded)
}

export function decodeProgress(text: string, startedAt: number, journey: Journey): SessionProgress {
  if (text === '0') return { inScope: false, stageMoments: [], points: [] }
  const [paths, moments, points] = JSON.parse(text) as Encoded
  const stageMoments = journey.stages.map((stage) => stage.when.map((): Moment | null => null))
  for (const [stage, condition, offset, path] of moments) stageMoments[stage][condition] = { at: startedAt + offset, path: paths[path] }
  return {
    inScope: true,
    stageMoments,
    points: points.map(([offset, path, value]) => ({ at: startedAt + offset, path: paths[path], points: value })),
  }
}
