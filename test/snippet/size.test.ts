import { describe, expect, it } from 'vitest'
import { gzipSize } from '../../snippet/build'
import { snippetCode } from './harness'

/**
 * The tag ships to every visitor of every customer site. The performance issue's guard is 2,048
 * bytes gzip -9, which the tag is still twice over (see the README's Benchmarks); until it gets
 * there, this ceiling, a little above today's size, makes sure the tag only ever shrinks.
 */
const CEILING_GZIP_BYTES = 4_200

describe('The tag', () => {
  it(`is at most ${CEILING_GZIP_BYTES.toLocaleString('en-US')} bytes gzip -9`, async () => {
    expect(gzipSize(await snippetCode())).toBeLessThanOrEqual(CEILING_GZIP_BYTES)
  })
})
