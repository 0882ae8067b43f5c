// The options of the npm package, declared once: every key of every options object with what
// it takes and its default (`OPTIONS`), and the functions that check what a caller passes
// against that declaration and hand back a normalized copy. The allowed values are said in
// the comments and in the checks' messages: nothing reads a description at run time, so none
// ships.
//
// The checks and their messages are the ones the Rust bindings made before the driver moved
// to JS (src/bindings/options.rs, values.rs, loader.rs, paginate.rs; src/client/config.rs):
// a wrong type is a `TypeError`, a value out of range a `RangeError`, an unknown key a
// `TypeError` listing the known ones, and every message reads
// "fetchlane: option `<path>` <what is expected> (got <what was found>)".
//
// tests/types/options-sync.mjs keeps the key sets of `OPTIONS` equal to the interfaces of
// js/index.d.ts.

import { describe } from './errors.js';
import { LANES, STRATEGIES } from './protocol.js';
import { pageUrl } from './request.js';
import { traceOf } from './observe.js';

// ───────────────────────────── types ─────────────────────────────

/**
 * One option of a table.
 * @typedef {object} Option What an option takes is spelt in js/index.d.ts, whose interfaces
 *   tests/types/options-sync.mjs holds to these tables key by key; nothing here repeats it.
 * @property {unknown} [default] The value an absent option takes, written as a caller would
 *   write it (it goes through `read` like theirs). Absent: the option stays `undefined`.
 * @property {boolean} [required] Whether the option must be present.
 * @property {(value: unknown, path: string) => unknown} read Checks a present value (`path`
 *   names it in errors) and returns it normalized; throws a `TypeError` or `RangeError`.
 */

/** @typedef {Readonly<Record<string, Option>>} Table */

/** @typedef {'critical' | 'normal' | 'background'} Lane */
/** @typedef {'cache-first' | 'network-first' | 'stale-while-revalidate' | 'network-only' | 'cache-only'} CacheStrategy */
/** @typedef {'json' | 'text' | 'response'} ResultFormat */
/** @typedef {(input: Request, init?: RequestInit) => Promise<Response>} Transport */
/** @typedef {(event: object) => void} EventListener */
/** @typedef {(progress: { done: number, total: number, failed: number }) => void} ProgressListener */

/**
 * A normalized retry policy.
 * @typedef {object} RetryPolicy
 * @property {number} limit Retries after the first attempt (0 to 1000).
 * @property {string[]} methods Retried methods, upper case.
 * @property {number[]} statusCodes Retried statuses (100 to 599).
 * @property {number} backoffMs First backoff ceiling, ms.
 * @property {number} factor Growth of the ceiling per retry (>= 1).
 * @property {number} maxBackoffMs Largest ceiling, ms.
 * @property {boolean} jitter Full jitter.
 * @property {number} maxRetryAfterMs Longest server-ordered wait honoured, ms (may be `Infinity`).
 * @property {boolean} retryOnTimeout Whether a timed-out attempt is retried.
 */

/**
 * @typedef {object} RateLimit
 * @property {number} limit Starts per window (1 to 2^32 - 1; more counts as 2^32 - 1).
 * @property {number} intervalMs The window, ms.
 * @property {string | undefined} host The host it applies to; `undefined`: every request.
 */

/**
 * @typedef {object} PersistConfig
 * @property {string} name Part of the Cache API cache's name (not empty).
 * @property {number | undefined} maxEntries
 * @property {number | undefined} maxAgeMs
 */

/**
 * @typedef {object} CacheConfig
 * @property {CacheStrategy} strategy
 * @property {number | undefined} ttlMs
 * @property {number} maxEntries
 * @property {number} maxBytes
 * @property {string} namespace
 * @property {false | PersistConfig} persist
 * @property {boolean} allowPrivate
 */

/**
 * The normalized `createClient` options.
 * @typedef {object} ClientConfig
 * @property {string | undefined} baseUrl Absolute (`URL.href`).
 * @property {number} concurrency A positive integer or `Infinity`.
 * @property {number} perHost A positive integer or `Infinity`.
 * @property {RateLimit[]} rateLimits
 * @property {RetryPolicy} retry
 * @property {number | undefined} timeoutMs
 * @property {number | undefined} totalTimeoutMs
 * @property {false | CacheConfig} cache
 * @property {boolean} dedupe
 * @property {[string, string][]} headers As `Headers` iterates them (lower-case names).
 * @property {Transport | undefined} fetch
 * @property {EventListener | undefined} onEvent
 * @property {boolean} throwHttpErrors
 * @property {false | { min: number, max: number, initial: number }} adaptive
 * @property {{ param: string, project: boolean }} fields
 * @property {number | undefined} compressOver
 * @property {false | { track: string }} timing
 * @property {Array<string | RegExp> | undefined} propagate origins (`URL.origin`) and patterns
 * @property {(() => unknown) | undefined} traceparent
 * @property {{ whenHidden: 'run' | 'pause', whenOffline: 'run' | 'pause' }} background
 * @property {{ name: string } | undefined} share
 */

