// The Hono environment shared by every route module.
import type { Db } from './db/client.ts'
import type { Env, Settings } from './env.ts'
import type { AccessClaims } from './auth/tokens.ts'

export interface AppEnv {
  Bindings: Env
  Variables: {
    settings: Settings
    db: Db
    auth: AccessClaims
  }
}
