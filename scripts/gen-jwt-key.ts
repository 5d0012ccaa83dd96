// Prints a new EC P-256 private JWK for JWT_PRIVATE_KEY:
//   npx tsx scripts/gen-jwt-key.ts | npx wrangler secret put JWT_PRIVATE_KEY
import { generateSigningKey } from '../src/auth/keys.ts'

process.stdout.write(`${await generateSigningKey()}\n`)
