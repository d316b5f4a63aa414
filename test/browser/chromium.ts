import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Debian's Chromium, headless, kept off the network beyond loopback. The user agent is set for
 * the whole browser: a context's override does not reach beacon and keepalive requests, which
 * the browser process sends after the page is gone.
 */
export async function launchChromium(userAgent = DESKTOP_CHROME_UA): Promise<Browser> {
  if (!existsSync(EXECUTABLE))
    throw new Error(`no Chromium at ${EXECUTABLE}: install it with "apt-get install -y chromium" (or set CHROMIUM_PATH)`)
  return chromium.launch({
    executablePath: EXECUTABLE,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-agent=${userAgent}`,
      // Playwright's Chromium says it is automated (navigator.webdriver), which the tag reports as a bot; these tests play people.
      '--disable-blink-features=AutomationControlled',
    ],
  })
}

/** A desktop Chrome user agent, so the visit counts as a person's rather than a headless bot's. */
export const DESKTOP_CHROME_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
