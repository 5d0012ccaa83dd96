// The Worker entry point. Durable Object classes (issue 4) are exported from here too.
import { createApp } from './app.ts'

export default createApp()
