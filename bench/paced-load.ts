import { Agent, request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'

export interface PacedResult {
  p50: number
  p99: number
  answered: number
  non2xx: number
}

/**
 * Offers POSTs at a steady rate, evenly spaced, and times each from when it was due rather
 * than from when it went out, so a server that falls behind shows it in the tail (no
 * coordinated omission). autocannon's rate limit sends each second's requests in a burst, which
 * gave even the bare handler a p99 above 100 ms at 200 requests/s on this machine.
 */
export async function pacedLoad(options: {
  port: number
  path: string
  headers: Record<string, string>
  body: () => string
  requestsPerSecond: number
  seconds: number
}): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  const latencies: number[] = []
  let non2xx = 0
  const inFlight = new Set<Promise<void>>()
  const send = (due: number) => {
    const done = new Promise<void>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port: options.port, path: options.path, method: 'POST', headers: options.headers, agent },
        (res) => {
          res.resume()
          res.on('end', () => {
            if (res.statusCode! >= 300) non2xx++
            latencies.push(performance.now() - due)
            resolve()
          })
        },
      )
      req.on('error', () => {
        non2xx++
        resolve()
      })
      req.end(options.body())
    })
    inFlight.add(done)
    void done.then(() => inFlight.delete(done))
  }
  const interval = 1000 / options.requestsPerSecond
  const start = performance.now()
  const total = Math.round(options.requestsPerSecond * options.seconds)
  for (let sent = 0; sent < total; ) {
    const now = performance.now()
    while (sent < total && start + sent * interval <= now) send(start + sent++ * interval)
    await sleep(1)
  }
  await Promise.all(inFlight)
  agent.destroy()
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN
  return { p50: at(0.5), p99: at(0.99), answered: latencies.length, non2xx }
}
