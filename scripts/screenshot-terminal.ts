// npm run screenshot — docs/terminal.png: the web terminal as Alice sees it on a busy AAPL.
// Starts its own dev server (a fresh database, nothing kept), logs Alice in through the terminal
// with her second factor, has Carol (a market maker the script funds) and Bob trade and quote
// around 190.00 through the typed client, lets Alice place orders from the ticket with the
// keyboard, and takes the picture once the book, tape and blotter have caught up.
//   npx tsx scripts/screenshot-terminal.ts [out.png] [--phone]
import { createClient } from '../src/client/index.ts'
import type { Client, OrderBody } from '../src/client/index.ts'
import { DEMO_PASSWORD, DEMO_USERS } from '../src/db/seed.ts'
import { formatCents } from '../src/lib/money.ts'
import { enableTwoFactor, hasChromium, launchChromium, logIn, CHROMIUM } from '../test/helpers/terminal.ts'
import { nextCode } from '../test/helpers/two-factor.ts'
import { startDevServer } from './lib/dev-server.ts'

const out = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'docs/terminal.png'
const phone = process.argv.includes('--phone')
if (!hasChromium) throw new Error(`no ${CHROMIUM}: apt-get install -y chromium`)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** a seeded walk, so every run draws the same market */
let seed = 7
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646

const dev = await startDevServer({
  env: { RATE_LIMIT_ORDERS_RETAIL: '1000000', RATE_LIMIT_READS_RETAIL: '1000000' },
})
try {
  const [alice, bob] = [DEMO_USERS[0].email, DEMO_USERS[1].email]
  const aliceSecret = await enableTwoFactor(dev.base, alice)
  const bobApi = await trader(bob, await enableTwoFactor(dev.base, bob))
  const carolApi = await marketMaker('carol@demo.bourse.dev')

  const browser = await launchChromium()
  const context = await browser.newContext({
    viewport: phone ? { width: 375, height: 1400 } : { width: 1440, height: 880 },
    deviceScaleFactor: phone ? 2 : 1,
  })
  const page = await context.newPage()
  await logIn(page, dev.base, alice, aliceSecret)

  // the tape and the chart: Carol quotes, Bob takes it, around a walk from 190.00
  let mid = 19_000
  const place = (api: Client, body: Pick<OrderBody, 'side' | 'qty' | 'price'> & Partial<OrderBody>) =>
    api.placeOrder({ symbol: 'AAPL', type: 'limit', time_in_force: 'day', ...body })
  for (let i = 0; i < 70; i++) {
    mid += Math.round((random() - 0.47) * 8)
    const qty = 5 + Math.floor(random() * 40)
    const bobBuys = random() < 0.55
    const at = formatCents(mid + (bobBuys ? 2 : -2))
    await place(carolApi, { side: bobBuys ? 'sell' : 'buy', qty, price: at })
    await place(bobApi, { side: bobBuys ? 'buy' : 'sell', qty, price: at, time_in_force: 'ioc' })
    await sleep(60)
  }

  // the book: Carol's ladder on both sides of the last trade
  for (let level = 1; level <= 16; level++) {
    const size = () => 10 * (1 + Math.floor(random() * 12)) + level * 5
    await place(carolApi, { side: 'buy', qty: size(), price: formatCents(mid - 1 - level * 3) })
    await place(carolApi, { side: 'sell', qty: size(), price: formatCents(mid + 1 + level * 3) })
  }

  // Alice, from the ticket: takes 15 at the offer, rests a bid and an offer of her own
  const ticket = async (key: 'b' | 's', qty: number, cents: number) => {
    await page.locator('body').press(key)
    await page.keyboard.type(String(qty))
    await page.fill('input[name=price]', formatCents(cents))
    await page.locator('input[name=price]').press('Enter')
    await page.locator('.ticket .result.ok').waitFor()
    await page.locator('body').press('Escape')
  }
  await ticket('b', 15, mid + 4)
  await ticket('b', 25, mid - 7)
  await ticket('s', 40, mid + 10)
  await ticket('b', 50, mid - 13)
  await page.locator('.blotter tbody tr[data-order]').nth(2).waitFor()
  await page.locator('.ticket input[name=price]').fill(formatCents(mid - 4))
  await page.locator('.ticket input[name=qty]').fill('100')
  await sleep(2_500) // the retail tier's throttle: one market-data message a second
  await page.screenshot({ path: out, fullPage: phone })
  console.error(`wrote ${out}`)
  await browser.close()
} finally {
  await dev.stop()
}

/** a demo trader with two-factor: the client with a token from a login with a code */
async function trader(email: string, secret: string) {
  const { access_token } = await createClient(dev.base).login({
    email,
    password: DEMO_PASSWORD,
    otp: await nextCode(secret),
  })
  return createClient(dev.base, { token: access_token })
}

/** a new account, two-factor on, funded by the admin with cash and AAPL to quote both sides */
async function marketMaker(email: string) {
  const anonymous = createClient(dev.base)
  const { id } = await anonymous.register({ email, password: DEMO_PASSWORD, display_name: 'Carol' })
  const secret = await enableTwoFactor(dev.base, email)
  const admin = await anonymous.login({ email: DEMO_USERS[2].email, password: DEMO_PASSWORD })
  // admin funding has no method in the public client: two plain requests
  for (const [path, body] of [
    ['deposits', { amount: '1000000.00' }],
    ['transfers', { symbol: 'AAPL', qty: 5_000, cost_basis: '900000.00' }],
  ] as const) {
    const res = await fetch(`${dev.base}/v1/admin/accounts/${id}/${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${admin.access_token}`,
        'content-type': 'application/json',
        'idempotency-key': `screenshot-${path}`,
      },
      body: JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  }
  return trader(email, secret)
}
