// The chaos build: the Worker bundled once, with the test-only hooks on (__CHAOS_HOOKS__, see
// src/chaos-hooks.d.ts), for wrangler dev to run as is (--no-bundle): each restart after a kill -9
// then skips bundling, the longest part of wrangler's start after its own.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const root = new URL('../../..', import.meta.url).pathname

export interface ChaosBuild {
  /** wrangler dev arguments that run this build */
  wranglerArgs: string[]
  remove(): void
}

export async function buildWithHooks(): Promise<ChaosBuild> {
  const outdir = mkdtempSync(join(tmpdir(), 'bourse-chaos-build-'))
  await promisify(execFile)(
    join(root, 'node_modules/.bin/wrangler'),
    ['deploy', '--dry-run', '--outdir', outdir, '--define', '__CHAOS_HOOKS__:true'],
    { cwd: root },
  )
  return {
    // --config: with a script given, wrangler would look for its configuration beside it
    wranglerArgs: [
      ...['--config', join(root, 'wrangler.toml')],
      ...['--no-bundle', join(outdir, 'index.js')],
    ],
    remove: () => rmSync(outdir, { recursive: true, force: true }),
  }
}
