// The dev server for tests: the same one the API benchmark starts (scripts/lib/dev-server.ts).
export { startDevServer } from '../../scripts/lib/dev-server.ts'
export type { DevServer, DevServerOptions } from '../../scripts/lib/dev-server.ts'
