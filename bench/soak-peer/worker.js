// bench:soak's peer: the most trivial Worker that does what each of Bourse's requests does at its
// edges (reads a JSON body, logs one line, answers JSON), run by the same wrangler dev at the same
// rate, so the memory of its two workerd processes is the platform's own under that load.
export default {
  async fetch(request) {
    const body = request.method === 'POST' ? await request.json() : null
    const path = new URL(request.url).pathname
    console.log(JSON.stringify({ level: 'info', msg: 'request', path, qty: body?.qty ?? null }))
    return Response.json({ id: crypto.randomUUID(), status: 'open', qty: body?.qty ?? null }, { status: 201 })
  },
}
