// The web terminal end to end in a real browser: the Worker under wrangler dev serves it, Debian's
// Chromium runs it (playwright-core, nothing downloaded). Alice and Bob, each in a browser context
// of their own, log in with their second factor and trade AAPL against each other from the
// ticket: each sees the resting order on the ladder, then the fill, the level gone and the new
// position. Alice also amends and cancels an order from the blotter, a refusal shows as the API
// gave it, and a new user turns two-factor on from the terminal. Skipped, saying so, where
// /usr/bin/chromium is absent (CI installs it).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { currentStep, totpAt } from '../../src/auth/totp.ts'
import { createClient } from '../../src/client/index.ts'
import { parseCents } from '../../src/lib/money.ts'
import { money } from '../../src/terminal/valuation.ts'
import { DEMO_PASSWORD, DEMO_USERS } from '../../src/db/seed.ts'
import { startDevServer } from '../helpers/dev-server.ts'
import type { DevServer } from '../helpers/dev-server.ts'
import { UNLIMITED } from '../helpers/rate-limit.ts'
import { CHROMIUM, enableTwoFactor, hasChromium, launchChromium, logIn } from '../helpers/terminal.ts'

if (!hasChromium) {
  console.warn(`terminal browser test skipped: no ${CHROMIUM} (apt-get install -y chromium)`)
}

const [ALICE, BOB] = [DEMO_USERS[0].email, DEMO_USERS[1].email]
const PRICE = '190.00' // AAPL's reference price in the seed

let dev: DevServer
let browser: Browser
let alice: Page
let bob: Page

const ladderLevel = (page: Page, side: 'ask' | 'bid', price: string) =>
  page.locator(`.ladder tr.${side}[data-price="${price}"] td.qty.${side}`)
const positionQty = (page: Page, symbol: string) =>
  page.locator(`.positions tr[data-symbol="${symbol}"] td.qty`)
const cashShown = (page: Page) => page.locator('.cash dd[data-field="Cash"]').textContent()

/** the API as the page's user, with the access token the tab keeps */
async function apiOf(page: Page) {
  const token = await page.evaluate(`JSON.parse(sessionStorage.getItem('bourse.session')).access`)
  return createClient(dev.base, { token: String(token) })
}

/** B or S, then the quantity and the limit price typed into the ticket, then Enter */
async function order(page: Page, side: 'b' | 's', qty: number, price: string) {
  await page.locator('body').press(side)
  await page.keyboard.type(String(qty))
  await page.fill('input[name=price]', price)
  await page.locator('input[name=price]').press('Enter')
}

