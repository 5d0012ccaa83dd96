// npm run db:migrate — applies drizzle/*.sql to DATABASE_URL (Neon, or a local Postgres through
// a temporary WebSocket proxy). Safe to rerun: applied migrations are recorded in
// drizzle.__drizzle_migrations.
import { connect, runMigrations } from './lib/db.ts'

const url = process.env.DATABASE_URL
if (!url) {
  console.error('DATABASE_URL is not set (npm run dev migrates the embedded database by itself)')
  process.exit(2)
}
const db = await connect(url)
try {
  await runMigrations(db)
  console.error(`migrations applied to ${new URL(url).host}${new URL(url).pathname}`)
} finally {
  await db.close()
}
