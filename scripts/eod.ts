// `npm run eod [-- --date YYYY-MM-DD] [--url URL]`: closes a trading day on a running Bourse (by
// default `npm run dev`'s, http://127.0.0.1:8787) through POST /v1/admin/eod, the code path the
// Cron Trigger takes (src/settlement/eod.ts). Logs in as ADMIN_EMAIL / ADMIN_PASSWORD (default:
// the demo admin). Prints the report as JSON; exits 1 on a refusal (not a trading day, before
// the close) with the problem on stderr.
import { parseArgs } from 'node:util'
import { DEMO_PASSWORD, DEMO_USERS } from '../src/db/seed.ts'

const { values } = parseArgs({
  options: { date: { type: 'string' }, url: { type: 'string', default: 'http://127.0.0.1:8787' } },
})
const email = process.env.ADMIN_EMAIL ?? DEMO_USERS.find((u) => u.role === 'admin')!.email
const password = process.env.ADMIN_PASSWORD ?? DEMO_PASSWORD

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(values.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  })
  return { ok: res.ok, body: (await res.json()) as Record<string, unknown> }
}

const login = await post('/v1/auth/login', { email, password })
if (!login.ok) {
  console.error(JSON.stringify(login.body))
  process.exit(1)
}
const report = await post('/v1/admin/eod', values.date ? { date: values.date } : {}, String(login.body.access_token))
if (!report.ok) {
  console.error(JSON.stringify(report.body))
  process.exit(1)
}
console.log(JSON.stringify(report.body))
