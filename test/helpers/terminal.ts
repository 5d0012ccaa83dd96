// The web terminal in a real browser: Debian's Chromium (never a downloaded one) driven by
// playwright-core, and the terminal's own login form filled in with the one-time code of a user
// whose two-factor the API turned on (enableTwoFactor, ./two-factor.ts). Shared by the browser test and
// the screenshot script (scripts/screenshot-terminal.ts).
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { DEMO_PASSWORD } from '../../src/db/seed.ts'
import { nextCode } from './two-factor.ts'
export { enableTwoFactor } from './two-factor.ts'

export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/**
 * Logs in through the terminal's form: the password, then the code it asks for. The next step's
 * code: the enrollment used this step's, and each code works once (±1 step accepted).
 */
export async function logIn(page: Page, base: string, email: string, secret: string, symbol = 'AAPL') {
  await page.goto(`${base}/#${symbol}`)
  await page.fill('input[name=email]', email)
  await page.fill('input[name=password]', DEMO_PASSWORD)
  await page.click('form.login button[type=submit]')
  await page.locator('input[name=otp]').waitFor()
  await page.fill('input[name=otp]', await nextCode(secret))
  await page.click('form.login button[type=submit]')
  await page.locator('.status.live').waitFor()
}