describe.skipIf(!hasChromium)('web terminal in Chromium', () => {
  beforeAll(async () => {
    dev = await startDevServer({ env: UNLIMITED })
    const [aliceSecret, bobSecret] = await Promise.all([
      enableTwoFactor(dev.base, ALICE),
      enableTwoFactor(dev.base, BOB),
    ])
    browser = await launchChromium()
    const open = async (email: string, secret: string, viewport: { width: number; height: number }) => {
      const context = await browser.newContext({ viewport })
      context.setDefaultTimeout(15_000)
      const page = await context.newPage()
      await logIn(page, dev.base, email, secret)
      return page
    }
    // Bob on a phone's width: the same terminal, one column
    ;[alice, bob] = await Promise.all([
      open(ALICE, aliceSecret, { width: 1440, height: 900 }),
      open(BOB, bobSecret, { width: 375, height: 812 }),
    ])
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await dev?.stop()
  }, 30_000)

  test('the terminal is served at /, and the API keeps its paths (run_worker_first)', async () => {
    const page = await fetch(`${dev.base}/`)
    expect(page.headers.get('content-type')).toStartWith('text/html')
    expect(await page.text()).toContain('<script type="module" src="/app.js">')
    expect((await fetch(`${dev.base}/app.js`)).status).toBe(200)
    expect(await (await fetch(`${dev.base}/healthz`)).json()).toEqual({ status: 'ok' })
    const described = (await (await fetch(`${dev.base}/openapi.json`)).json()) as { openapi: string }
    expect(described.openapi).toBe('3.1.0')
    expect((await fetch(`${dev.base}/docs`)).headers.get('content-type')).toStartWith('text/html')
    const missing = await fetch(`${dev.base}/no-such-file`)
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { code: string }).code).toBe('not_found')
  })

  test('each side logs in with two-factor and sees its account', async () => {
    for (const [page, email] of [
      [alice, ALICE],
      [bob, BOB],
    ] as const) {
      expect(await page.locator('.user').textContent()).toBe(email)
      await positionQty(page, 'AAPL').waitFor()
      expect(await cashShown(page)).toBe(money((await (await apiOf(page)).account()).cash))
    }
    expect(await positionQty(alice, 'AAPL').textContent()).toBe('100')
    expect(await positionQty(bob, 'AAPL').textContent()).toBe('200')
    // Bob's phone: one column, nothing wider than the screen
    expect(await bob.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375)
  })

  test('an expired access token: the parallel calls and the socket share one refresh, and the user stays logged in', async () => {
    // the tab's token replaced by one the API refuses, and marked expired: on reload the four
    // account reads get 401 while the market socket asks for a fresh token, all at once
    await alice.evaluate(`(() => {
      const saved = JSON.parse(sessionStorage.getItem('bourse.session'))
      sessionStorage.setItem('bourse.session', JSON.stringify({ ...saved, access: 'expired', expires: 0 }))
    })()`)
    await alice.reload()
    await positionQty(alice, 'AAPL').waitFor()
    await alice.locator('.status.live').waitFor()
    expect(await alice.locator('.user').textContent()).toBe(ALICE)
    expect(await alice.locator('form.login').count()).toBe(0)
    const kept = await alice.evaluate(`JSON.parse(sessionStorage.getItem('bourse.session')).access`)
    expect(kept).not.toBe('expired')
  })

  test('a refusal shows the API’s code and detail', async () => {
    await order(bob, 'b', 10, '500.00')
    const error = bob.locator('.ticket .result.error')
    await error.waitFor()
    expect(await error.textContent()).toMatch(/^price_out_of_band — /)
  })

  test('Alice’s resting sell reaches both ladders; Bob buys it; each sees the fill and the position', async () => {
    const cashBefore = await Promise.all([alice, bob].map(async (p) => (await (await apiOf(p)).account()).cash))
    await order(alice, 's', 10, PRICE)
    await alice.locator('.ticket .result.ok', { hasText: 'open' }).waitFor()
    for (const page of [alice, bob]) {
      await ladderLevel(page, 'ask', PRICE).filter({ hasText: /^10$/ }).waitFor()
    }
    // Alice sees her own shares at the level
    await alice.locator(`.ladder tr.ask[data-price="${PRICE}"] td.mine`, { hasText: '10' }).waitFor()

    await order(bob, 'b', 10, PRICE)
    await bob.locator('.ticket .result.ok', { hasText: 'filled' }).waitFor()

    for (const [page, side, shares] of [
      [alice, 'sell', '90'],
      [bob, 'buy', '210'],
    ] as const) {
      // the level is gone from the ladder, the trade is on the tape and the chart's count
      await ladderLevel(page, 'ask', PRICE).waitFor({ state: 'detached' })
      await page.locator('.tape tbody tr td.price', { hasText: PRICE }).first().waitFor()
      // the fill in the blotter
      await page.locator('.blotter .tab', { hasText: 'Fills' }).click()
      const fill = page.locator(`.blotter tr.${side}`, { hasText: 'AAPL' }).first()
      await fill.waitFor()
      expect(await fill.locator('td.qty').textContent()).toBe('10')
      expect(await fill.locator('td.price').first().textContent()).toBe('190.00')
      // the new position, its P&L at the trade's price, and the cash the API has after the fill
      await positionQty(page, 'AAPL').filter({ hasText: new RegExp(`^${shares}$`) }).waitFor()
      const user = await apiOf(page)
      const position = await user.position('AAPL')
      expect(position.last_price).toBe(PRICE)
      const pnl = page.locator('.positions tr[data-symbol="AAPL"] td[data-field="pnl"]')
      expect(await pnl.textContent()).toBe(money(position.unrealized_pnl))
      const { cash } = await user.account()
      await page.locator('.cash dd[data-field="Cash"]', { hasText: money(cash) }).waitFor()
      expect(await cashShown(page)).toBe(money(cash))
    }
    const cashAfter = await Promise.all([alice, bob].map(async (p) => (await (await apiOf(p)).account()).cash))
    // the quotes (the typed client's quote and quotes) have the trade as the last
    const aliceApi = await apiOf(alice)
    expect((await aliceApi.quote('AAPL')).last).toMatchObject({ price: PRICE, qty: 10 })
    const quotes = await aliceApi.quotes(['AAPL', 'NOPE'])
    expect([quotes.quotes.map((q) => q.symbol), quotes.unknown]).toEqual([['AAPL'], ['NOPE']])
    // the seller received and the buyer paid 10 × 190.00
    expect(cashAfter.map((c, i) => parseCents(c) - parseCents(cashBefore[i]))).toEqual([190_000, -190_000])
  })

  test('Alice amends an open order down and cancels it from the blotter', async () => {
    const price = '191.00'
    await order(alice, 's', 20, price)
    await ladderLevel(bob, 'ask', price).filter({ hasText: /^20$/ }).waitFor()

    await alice.locator('.blotter .tab', { hasText: 'Open orders' }).click()
    const row = alice.locator('.blotter tbody tr', { hasText: price })
    await row.locator('button', { hasText: 'Amend' }).click()
    const focusedAmend = () => alice.evaluate(`document.activeElement.matches('input.amend')`)
    expect(await focusedAmend()).toBe(true)
    // while amending, she places another order from the ticket: the blotter redraws with it, and
    // the focus stays where she is typing
    await alice.fill('input[name=qty]', '1')
    await alice.fill('input[name=price]', '192.00')
    await alice.locator('input[name=price]').press('Enter')
    await alice.locator('.blotter tbody tr', { hasText: '192.00' }).waitFor()
    expect(await focusedAmend()).toBe(false)
    expect(await alice.evaluate(`document.activeElement.name`)).toBe('price')

    await alice.locator('input.amend').fill('5')
    await alice.locator('input.amend').press('Enter')
    await alice.locator('.blotter .result.ok', { hasText: 'amended' }).waitFor()
    await ladderLevel(bob, 'ask', price).filter({ hasText: /^5$/ }).waitFor()

    await row.locator('button', { hasText: 'Cancel' }).click()
    await alice.locator('.blotter .result.ok', { hasText: 'canceled' }).waitFor()
    await ladderLevel(bob, 'ask', price).waitFor({ state: 'detached' })
    await alice.locator('.blotter tbody tr', { hasText: '192.00' }).locator('button', { hasText: 'Cancel' }).click()
    await alice.locator('.blotter tbody td.empty', { hasText: 'no open orders' }).waitFor()
  })

  test('an untriggered stop-limit is not on the ladder as Alice’s, and the blotter shows its stop', async () => {
    const [aliceApi, bobApi] = await Promise.all([apiOf(alice), apiOf(bob)])
    const bid = await bobApi.placeOrder({ symbol: 'AAPL', side: 'buy', type: 'limit', qty: 10, price: '185.00', time_in_force: 'day' })
    // a sell stop at 186.00 waits for the price to fall there (the last trade was 190.00)
    const stop = await aliceApi.placeOrder({
      symbol: 'AAPL',
      side: 'sell',
      type: 'stop_limit',
      qty: 5,
      price: '185.00',
      stop_price: '186.00',
      time_in_force: 'gtc',
    })
    const blotterRow = alice.locator(`.blotter tr[data-order="${stop.id}"]`)
    await blotterRow.waitFor()
    expect(await blotterRow.locator('td.stop').textContent()).toBe('186.00')
    await ladderLevel(alice, 'bid', '185.00').filter({ hasText: /^10$/ }).waitFor()
    expect(await alice.locator('.ladder tr.bid[data-price="185.00"] td.mine').textContent()).toBe('')
    await Promise.all([aliceApi.cancelOrder(stop.id), bobApi.cancelOrder(bid.id)])
    await blotterRow.waitFor({ state: 'detached' })
  })

  test('an older GTC order stays in the blotter and on the ladder after 100 newer orders ended', async () => {
    const aliceApi = await apiOf(alice)
    const old = await aliceApi.placeOrder({ symbol: 'AAPL', side: 'sell', type: 'limit', qty: 3, price: '195.00', time_in_force: 'gtc' })
    // 150 newer orders, each ended at once (IOC buys with nothing to meet at 180.00)
    const ioc = { symbol: 'AAPL', side: 'buy', type: 'limit', qty: 1, price: '180.00', time_in_force: 'ioc' } as const
    for (let batch = 0; batch < 3; batch++) {
      const reply = await aliceApi.placeBatch(Array(50).fill(ioc), { idempotencyKey: `old-gtc-${Date.now()}-${batch}` })
      expect(reply.placed).toBe(50)
    }
    await alice.reload()
    await alice.locator('.blotter .tab', { hasText: 'Open orders' }).click()
    await alice.locator(`.blotter tr[data-order="${old.id}"]`).waitFor()
    await alice.locator('.ladder tr.ask[data-price="195.00"] td.mine', { hasText: '3' }).waitFor()
    await alice.locator(`.blotter tr[data-order="${old.id}"] button`, { hasText: 'Cancel' }).click()
    await alice.locator('.blotter .result.ok', { hasText: `canceled #${old.id}` }).waitFor()
  })

  test('problems show in the status bar: a failed reload (then cleared), an error the market socket sends', async () => {
    const aliceApi = await apiOf(alice)
    // the account reads fail for a while (as a 503 from a proxy would)
    const unavailable = { type: 'https://bourse.dev/problems/unavailable', title: 'Service Unavailable', status: 503, code: 'unavailable', detail: 'try again shortly', instance: '/v1/account' }
    await alice.route('**/v1/account', (route) =>
      route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify(unavailable) }),
    )
    const resting = { symbol: 'AAPL', side: 'sell', type: 'limit', qty: 1, price: '199.00', time_in_force: 'gtc' } as const
    const placed = await aliceApi.placeOrder(resting)
    await alice.locator('.status.problem', { hasText: 'unavailable — try again shortly' }).waitFor()
    await alice.unroute('**/v1/account')
    await aliceApi.cancelOrder(placed.id)
    await alice.locator('.status.problem').waitFor({ state: 'detached' })

    // the market socket's own error message ({type:'error'}), passed through a routed socket
    await alice.routeWebSocket(/\/v1\/market-data\//, (page) => {
      const server = page.connectToServer()
      page.onMessage((message) => {
        server.send(message)
        if (String(message).includes('subscribe')) {
          page.send(JSON.stringify({ type: 'error', code: 'bad_channel', message: 'no such channel' }))
        }
      })
    })
    await alice.reload()
    await alice.locator('.status.problem', { hasText: 'bad_channel — no such channel' }).waitFor()
    await alice.unrouteAll()
    await alice.reload()
    await alice.locator('.status.live').waitFor()
  })

  test('a user without two-factor turns it on from the terminal, logs in again with a code and may trade', async () => {
    const email = `carol-${Date.now()}@terminal.test`
    await createClient(dev.base).register({ email, password: DEMO_PASSWORD })
    const page = await (await browser.newContext()).newPage()
    await page.goto(dev.base)
    await page.fill('input[name=email]', email)
    await page.fill('input[name=password]', DEMO_PASSWORD)
    await page.click('form.login button[type=submit]')

    // no code asked: the account has none; the ticket says why orders need one
    await page.locator('.twofactor button', { hasText: 'Turn on two-factor' }).click()
    const secret = (await page.locator('.twofactor .secret').textContent())!.replaceAll(' ', '')
    await page.fill('input[name=totp]', await totpAt(secret, currentStep()))
    await page.locator('.twofactor button', { hasText: 'Confirm' }).click()
    await page.locator('.twofactor button', { hasText: 'Log in again' }).click()

    await page.fill('input[name=email]', email)
    await page.fill('input[name=password]', DEMO_PASSWORD)
    await page.click('form.login button[type=submit]')
    await page.fill('input[name=otp]', await totpAt(secret, currentStep() + 1))
    await page.click('form.login button[type=submit]')
    await page.locator('.status.live').waitFor()
    expect(await page.locator('.twofactor').isHidden()).toBe(true)

    // past the second factor: an empty account's order is refused for its buying power
    await order(page, 'b', 1, PRICE)
    const error = page.locator('.ticket .result.error')
    await error.waitFor()
    expect(await error.textContent()).toMatch(/^insufficient_buying_power — /)
    await page.context().close()
  })
})
