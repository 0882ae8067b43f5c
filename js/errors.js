// The errors fetchlane throws and rejects with, and their messages, in one place: the
// FetchlaneError class (in JS so that it can extend Error and `instanceof` works), the
// standard message of each kind (as src/client/error.rs wrote them), and the
// "fetchlane: … (got …)" TypeErrors of a bad argument.

/** A failed request: `kind` says why; `url`, `status`, `attempts` and `cause` say more. */
export class FetchlaneError extends Error {
  constructor(kind, message, url, status, attempts, cause, response) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'FetchlaneError';
    this.kind = kind;
    this.url = url;
    if (status !== undefined) this.status = status;
    this.attempts = attempts;
    if (response !== undefined) this.response = response;
  }
}

/** Type guard: true when `value` is a FetchlaneError. */
export function isFetchlaneError(value) {
  return value instanceof FetchlaneError;
}

/** The start of each kind's message, as src/client/error.rs wrote them. */
const WHAT = {
  http: 'HTTP ',
  network: 'network error for ',
  timeout: 'timed out: ',
  abort: 'aborted: ',
  'rate-limit': 'rate limited for longer than maxRetryAfterMs allows: ',
  decode: 'could not decode the body of ',
  missing: 'the batch response has no item for the key: ',
  cache: 'nothing cached (cache-only) for ',
  closed: 'the client is closed: ',
};

/**
 * A FetchlaneError of `kind` for `url` with the standard message ("fetchlane: HTTP 404 from
 * <url>", "fetchlane: network error for <url>", …).
 * @param {string} kind
 * @param {string} url
 * @param {number | undefined} status
 * @param {number} attempts
 * @param {unknown} [cause]
 * @param {Response} [response]
 * @returns {FetchlaneError}
 */
export function fetchlaneError(kind, url, status, attempts, cause, response) {
  let m = `fetchlane: ${WHAT[kind] ?? `${kind}: `}`;
  if (kind === 'http' && status !== undefined) m += `${status} from `;
  return new FetchlaneError(kind, m + url, url, status, attempts, cause, response);
}

/**
 * A FetchlaneError with its own message (no status, no attempts: the loader's and
 * paginate's own failures).
 * @param {string} kind
 * @param {string} message
 * @param {string} url
 * @param {unknown} [cause]
 */
export const failure = (kind, message, url, cause) => new FetchlaneError(kind, message, url, undefined, 0, cause);

/**
 * `: <cause's message>` when `cause` is an Error with one, else `''`.
 * @param {unknown} cause
 */
export const causeDetail = (cause) => (cause instanceof Error && typeof cause.message === 'string' ? `: ${cause.message}` : '');

/**
 * The kind `decode` error of a body that did not parse (src/client/body.rs `decode`).
 * @param {string} url
 * @param {boolean} json whether it was read as JSON (else as text)
 * @param {unknown} cause what `JSON.parse` / `response.json()` threw
 * @param {number} attempts
 * @returns {FetchlaneError}
 */
export function decodeError(url, json, cause, attempts) {
  const m = `fetchlane: the body of ${url}${json ? ' is not valid JSON' : ' could not be read as text'}${causeDetail(cause)}`;
  return new FetchlaneError('decode', m, url, undefined, attempts, cause);
}

const SURROGATES = /[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDFFF]/g;

/** `s` with every lone surrogate replaced by U+FFFD (what crossing into UTF-8 does). */
export const wellFormed = (s) => s.replace(SURROGATES, (m) => (m.length === 2 ? m : '\uFFFD'));

/**
 * What a value is, in a `(got …)`: `"text"` (at most 40 characters, lone surrogates as
 * U+FFFD, as when the string crossed into Rust), `0`, `NaN`, `true`, `null`, `undefined`,
 * `a function`, `an array`, `an object`.
 * @param {unknown} v
 * @returns {string}
 */
export function describe(v) {
  if (typeof v === 'string') return `"${Array.from(wellFormed(v)).slice(0, 40).join('')}"`;
  if (typeof v === 'number' || typeof v === 'boolean' || v == null) return String(v);
  if (typeof v === 'function') return 'a function';
  return Array.isArray(v) ? 'an array' : 'an object';
}

/**
 * The TypeError of a bad argument: "fetchlane: <what> (got <describe(value)>)".
 * @param {string} what
 * @param {unknown} value
 */
export const badArgument = (what, value) => new TypeError(`fetchlane: ${what} (got ${describe(value)})`);
