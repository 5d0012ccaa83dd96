// The binary interface between the book and its host. Commands and events cross as fixed-size
// records of i32 words in linear memory, in batches; src/engine/abi.ts mirrors these numbers
// (a test checks that the two files agree).

// Command record: [op, flags, id lo, id hi, user, qty, price, stop]
export const COMMAND_WORDS: i32 = 8
export const COMMAND_CAPACITY: i32 = 4096

export const OP_NEW: i32 = 1
export const OP_CANCEL: i32 = 2
export const OP_AMEND: i32 = 3
export const OP_CLOSE: i32 = 4

// Order flags: side in bit 0, type in bits 1-2, time in force in bits 3-4, post-only in bit 5.
export const FLAG_SELL: i32 = 1
export const TYPE_SHIFT: i32 = 1
export const TIF_SHIFT: i32 = 3
export const FLAG_POST_ONLY: i32 = 32
/** Set by the book on a stop that waits for its trigger; never sent by the host. */
export const FLAG_PENDING: i32 = 64

export const TYPE_LIMIT: i32 = 0
export const TYPE_MARKET: i32 = 1
export const TYPE_STOP: i32 = 2
export const TYPE_STOP_LIMIT: i32 = 3

export const TIF_GTC: i32 = 0
export const TIF_DAY: i32 = 1
export const TIF_IOC: i32 = 2
export const TIF_FOK: i32 = 3

// Event record: [type, reason or taker side, id lo, id hi, maker lo, maker hi, qty, price]
export const EVENT_WORDS: i32 = 8

export const EV_FILL: i32 = 1
export const EV_RESTED: i32 = 2
export const EV_PENDING: i32 = 3
export const EV_CANCELED: i32 = 4
export const EV_REJECTED: i32 = 5
export const EV_AMENDED: i32 = 6
export const EV_TRIGGERED: i32 = 7
export const EV_EXPIRED: i32 = 8

export const REASON_SELF_TRADE: i32 = 1
export const REASON_FOK: i32 = 2
export const REASON_IOC: i32 = 3
export const REASON_NO_LIQUIDITY: i32 = 4
export const REASON_USER: i32 = 5
export const REASON_POST_ONLY: i32 = 11
export const REASON_DUPLICATE_ID: i32 = 12
export const REASON_INVALID: i32 = 13
export const REASON_UNKNOWN_ORDER: i32 = 14
export const REASON_INVALID_AMEND: i32 = 15

// Depth record: [price, orders, qty lo, qty hi]
export const DEPTH_WORDS: i32 = 4

export const MAX_QTY: i32 = 1_000_000_000
export const MAX_PRICE: i32 = 2_000_000_000
