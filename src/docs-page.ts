// GET /docs: an interactive reference of /openapi.json, one self-contained page (no CDN: it must
// work offline under `npm run dev`). Filter by typing; each operation opens to its parameters and
// request body schema.
export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Bourse API reference</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#0f1115;color:#e6e6e6}
header{padding:16px 20px;border-bottom:1px solid #222;position:sticky;top:0;background:#0f1115}
input{width:100%;max-width:520px;padding:8px 10px;border-radius:6px;border:1px solid #333;background:#181b22;color:inherit}
main{padding:8px 20px 40px}h2{font-size:13px;text-transform:uppercase;color:#8a94a6;margin:24px 0 8px}
details{border:1px solid #222;border-radius:6px;margin:6px 0;background:#151820}
summary{cursor:pointer;padding:8px 10px;font-family:ui-monospace,monospace}
.m{display:inline-block;min-width:62px;font-weight:700}.get{color:#6cc4ff}.post{color:#7ee08a}.patch{color:#f5c26b}.delete{color:#ff7b72}
.note{color:#8a94a6;font-family:system-ui;margin-left:8px}pre{margin:0;padding:10px;overflow:auto;background:#0c0e12;border-top:1px solid #222;font-size:13px}
</style></head><body>
<header><strong>Bourse API</strong> · <a href="/openapi.json" style="color:#6cc4ff">openapi.json</a>
<div style="margin-top:8px"><input id="q" placeholder="Filter: path, method or tag (press / to focus)" autofocus></div></header>
<main id="out">Loading…</main>
<script>
const out = document.getElementById('out'), q = document.getElementById('q')
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])
let ops = []
fetch('/openapi.json').then((r) => r.json()).then((doc) => {
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods)) ops.push({ path, method, op })
  render()
})
function render() {
  const f = q.value.toLowerCase()
  const shown = ops.filter(({ path, method, op }) => (method + ' ' + path + ' ' + op.tags.join(' ')).toLowerCase().includes(f))
  const tags = [...new Set(shown.map((o) => o.op.tags[0]))]
  out.innerHTML = tags.map((t) => '<h2>' + esc(t) + '</h2>' + shown.filter((o) => o.op.tags[0] === t).map(({ path, method, op }) =>
    '<details><summary><span class="m ' + method + '">' + method.toUpperCase() + '</span>' + esc(path) +
    (op.security ? '<span class="note">🔒 bearer</span>' : '') + (op.description ? '<span class="note">' + esc(op.description) + '</span>' : '') +
    '</summary><pre>' + esc(JSON.stringify({ parameters: op.parameters, requestBody: op.requestBody && op.requestBody.content['application/json'].schema }, null, 2)) + '</pre></details>').join('')).join('') || 'No match.'
}
q.addEventListener('input', render)
addEventListener('keydown', (e) => { if (e.key === '/' && document.activeElement !== q) { e.preventDefault(); q.focus() } })
</script></body></html>`
