// The numbers of the wire protocol between the wasm state machine and the JS driver
// (docs/protocol.md), and the driver's own small enums. This module imports nothing, on
// purpose: esbuild inlines the constants of such a module wherever they are used (those of a
// module with imports stay variables).

// Commands out (`[code, a, b, c, d, e, f, g]`).
export const OPEN_OP = 1;
export const START_FETCH = 2;
export const ABORT_FETCH = 3;
export const READ_BODY = 4;
export const DISCARD = 5;
export const RESOLVE_BODY = 6;
export const RESOLVE_RESPONSE = 7;
export const REJECT = 8;
export const RUN_TASK = 9;
export const DROP_BODY = 10;
export const STORE_READ = 11;
export const STORE_WRITE = 12;
export const STORE_DELETE = 13;
export const EMIT = 14;
export const SET_HEADERS = 15;
export const CLOSE_OP = 16;
export const LIMIT = 17;

/** Error kinds by number (REJECT's `kind`, the high bits of a `settled` event's code). */
export const KINDS = [undefined, 'http', 'network', 'timeout', 'abort', 'rate-limit', 'decode', 'missing', 'cache', 'closed'];
/** Where an answer came from, by number. */
export const SOURCES = [undefined, 'network', 'memory', 'persistent', 'dedupe', 'revalidated'];
/** Event types by number (EMIT's `type`). */
export const EVENT_TYPES = [undefined, 'queued', 'start', 'retry', 'cache-hit', 'rate-limited', 'settled', 'cache-update', 'cache-error'];
/** Why an adaptive limit changed, by number (LIMIT's `c`). */
export const LIMIT_REASONS = [undefined, 'latency', 'overload', 'probe', 'remeasure'];
/** Why an attempt is retried, by number (a `retry` event's code). */
export const RETRY_REASONS = [undefined, 'status', 'network', 'timeout'];

/** The event types `on` accepts, in the order its error message lists them. */
export const EVENT_NAMES = [...EVENT_TYPES.slice(1), 'limit', 'uncompressed', 'outbox-sent', 'outbox-retry', 'outbox-drop'];

/** Lanes as `fl_submit` / `fl_task` number them. */
export const LANES = { critical: 0, normal: 1, background: 2 };
/** Cache strategies as `fl_cache` / `fl_submit` number them (0: the client's). */
export const STRATEGIES = {
  'cache-first': 1,
  'network-first': 2,
  'stale-while-revalidate': 3,
  'network-only': 4,
  'cache-only': 5,
  none: 6,
};

/** What a call hands back: the Response, its body parsed as JSON, or as text. */
export const AS_RESPONSE = 0;
export const AS_JSON = 1;
export const AS_TEXT = 2;
/** A `schedule` task: its own value, untouched. */
export const AS_TASK = 3;

// A caller's state.
export const PENDING = 0;
export const FULFILLED = 1;
export const REJECTED = 2;
