// Builds the web trading terminal (src/terminal) into dist/terminal, the directory wrangler.toml's
// [assets] serves: app.js (the TypeScript bundled by esbuild), style.css, index.html. Generated,
// never committed. Each file is written whole and renamed into place, so a Worker serving the
// directory while another build runs never reads half a file.
//   node scripts/build-terminal.mjs     (also imported: buildTerminal(), typed in the .d.mts)
import { build } from 'esbuild'
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const source = join(root, 'src', 'terminal')
export const terminalDir = join(root, 'dist', 'terminal')

export async function buildTerminal() {
  mkdirSync(terminalDir, { recursive: true })
  const result = await build({
    entryPoints: { app: join(source, 'main.ts'), style: join(source, 'terminal.css') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    outdir: terminalDir,
    entryNames: '[name]',
    write: false,
    metafile: true,
    logLevel: 'warning',
  })
  const tag = `${process.pid}.${Date.now()}`
  for (const file of result.outputFiles) place(file.path, (tmp) => writeFileSync(tmp, file.contents), tag)
  const page = join(terminalDir, 'index.html')
  place(page, (tmp) => copyFileSync(join(source, 'index.html'), tmp), tag)
  return {
    files: result.outputFiles.map((f) => basename(f.path)).concat('index.html'),
    /** every source file in the bundle, relative to the project's root */
    inputs: Object.keys(result.metafile.inputs),
  }
}

function place(path, write, tag) {
  const tmp = `${path}.${tag}.tmp`
  write(tmp)
  renameSync(tmp, path)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { files } = await buildTerminal()
  process.stderr.write(`terminal: ${files.join(', ')} → dist/terminal\n`)
}
