import { defineConfig } from 'drizzle-kit'

// `npm run db:generate` writes SQL migrations to drizzle/ from src/db/schema.ts (no database
// needed). `npm run db:migrate` applies them (scripts/migrate.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
})
