import { createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The receiver's check, taken from the README ("Checking an alert") and run as it is written
 * there, so the documented snippet is the one the tests hold to account.
 */
export const verify = ((): ((secret: string, header: string, rawBody: string, toleranceSeconds?: number) => boolean) => {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
  const section = readme.slice(readme.indexOf('**Checking an alert**'))
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1]
  if (!code?.includes('function verify(')) throw new Error('README.md: no verify() snippet under "Checking an alert"')
  return new Function('createHmac', 'timingSafeEqual', 'Buffer', `${code.replace(/^import .*$/m, '')}\nreturn verify`)(createHmac, timingSafeEqual, Buffer)
})()

export interface Received {
  headers: IncomingHttpHeaders
  raw: string
  /** The parsed body: what the README documents, checked field by field. */
  body: Record<string, any>
}

type Answer = (n: number, request: IncomingMessage, response: ServerResponse) => void

/** A webhook receiver on loopback (on `port`, or a free one); `answer` decides each request's fate (default 200). */
export async function receiver(answer: Answer = (_, __, response) => response.end('ok'), port = 0) {
  const received: Received[] = []
  const server = createServer((request, response) => {
    let raw = ''
    request.setEncoding('utf8')
    request.on('data', (chunk) => (raw += chunk))
    request.on('end', () => {
      received.push({ headers: request.headers, raw, body: JSON.parse(raw) })
      answer(received.length, request, response)
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/waymark`,
    received,
    /** Waits until `count` requests have come (failing the test if more or fewer did by the time allowed). */
    async waitFor(count: number, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs
      while (received.length < count && Date.now() < until) await sleep(10)
      expect(received.length).toBe(count)
    },
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}
