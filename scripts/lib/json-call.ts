// One request to the API with the answer as it came (status, headers, JSON body), refusals
// included: the e2e tests' raw calls and the chaos client's attempts. (The typed client in
// src/client throws on a refusal and keeps no headers, so it cannot stand in here.)

export type Json = Record<string, any>
export type Auth = Record<string, string>
export interface Reply {
  status: number
  headers: Headers
  body: Json
}

export async function callJson(
  base: string,
  method: string,
  path: string,
  auth: Auth,
  body?: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Reply> {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...auth,
      ...headers,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal,
  })
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json }
}