/**
 * The normalized `LaneInit` of one request. Unset fields take the client's value.
 * @typedef {object} LaneOptions
 * @property {Lane} lane
 * @property {CacheStrategy | 'none' | undefined} strategy
 * @property {number | undefined} ttlMs
 * @property {number | undefined} timeoutMs
 * @property {number | undefined} totalTimeoutMs
 * @property {RetryPolicy | undefined} retry
 * @property {boolean | undefined} dedupe
 * @property {string | undefined} key
 * @property {string[] | undefined} fields sorted, unique
 * @property {'gzip' | 'deflate' | undefined} compress
 * @property {[string, string] | undefined} traceparent the parent's trace id and flags
 * @property {AbortSignal | undefined} signal `signal: null` gives `undefined`.
 * @property {Record<string, unknown>} requestInit The standard `RequestInit` keys the caller
 *   passed (not `undefined`), unchecked, for the `Request` constructor; never `signal`, which
 *   is the field above.
 */

/**
 * @typedef {object} GroupConfig
 * @property {ResultFormat} as
 * @property {boolean} abortOnFailure
 * @property {ProgressListener | undefined} onProgress
 */

/**
 * @typedef {object} ScheduleConfig
 * @property {Lane} lane
 * @property {AbortSignal | undefined} signal
 * @property {string | undefined} host
 */

/**
 * The normalized `OutboxOptions`.
 * @typedef {object} OutboxConfig
 * @property {string} idempotencyHeader
 * @property {number} maxAgeMs
 * @property {{ backoffMs: number, factor: number, maxBackoffMs: number, jitter: boolean }} retry
 * @property {{ maxItems: number, maxBytes: number | undefined, maxWaitMs: number } | undefined} batch
 */

/**
 * The normalized `LoaderOptions`.
 * @typedef {object} LoaderConfig
 * @property {string | ((keys: unknown[]) => unknown)} url The absolute batch URL template (still
 *   holding `{keys}`), or the caller's function of the keys.
 * @property {string | ((item: unknown) => unknown)} key A field name, or the caller's function of
 *   an item.
 * @property {((body: unknown) => unknown) | undefined} select
 * @property {number} maxBatchSize A positive integer or `Infinity`.
 * @property {number} windowMs
 * @property {number} maxUrlLength A positive integer or `Infinity`.
 * @property {boolean} cache
 * @property {Lane} lane
 * @property {[string, string][]} headers
 * @property {RetryPolicy | undefined} retry
 * @property {number | undefined} timeoutMs
 * @property {number | undefined} totalTimeoutMs
 * @property {CacheStrategy | 'none' | undefined} strategy
 * @property {number | undefined} ttlMs
 */

/**
 * The normalized `PaginateOptions`: the first page's `LaneInit` plus paginate's own keys.
 * @typedef {LaneOptions & {
 *   next: ((body: unknown, response: Response) => unknown) | undefined,
 *   prefetch: number,
 * }} PaginateConfig
 */

// ───────────────────────────── values and errors ─────────────────────────────

/**
 * The error for option `path`: "fetchlane: option `path` expected", plus " (got …)" when the
 * offending value is given.
 * @param {TypeErrorConstructor | RangeErrorConstructor} Kind
 * @param {string} path
 * @param {string} expected
 * @param {unknown[]} got At most one value: the one that was found.
 * @returns {TypeError | RangeError}
 */
function problem(Kind, path, expected, ...got) {
  let message = `fetchlane: option \`${path}\` ${expected}`;
  if (got.length > 0) message += ` (got ${describe(got[0])})`;
  return new Kind(message);
}

/**
 * `path.key`, or `key` when `path` is empty.
 * @param {string} path
 * @param {string} key
 */
function join(path, key) {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * `path[i]`.
 * @param {string} path
 * @param {number} i
 */
function index(path, i) {
  return `${path}[${i}]`;
}

/**
 * `object[key]`; a throwing getter counts as absent (`undefined`).
 * @param {object} object
 * @param {string} key
 * @returns {unknown}
 */
function get(object, key) {
  try {
    return Reflect.get(object, key);
  } catch {
    return undefined;
  }
}

/**
 * An options object: `undefined` and `null` give `undefined`; anything else that is not an
 * object (a function and an array are not) is a `TypeError` naming `path`.
 * @param {unknown} value
 * @param {string} path
 * @returns {object | undefined}
 */
function asObject(value, path) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw problem(TypeError, path, 'must be an object', value);
  return value;
}

/**
 * Refuses any own enumerable key of `object` that is not in `known`, so that a misspelt
 * option never passes silently.
 * @param {object} object
 * @param {readonly string[]} known
 * @param {string} path
 */
