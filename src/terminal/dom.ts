// DOM and number helpers: an element builder, quantities and times shown, problems as text.
import { ApiError } from '../client/index.ts'

type Attrs = Record<string, string | number | boolean | undefined | EventListener>

type TagName<T extends string> = T extends `${infer Name}.${string}` ? Name : T
/** the element a tag makes: 'input.amend' an HTMLInputElement (a computed class: `tr.${side}`) */
type ElementOf<T extends string> =
  TagName<T> extends keyof HTMLElementTagNameMap ? HTMLElementTagNameMap[TagName<T>] : HTMLElement

/** h('div.ladder', {title: 'x'}, child, 'text') — classes after dots, on* attributes listen. */
export function h<T extends string>(
  tag: T,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined | false)[]
): ElementOf<T> {
  const [name, ...classes] = tag.split('.')
  const el = document.createElement(name) as ElementOf<T>
  if (classes.length) el.className = classes.join(' ')
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue
    if (typeof value === 'function') el.addEventListener(key.slice(2), value)
    else if (value === true) el.setAttribute(key, '')
    else el.setAttribute(key, String(value))
  }
  // (appendChild: the Workers types, in the same program for the client's server types, give
  // Element an append() of their own)
  for (const child of children) {
    if (!child && child !== '') continue
    el.appendChild(typeof child === 'string' ? document.createTextNode(child) : child)
  }
  return el
}

export const $ = <E extends Element = HTMLElement>(selector: string, scope: ParentNode = document) =>
  scope.querySelector<E>(selector)!

export const qty = (n: number) => n.toLocaleString('en-US')
export const time = (ts: number | string) =>
  new Date(ts).toLocaleTimeString('en-GB', { hour12: false })

/** a problem's code and what it says, as the API's refusals and the sockets' errors give them */
export const problemLine = (code: string, detail: string) => `${code} — ${detail}`

/** A refusal as the API gave it: its code, its detail, and the fields it names. */
export function problemText(err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err)
  const { code, detail, errors } = err.problem
  const fields = Array.isArray(errors)
    ? (errors as { path: string; message: string }[]).map((e) => `${e.path || 'body'}: ${e.message}`)
    : []
  return [problemLine(code, detail), ...fields].join('\n')
}
