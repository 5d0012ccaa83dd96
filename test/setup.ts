// Preloaded by bunfig.toml: closes (and for DATABASE_URL runs, drops) the shared test database
// after the last test file. Nothing starts unless a test asks for the database.
import { afterAll } from 'bun:test'
import { closeTestDatabase } from './helpers/db.ts'

afterAll(async () => {
  await closeTestDatabase()
})