function checkKeys(object, known, path) {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      const of = path === '' ? '' : ` of \`${path}\``;
      throw problem(TypeError, join(path, key), `is not a known option${of}; known: ${known.join(', ')}`);
    }
  }
}

/**
 * Checks `object` against `table` and returns one normalized value per key of the table, in
 * the table's order: unknown keys first, then missing required ones, then each value.
 * @param {Table} table
 * @param {object} object
 * @param {string} path
 * @returns {Record<string, unknown>}
 */
function decode(table, object, path) {
  const options = Object.entries(table);
  checkKeys(object, options.map(([key]) => key), path);
  const given = options.map(([key]) => get(object, key));
  options.forEach(([key, option], i) => {
    if (option.required && given[i] === undefined) throw problem(TypeError, join(path, key), 'is required');
  });
  /** @type {Record<string, unknown>} */
  const out = {};
  options.forEach(([key, option], i) => {
    const value = given[i] === undefined ? option.default : given[i];
    out[key] = value === undefined ? undefined : option.read(value, join(path, key));
  });
  return out;
}

// ───────────────────────────── readers ─────────────────────────────

/**
 * A reader of values of one `typeof`.
 * @param {string} type
 * @param {string} expected what the message says it must be
 * @returns {(value: unknown, path: string) => any}
 */
const typed = (type, expected) => (value, path) => {
  if (typeof value !== type) throw problem(TypeError, path, expected, value);
  return value;
};

/** @type {(value: unknown, path: string) => number} */
const readNumber = typed('number', 'must be a number');
/** @type {(value: unknown, path: string) => boolean} */
const readBoolean = typed('boolean', 'must be true or false');
/** @type {(value: unknown, path: string) => string} */
const readString = typed('string', 'must be a string');
/** @type {(value: unknown, path: string) => (...args: never[]) => unknown} */
const readFunction = typed('function', 'must be a function');

/**
 * The largest count the wasm side holds (`usize::MAX` on wasm32); a limit this large means
 * no limit, and a budget is capped at it.
 */
const MAX_COUNT = 4294967295;

/**
 * A positive integer or `Infinity`; from `MAX_COUNT` up, `Infinity`.
 * @type {(value: unknown, path: string) => number}
 */
function readLimit(value, path) {
  const expected = 'must be a positive integer or Infinity';
  if (typeof value !== 'number') throw problem(TypeError, path, expected, value);
  if (value === Infinity) return value;
  if (!(value >= 1) || value % 1 !== 0 || value > Number.MAX_SAFE_INTEGER) throw problem(RangeError, path, expected, value);
  return value >= MAX_COUNT ? Infinity : value;
}

/**
 * A whole number `>= min` (0 or 1 here).
 * @param {unknown} value
 * @param {string} path
 * @param {number} min
 * @returns {number}
 */
function readInteger(value, path, min) {
  const n = readNumber(value, path);
  if (!(n >= min) || n % 1 !== 0 || !Number.isFinite(n)) {
    throw problem(RangeError, path, min > 0 ? 'must be a positive integer' : 'must be an integer >= 0', value);
  }
  return n;
}

/**
 * A positive, finite number of milliseconds.
 * @type {(value: unknown, path: string) => number}
 */
function readPositiveMs(value, path) {
  const n = readNumber(value, path);
  if (!(n > 0) || n === Infinity) throw problem(RangeError, path, 'must be a positive, finite number of milliseconds', value);
  return n;
}

/**
 * A finite number `>= 0`.
 * @type {(value: unknown, path: string) => number}
 */
function readNonNegative(value, path) {
  const n = readNumber(value, path);
  if (!(n >= 0) || n === Infinity) throw problem(RangeError, path, 'must be a finite number >= 0', value);
  return n;
}

/**
 * The elements of an array (holes read as `undefined`).
 * @type {(value: unknown, path: string) => unknown[]}
 */
function readArray(value, path) {
  if (!Array.isArray(value)) throw problem(TypeError, path, 'must be an array', value);
  /** @type {unknown[]} */
  const items = [];
  for (let i = 0; i < value.length; i++) items.push(value[i]);
  return items;
}

/**
 * Anything the `Headers` constructor takes, as the `[name, value]` pairs it iterates.
 * @type {(value: unknown, path: string) => [string, string][]}
 */
function readHeaders(value, path) {
  try {
    return [...new Headers(/** @type {HeadersInit} */ (value))];
  } catch {
    throw problem(TypeError, path, 'must be a Headers object, an object of strings or an array of pairs', value);
  }
}

/**
 * An `AbortSignal`; with `nullable`, `null` means none (`undefined`).
 * @param {boolean} nullable
 * @returns {(value: unknown, path: string) => AbortSignal | undefined}
 */
function signalReader(nullable) {
  return (value, path) => {
    if (nullable && value === null) return undefined;
    if (typeof AbortSignal === 'function' && value instanceof AbortSignal) return value;
    throw problem(TypeError, path, 'must be an AbortSignal', value);
  };
}

