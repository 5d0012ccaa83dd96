// Runs never-reader.mjs in a Node process (see there for why Node): `upgraded` settles once its
// WebSocket is open and no longer read, so a test can start sending only then; `result` with
// what it had received when it read again.
export interface NeverReaderResult {
  bytes: number
  frames: number
  closeCodes: number[]
}

export function neverReader(base: string, path: string, bearer: string, seconds: number, { ping = false } = {}) {
  const script = new URL('./never-reader.mjs', import.meta.url).pathname
  const args = [base, path, bearer, String(seconds), ...(ping ? ['ping'] : [])]
  const child = Bun.spawn(['node', script, ...args], { stdout: 'pipe', stderr: 'pipe' })
  const upgraded = (async () => {
    let said = ''
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      said += chunk
      if (said.includes('upgraded\n')) return
    }
    throw new Error(`never-reader did not upgrade: ${said}`)
  })()
  const result = new Response(child.stdout).text().then((text) => JSON.parse(text) as NeverReaderResult)
  return { upgraded, result }
}
