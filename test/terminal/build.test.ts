// The terminal's build (scripts/build-terminal.mjs): the files wrangler.toml's [assets] serves,
// and a bundle made of the terminal, the typed client and src/lib/money.ts (no imports) alone. The client takes the server's
// types only; a value imported from the server by mistake would ship it (and zod, drizzle…) to
// every browser, and shows up here.
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildTerminal, terminalDir } from '../../scripts/build-terminal.mjs'

test('dist/terminal: the page, its script and its style, bundled from src/terminal, src/client, money.ts and read-checks.ts only', async () => {
  const { files, inputs } = await buildTerminal()
  expect(files.sort()).toEqual(['app.js', 'index.html', 'style.css'])
  const shipped = (path: string) =>
    /^src\/(terminal|client)\//.test(path) || ['src/lib/money.ts', 'src/lib/read-checks.ts'].includes(path)
  expect(inputs.filter((path) => !shipped(path))).toEqual([])
  expect(inputs).toContain('src/lib/money.ts')
  expect(inputs).toContain('src/client/index.ts')
  const page = readFileSync(join(terminalDir, 'index.html'), 'utf8')
  expect(page).toContain('<script type="module" src="/app.js">')
  expect(page).toContain('<link rel="stylesheet" href="/style.css">')
})