/** @param {string} text */
function upperAscii(text) {
  return text.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}

// ───────────────────────────── option builders ─────────────────────────────

/**
 * A positive integer or `Infinity`.
 * @param {number} fallback the default
 * @returns {Option}
 */
function limit(fallback) {
  return { default: fallback, read: readLimit };
}

/**
 * A whole number `>= min`; values above `max` are clamped to it, not refused.
 * @param {number} min
 * @param {{ default?: number, max?: number, required?: boolean }} [more]
 * @returns {Option}
 */
function integer(min, more = {}) {
  const { max = Infinity, ...rest } = more;
  return { ...rest, read: (value, path) => Math.min(readInteger(value, path, min), max) };
}

/**
 * A positive, finite number of milliseconds.
 * @param {{ default?: number, required?: boolean }} [more]
 * @returns {Option}
 */
function ms(more = {}) {
  return { ...more, read: readPositiveMs };
}

/**
 * A finite number `>= 0`.
 * @param {number} [fallback] the default
 * @returns {Option}
 */
function nonNegative(fallback) {
  return { default: fallback, read: readNonNegative };
}

/**
 * @param {boolean} [fallback] the default
 * @returns {Option}
 */
function bool(fallback) {
  return { default: fallback, read: readBoolean };
}

/**
 * @param {string} [fallback] the default
 * @returns {Option}
 */
function text(fallback) {
  return { default: fallback, read: readString };
}

/** @returns {Option} */
function callback() {
  return { read: readFunction };
}

/**
 * One of `values` (strings).
 * @param {readonly string[]} values
 * @param {string} [fallback] the default
 * @returns {Option}
 */
