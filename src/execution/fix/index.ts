// The FIX 4.4 layer: codec, session state machine, its store, and the order-flow messages.
// Pure and transport-agnostic: the caller owns the socket and the clock.

export { decode, encode, FixFramer, getField, getFields, msgTypeOf } from './codec.ts'
export type { Field, FixMessage, FrameResult } from './codec.ts'
export { FixFieldError, RejectReason, formatPrice, parsePrice } from './fields.ts'
export { fromFix, orderFlow, toFix } from './messages.ts'
export type * from './messages.ts'
export { FixSession } from './session.ts'
export type { SessionConfig, SessionEvent, SessionOutput, SessionState } from './session.ts'
export { MemorySessionStore } from './store.ts'
export type { SentMessage, SessionStore } from './store.ts'
export type { ApplicationDictionary } from './validate.ts'
