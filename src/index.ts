// The Worker entry point: the HTTP app, and the Durable Object classes wrangler.toml binds.
import { createApp } from './app.ts'

export { SymbolBook } from './do/symbol-book.ts'

export default createApp()