function oneOf(values, fallback) {
  const quoted = values.map((v) => `'${v}'`);
  const listed = `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
  return {
    default: fallback,
    read(value, path) {
      if (typeof value !== 'string' || !values.includes(value)) throw problem(TypeError, path, `must be ${listed}`, value);
      return value;
    },
  };
}

/**
 * `false` (off) or an object checked against `table`; with `orTrue`, `true` too (every
 * default of `table`).
 * @param {() => Table} table
 * @param {boolean} [orTrue]
 * @returns {Option}
 */
function falseOr(table, orTrue) {
  return {
    default: false,
    read(value, path) {
      if (value === false) return false;
      const object = orTrue && value === true ? {} : asObject(value, path);
      if (object === undefined) throw problem(TypeError, path, orTrue ? 'must be a boolean or an object' : 'must be false or an object', value);
      return decode(table(), object, path);
    },
  };
}

/**
 * `LaneInit.traceparent`: a W3C `traceparent` value, as its trace and flags.
 * @type {(value: unknown, path: string) => [string, string]}
 */
function readTraceparent(value, path) {
  const trace = traceOf(readString(value, path));
  if (trace === null) throw problem(TypeError, path, 'must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>, ids not all zero)', value);
  return trace;
}

/**
 * An absolute URL (a string or a `URL`).
 * @param {unknown} value
 * @param {string} path
 * @returns {URL}
 */
function absoluteUrl(value, path) {
  const text = value instanceof URL ? value.href : readString(value, path);
  try {
    return new URL(text);
  } catch {
    throw problem(TypeError, path, 'must be an absolute URL', value);
  }
}

/**
 * Headers (anything the `Headers` constructor takes), as `[name, value]` pairs.
 * @param {readonly [string, string][]} fallback the default
 * @returns {Option}
 */
function headers(fallback) {
  return { default: fallback, read: readHeaders };
}

/**
 * The `retry` shorthand: a number (the limit), a boolean (defaults / off) or `RetryOptions`.
 * @param {boolean} [fallback] the default
 * @returns {Option}
 */
function retry(fallback) {
  return { default: fallback, read: retryOptions };
}

/**
 * A standard `RequestInit` key: passed to the `Request` constructor, which checks it.
 * @type {Option}
 */
const STANDARD = { read: (value) => value };

// ───────────────────────────── the declaration ─────────────────────────────

/** The lanes, and the cache strategies with `'none'` (a request's bypass), as the protocol numbers them. */
const LANE_NAMES = Object.keys(LANES);
const STRATEGY_NAMES = Object.keys(STRATEGIES);

/**
 * `RetryOptions`.
 * @satisfies {Table}
 */
const RETRY = {
  limit: integer(0, { default: 2, max: 1000 }),
  // Case-insensitive; kept upper case. No TRACE (ky lists it): `fetch` refuses to send it.
  methods: {
    default: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'],
    read: (value, path) => readArray(value, path).map((m, i) => upperAscii(readString(m, index(path, i)))),
  },
  // HTTP statuses, 100 to 599.
  statusCodes: {
    default: [408, 413, 429, 500, 502, 503, 504],
    read: (value, path) =>
      readArray(value, path).map((code, i) => {
        const n = readInteger(code, index(path, i), 100);
        if (n > 599) throw problem(RangeError, index(path, i), 'must be an HTTP status (100–599)', code);
        return n;
      }),
  },
  backoffMs: nonNegative(300),
  // A finite number >= 1.
  factor: {
    default: 2,
    read(value, path) {
      const n = readNonNegative(value, path);
      if (n < 1) throw problem(RangeError, path, 'must be >= 1', value);
      return n;
    },
  },
  maxBackoffMs: nonNegative(10000),
  jitter: bool(true),
  // A finite number >= 0, or Infinity.
  maxRetryAfterMs: {
    default: 60000,
    read: (value, path) => (value === Infinity ? value : readNonNegative(value, path)),
  },
  retryOnTimeout: bool(true),
};

/**
 * `RateLimitRule`, one entry of `ClientOptions.rateLimits`.
 * @satisfies {Table}
 */
const RATE_LIMIT = {
  limit: integer(1, { required: true, max: MAX_COUNT }),
  intervalMs: ms({ required: true }),
  host: text(),
};

/**
 * `PersistOptions`, the object form of `CacheOptions.persist`.
 * @satisfies {Table}
 */
const PERSIST = {
  // Not empty (checked by `clientOptions`).
  name: { required: true, read: readString },
  maxEntries: integer(1, { max: MAX_COUNT }),
  maxAgeMs: ms(),
};

/**
 * `AdaptiveOptions`; the defaults depend on `perHost`, so `clientOptions` fills them in.
 * @satisfies {Table}
 */
const ADAPTIVE = {
  min: integer(1, { max: MAX_COUNT }),
  max: integer(1, { max: MAX_COUNT }),
  initial: integer(1, { max: MAX_COUNT }),
};

/**
 * `CacheOptions`.
 * @satisfies {Table}
 */
const CACHE = {
  strategy: oneOf(STRATEGY_NAMES, 'cache-first'),
  ttlMs: nonNegative(),
  maxEntries: integer(1, { default: 500, max: MAX_COUNT }),
  maxBytes: integer(1, { default: 50 * 1024 * 1024, max: MAX_COUNT }),
  namespace: text('default'),
  persist: falseOr(() => PERSIST),
  allowPrivate: bool(false),
};

/**
 * `ClientOptions`.
 * @satisfies {Table}
 */
const CLIENT = {
  // An absolute URL.
  baseUrl: { read: (value, path) => absoluteUrl(value, path).href },
  concurrency: limit(6),
  perHost: limit(6),
  rateLimits: {
    default: [],
    read: (value, path) =>
      readArray(value, path).map((item, i) => {
        const at = index(path, i);
        const object = asObject(item, at);
        if (object === undefined) throw problem(TypeError, at, 'must be an object', item);
        return decode(RATE_LIMIT, object, at);
      }),
  },
  retry: retry(true),
  timeoutMs: ms(),
  totalTimeoutMs: ms(),
  cache: falseOr(() => CACHE),
  dedupe: bool(true),
  headers: headers([]),
  fetch: callback(),
  onEvent: callback(),
  throwHttpErrors: bool(true),
  fields: {
    default: { param: 'fields', project: false },
    read(value, path) {
      const object = asObject(value, path);
      if (object === undefined) throw problem(TypeError, path, 'must be an object', value);
      return decode(FIELDS, object, path);
    },
  },
  compressOver: integer(0, { max: MAX_COUNT }),
  adaptive: falseOr(() => ADAPTIVE, true),
  timing: falseOr(() => TIMING, true),
  // Origins, and patterns of them.
  propagate: {
    read: (value, path) => readArray(value, path).map((item, i) => (item instanceof RegExp ? item : absoluteUrl(item, index(path, i)).origin)),
  },
  traceparent: callback(),
  background: { default: {}, read: (value, path) => decode(BACKGROUND, asObject(value, path) ?? {}, path) },
  share: { read: (value, path) => decode(SHARE, asObject(value, path) ?? {}, path) },
};

/**
 * `ClientOptions.share`: the clients of this name in the tabs of the origin act as one.
 * @satisfies {Table}
 */
const SHARE = {
  name: { required: true, read: readString },
};

/**
 * `ClientOptions.background`: whether `background` lane work waits while the page is hidden
 * or the browser offline.
 * @satisfies {Table}
 */
const BACKGROUND = {
  whenHidden: oneOf(['run', 'pause'], 'run'),
  whenOffline: oneOf(['run', 'pause'], 'pause'),
};

/**
 * `TimingOptions` (`ClientOptions.timing`).
 * @satisfies {Table}
 */
const TIMING = {
  track: text('fetchlane'),
};

/**
 * The standard `RequestInit` keys (lib.dom's, plus `duplex`): accepted wherever a `LaneInit`
 * is, and left to the `Request` constructor, but for `signal`.
 * @satisfies {Table}
 */
const REQUEST_INIT = {
  method: STANDARD,
  headers: STANDARD,
  body: STANDARD,
  mode: STANDARD,
  credentials: STANDARD,
  cache: STANDARD,
  redirect: STANDARD,
  referrer: STANDARD,
  referrerPolicy: STANDARD,
  integrity: STANDARD,
  keepalive: STANDARD,
  signal: { read: signalReader(true) },
  priority: STANDARD,
  duplex: STANDARD,
  window: STANDARD,
};

/**
 * `FieldsOptions` (`ClientOptions.fields`).
 * @satisfies {Table}
 */
const FIELDS = {
  param: text('fields'),
  project: bool(false),
};

/**
 * `LaneInit.fields`: names for `?fields=`, sorted and de-duplicated, so that their order never
 * changes the URL or the cache key.
 * @type {(value: unknown, path: string) => string[]}
 */
function readFieldList(value, path) {
  const names = readArray(value, path).map((f, i) => {
    const name = readString(f, index(path, i));
    if (name === '' || name.includes(',')) throw problem(TypeError, index(path, i), 'must be a field name (not empty, no comma)', f);
    return name;
  });
  if (names.length === 0) throw problem(TypeError, path, 'must not be empty', value);
  return [...new Set(names)].sort();
}

/**
 * `LaneInit`'s own keys, on top of `RequestInit`'s.
 * @satisfies {Table}
 */
const LANE_INIT = {
  lane: oneOf(LANE_NAMES, 'normal'),
  strategy: oneOf(STRATEGY_NAMES),
  ttlMs: nonNegative(),
  timeoutMs: ms(),
  totalTimeoutMs: ms(),
  retry: retry(),
  dedupe: bool(),
  key: text(),
  fields: { read: readFieldList },
  compress: oneOf(['gzip', 'deflate']),
  traceparent: { read: readTraceparent },
};

/**
 * `GroupOptions` (`all`, `allSettled`).
 * @satisfies {Table}
 */
const GROUP = {
  as: oneOf(['json', 'text', 'response'], 'json'),
  abortOnFailure: bool(true),
  onProgress: callback(),
};

/**
 * `OutboxOptions`.
 * @satisfies {Table}
 */
const OUTBOX = {
  idempotencyHeader: text('Idempotency-Key'),
  // Seven days.
  maxAgeMs: ms({ default: 604800000 }),
  retry: { default: {}, read: (value, path) => decode(OUTBOX_RETRY, asObject(value, path) ?? {}, path) },
  batch: { read: (value, path) => decode(OUTBOX_BATCH, asObject(value, path) ?? {}, path) },
};

/**
 * `OutboxOptions.batch`: items for one URL with JSON bodies go as one JSON-array request.
 * @satisfies {Table}
 */
const OUTBOX_BATCH = {
  maxItems: integer(1, { required: true, max: 1000 }),
  maxBytes: integer(1, { max: MAX_COUNT }),
  maxWaitMs: nonNegative(0),
};

/**
 * `OutboxOptions.retry`: the wait between attempts at the head item (`Retry-After` wins).
 * @satisfies {Table}
 */
const OUTBOX_RETRY = {
  backoffMs: nonNegative(1000),
  factor: RETRY.factor,
  maxBackoffMs: nonNegative(300000),
  jitter: bool(true),
};

/**
 * `ScheduleOptions`.
 * @satisfies {Table}
 */
const SCHEDULE = {
  lane: oneOf(LANE_NAMES, 'normal'),
  signal: { read: signalReader(false) },
  host: text(),
};

/**
 * `LoaderOptions`: its own keys, then the `LaneInit` keys passed on to every batch request.
 * @satisfies {Table}
 */
const LOADER = {
  // A string holding `{keys}`, absolute or relative to `baseUrl` or the page.
  url: {
    required: true,
    read(value, path) {
      if (typeof value === 'string') {
        if (!value.includes('{keys}')) {
          throw problem(TypeError, path, 'must hold `{keys}` (where the comma-joined keys go), or be a function of the keys', value);
        }
        return value;
      }
      if (typeof value === 'function') return value;
      throw problem(TypeError, path, 'must be a string holding `{keys}` or a function of the keys', value);
    },
  },
  key: {
    default: 'id',
    read(value, path) {
      if (typeof value === 'string' || typeof value === 'function') return value;
      throw problem(TypeError, path, 'must be a field name or a function of an item', value);
    },
  },
  select: callback(),
  maxBatchSize: limit(100),
  windowMs: nonNegative(0),
  maxUrlLength: limit(2000),
  cache: bool(true),
  lane: LANE_INIT.lane,
  headers: headers([]),
  retry: LANE_INIT.retry,
  timeoutMs: LANE_INIT.timeoutMs,
  totalTimeoutMs: LANE_INIT.totalTimeoutMs,
  strategy: LANE_INIT.strategy,
  ttlMs: LANE_INIT.ttlMs,
  fields: LANE_INIT.fields,
};

/**
 * `PaginateOptions`' own keys, on top of `LaneInit`'s (and so `RequestInit`'s).
 * @satisfies {Table}
 */
const PAGINATE = {
  next: callback(),
  prefetch: integer(0, { default: 1, max: 1e6 }),
};

/**
 * Everything a `LaneInit` may hold, in the order unknown-key errors list it.
 * @satisfies {Table}
 */
const LANE_INIT_ALL = { ...REQUEST_INIT, ...LANE_INIT };

/**
 * Everything `PaginateOptions` may hold.
 * @satisfies {Table}
 */
const PAGINATE_ALL = { ...LANE_INIT_ALL, ...PAGINATE };

/**
 * @template T
 * @param {T} value
 * @returns {T}
 */
function deepFreeze(value) {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * Every options object, one table each: key → { default, required, read }.
 * The tables' key order is the order of the "known:" list in unknown-key errors.
 */
export const OPTIONS = deepFreeze({
  /** `ClientOptions` (`createClient`). */
  client: CLIENT,
  /** `RateLimitRule` (`ClientOptions.rateLimits[i]`). */
  rateLimit: RATE_LIMIT,
  /** `RetryOptions` (`retry` given as an object). */
  retry: RETRY,
  /** `CacheOptions` (`ClientOptions.cache`). */
  cache: CACHE,
  /** `PersistOptions` (`CacheOptions.persist`). */
  persist: PERSIST,
  /** The standard `RequestInit` keys a `LaneInit` may hold. */
  requestInit: REQUEST_INIT,
  /** `LaneInit`'s own keys. */
  laneInit: LANE_INIT,
  /** `GroupOptions` (`all`, `allSettled`). */
  group: GROUP,
  /** `ScheduleOptions` (`schedule`). */
  schedule: SCHEDULE,
  /** `LoaderOptions` (`loader`), with the `LaneInit` keys it passes on. */
  loader: LOADER,
  /** `PaginateOptions`' own keys (`paginate`); it takes every `LaneInit` key too. */
  paginate: PAGINATE,
});

// ───────────────────────────── checking and normalizing ─────────────────────────────

/**
 * `createClient(options)`'s options, checked and with every default filled in.
 * @param {unknown} raw `undefined` or `null` for all defaults.
 * @returns {ClientConfig}
 */
export function clientOptions(raw) {
  const object = asObject(raw, 'options') ?? {};
  const decoded = decode(CLIENT, object, '');
  // What only makes sense for a whole client, checked once every option is read.
  const cache = /** @type {false | Record<string, unknown>} */ (decoded.cache);
  if (cache !== false) {
    if (cache.strategy === 'none') {
      throw problem(TypeError, 'cache.strategy', "cannot be 'none' for a whole client; set `cache: false`");
    }
    const persist = /** @type {false | Record<string, unknown>} */ (cache.persist);
    if (persist !== false && persist.name === '') {
      throw problem(TypeError, 'cache.persist.name', 'must be a non-empty string');
    }
    // Said now rather than as a `cache-error` on every request: without the Cache API (Node,
    // a page not served from a secure origin) nothing could ever be persisted.
    if (persist !== false && typeof caches !== 'object') {
      throw problem(TypeError, 'cache.persist', 'needs the Cache API (`caches`), which this runtime lacks; leave it out here');
    }
  }
  const adaptive = /** @type {false | Record<string, number | undefined>} */ (decoded.adaptive);
  if (adaptive !== false) {
    const perHost = /** @type {number} */ (decoded.perHost);
    let { min = 1, max, initial } = adaptive;
    if (max === undefined) {
      if (perHost === Infinity || decoded.concurrency === Infinity) {
        throw problem(RangeError, 'adaptive.max', 'must be set when concurrency or perHost is Infinity');
      }
      max = perHost;
    }
    if (max > perHost) throw problem(RangeError, 'adaptive.max', 'must not be greater than perHost', max);
    if (min > max) throw problem(RangeError, 'adaptive.min', 'must not be greater than adaptive.max', min);
    initial ??= Math.max(min, Math.min(4, max));
    if (initial < min || initial > max) {
      throw problem(RangeError, 'adaptive.initial', 'must lie between adaptive.min and adaptive.max', initial);
    }
    decoded.adaptive = { min, max, initial };
  }
  return /** @type {ClientConfig} */ (/** @type {unknown} */ (decoded));
}

/**
 * The `retry` option: a number (the limit, capped at 1000), `false` (no retries), `true`
 * (every default) or `RetryOptions`. `undefined` gives every default too.
 * @param {unknown} raw
 * @param {string} [path] how errors name it; default `'retry'`
 * @returns {RetryPolicy}
 */
export function retryOptions(raw, path = 'retry') {
  if (raw === undefined || typeof raw === 'boolean') {
    const policy = /** @type {RetryPolicy} */ (/** @type {unknown} */ (decode(RETRY, {}, path)));
    if (raw === false) policy.limit = 0;
    return policy;
  }
  if (typeof raw === 'number') {
    const policy = retryOptions(true, path);
    policy.limit = Math.min(readInteger(raw, path, 0), 1000);
    return policy;
  }
  const object = asObject(raw, path);
  if (object === undefined) throw problem(TypeError, path, 'must be a number, a boolean or an object', raw);
  return /** @type {RetryPolicy} */ (/** @type {unknown} */ (decode(RETRY, object, path)));
}

/**
 * Splits a decoded `LaneInit`-shaped object into fetchlane's fields and the standard
 * `RequestInit` keys that were given.
 * @param {Record<string, unknown>} decoded
 * @returns {LaneOptions}
 */
function laneFields(decoded) {
  /** @type {Record<string, unknown>} */
  const requestInit = {};
  for (const key of Object.keys(REQUEST_INIT)) {
    if (key !== 'signal' && decoded[key] !== undefined) requestInit[key] = decoded[key];
  }
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const key of Object.keys(LANE_INIT)) out[key] = decoded[key];
  out.signal = decoded.signal;
  out.requestInit = requestInit;
  return /** @type {LaneOptions} */ (/** @type {unknown} */ (out));
}

/**
 * A request's `init` (`fetch`, `json`, `text`, an `all` entry's `init`).
 * @param {unknown} raw `undefined` or `null` for none.
 * @param {string} [path] how errors name it; default `'init'`
 * @returns {LaneOptions}
 */
export function laneInit(raw, path = 'init') {
  const object = asObject(raw, path) ?? {};
  return laneFields(decode(LANE_INIT_ALL, object, path));
}

/**
 * `all` / `allSettled` options.
 * @param {unknown} raw `undefined` or `null` for all defaults.
 * @returns {GroupConfig}
 */
export function groupOptions(raw) {
  const object = asObject(raw, 'opts') ?? {};
  return /** @type {GroupConfig} */ (/** @type {unknown} */ (decode(GROUP, object, 'opts')));
}

/**
 * `schedule(task, opts)` options.
 * @param {unknown} raw `undefined` or `null` for all defaults.
 * @returns {ScheduleConfig}
 */
export function scheduleOptions(raw) {
  const object = asObject(raw, 'opts') ?? {};
  return /** @type {ScheduleConfig} */ (/** @type {unknown} */ (decode(SCHEDULE, object, 'opts')));
}

/**
 * `client.outbox(name, opts)` options.
 * @param {unknown} raw `undefined` or `null` for all defaults.
 * @returns {OutboxConfig}
 */
export function outboxOptions(raw) {
  const object = asObject(raw, 'opts') ?? {};
  return /** @type {OutboxConfig} */ (/** @type {unknown} */ (decode(OUTBOX, object, 'opts')));
}

/** Stands in for `{keys}` while the template goes through the URL parser. */
const KEYS_MARKER = 'fetchlane0keys0placeholder';

/**
 * `loader(opts)` options. A string `url` comes back absolute: resolved against `baseUrl`
 * (the client's, normalized), else the page's URL.
 * @param {unknown} raw
 * @param {string} [baseUrl] the client's `baseUrl`
 * @returns {LoaderConfig}
 */
export function loaderOptions(raw, baseUrl) {
  const object = asObject(raw, 'opts');
  if (object === undefined) throw problem(TypeError, 'opts', 'must be an object with at least `url`', raw);
  const config = /** @type {LoaderConfig} */ (/** @type {unknown} */ (decode(LOADER, object, 'opts')));
  if (typeof config.url === 'string') {
    const base = baseUrl ?? pageUrl();
    const marked = config.url.replaceAll('{keys}', KEYS_MARKER);
    let absolute;
    try {
      absolute = new URL(marked, base).href;
    } catch {
      throw problem(TypeError, 'opts.url', 'cannot be resolved: it must be absolute, or relative to `baseUrl` or the page');
    }
    config.url = absolute.replaceAll(KEYS_MARKER, '{keys}');
    if (!config.url.includes('{keys}')) throw problem(TypeError, 'opts.url', 'lost its `{keys}` when resolved');
  }
  return config;
}

/**
 * `paginate(input, opts)` options: the first page's `LaneInit` plus `next` and `prefetch`.
 * @param {unknown} raw `undefined` or `null` for all defaults.
 * @returns {PaginateConfig}
 */
export function paginateOptions(raw) {
  const object = asObject(raw, 'opts') ?? {};
  const decoded = decode(PAGINATE_ALL, object, 'opts');
  const next = /** @type {PaginateConfig['next']} */ (decoded.next);
  return { ...laneFields(decoded), next, prefetch: /** @type {number} */ (decoded.prefetch) };
}

/**
 * A new value for `client.concurrency`: a positive integer or `Infinity`.
 * @param {unknown} raw
 * @returns {number}
 */
export function concurrencyLimit(raw) {
  return readLimit(raw, 'concurrency');
}
