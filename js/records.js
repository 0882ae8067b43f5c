// What the driver (js/driver.js) keeps under the machine's ids (docs/protocol.md): a `Call`
// per caller, an `Op` per network operation, a `Body` per buffered response; and the header
// helpers they need.

import { PENDING } from './protocol.js';
import { decodeUtf8 } from './wasm.js';

/** Statuses whose Response must have a null body (the constructor throws otherwise). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * `headers` as the `[name, value]` pairs it iterates (lower-case names, sorted).
 * @param {Headers} headers
 * @returns {[string, string][]}
 */
export const pairsOf = (headers) => [...headers];

/**
 * Header pairs (an array of them, or a `Headers`) as the protocol's `name:value\n` lines.
 * @param {Iterable<[string, string]>} pairs
 * @returns {string}
 */
export function linesOf(pairs) {
  let s = '';
  for (const [name, value] of pairs) s += `${name}:${value}\n`;
  return s;
}

/**
 * The first non-empty value of `name` (lower case) among `pairs`, trimmed, or `null`.
 * @param {[string, string][]} pairs
 * @param {string} name
 * @returns {string | null}
 */
export function first(pairs, name) {
  for (const [n, v] of pairs) {
    if (n.toLowerCase() === name) {
      const value = v.trim();
      return value === '' ? null : value;
    }
  }
  return null;
}

/**
 * `name:value\n` lines (the wire form of `linesOf`) back as pairs.
 * @param {string} lines
 * @returns {[string, string][]}
 */
export function pairsOfLines(lines) {
  /** @type {[string, string][]} */
  const pairs = [];
  for (const line of lines.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) pairs.push([line.slice(0, colon), line.slice(colon + 1)]);
  }
  return pairs;
}

/**
 * One caller: a `fetch` / `json` / `text` call, an `all` member, or a `schedule` task. The
 * record is also the listener of the caller's signal (`handleEvent`), so that no closure is
 * made per call.
 */
export class Call {
  /**
   * @param {{ callerAborted(rec: Call): void }} driver
   * @param {number} as AS_RESPONSE, AS_JSON, AS_TEXT or AS_TASK
   * @param {string} url the absolute URL ('' for a task)
   * @param {string} method ('' for a task)
   * @param {string} lane 'critical', 'normal' or 'background'
   */
  constructor(driver, as, url, method, lane) {
    this.driver = driver;
    /** The machine's id (0 until submitted). */
    this.id = 0;
    /** The id events carry: unique within the client (the machine may reuse its ids). */
    this.seq = 0;
    this.as = as;
    this.url = url;
    this.method = method;
    this.lane = lane;
    /** @type {Request | null} The request each attempt clones; null: a plain GET of `url`. */
    this.template = null;
    /** The caller's normalized `LaneInit` (js/options.js), until the call is submitted. */
    this.opts = null;
    /** Whether an op this call opens reports every response header (a cache applies). */
    this.full = false;
    /** @type {AbortSignal | undefined} */
    this.signal = undefined;
    /** @type {{ settle(index: number, ok: boolean, value: unknown): void, reason: unknown } | null} */
    this.group = null;
    this.index = 0;
    /** @type {string[] | null} The fields a `project` call's JSON is trimmed to. */
    this.pick = null;
    /** Field selection has placed the call (it is not held again). */
    this.held = false;
    /** A loader's batch: its JSON is never trimmed by `fields.project`. */
    this.whole = false;
    /** Another tab's call, run here as the leader (share): its own tab parked it already. */
    this.peer = false;
    /** Its body has been compressed (or found not to need it). */
    this.packed = false;
    /** @type {Function | null} A task's function, until it runs. */
    this.task = null;
    /** A task that holds a slot (it runs, or is about to). */
    this.running = false;
    this.state = PENDING;
    /** The outcome of a call that settled before anyone asked for its promise. */
    this.value = undefined;
    /** @type {((value: unknown) => void) | null} */
    this.resolve = null;
    /** @type {((reason: unknown) => void) | null} */
    this.reject = null;
    /** @type {(<T>(fn: () => T) => T) | undefined} Runs work in the caller's async context (js/context.js). */
    this.ctx = undefined;
    /** When a request was handed to the machine (`performance.now()`): its queue wait starts. */
    this.t0 = 0;
    /** A request's `host:port`, for the per-host latency sketches. */
    this.hostKey = '';
    /** @type {[traceId: string, flags: string] | null} Its trace, where `traceparent` goes out. */
    this.trace = null;
    /** @type {Op | undefined} The op whose network time answered it (none: a cache hit). */
    this.via = undefined;
  }

  /** The caller's signal fired. */
  handleEvent() {
    this.driver.callerAborted(this);
  }
}

/** One network operation (shared by every caller de-duplicated onto it). */
export class Op {
  /**
   * @param {Call | undefined} opener the call whose template, URL and `full` it copies
   *   (none known: no template, URL '')
   */
  constructor(opener) {
    /** @type {Call | undefined} The call that opened it (events about the op name it). */
    this.opener = opener;
    /** @type {Request | null} */
    this.template = opener?.template ?? null;
    this.url = opener?.url ?? '';
    this.full = opener?.full ?? false;
    /** @type {AbortController | null} The current attempt's. */
    this.controller = null;
    this.attempt = 0;
    /** @type {Response | undefined} The last response, until read, discarded or handed over. */
    this.response = undefined;
    /** Whether the last response went to a caller (then it is theirs, body and all). */
    this.claimed = false;
    /** @type {[string, string][] | null} The last response's headers, when `full`. */
    this.pairs = null;
    /** The last transport error (or timeout reason). */
    this.error = undefined;
    /** The drain in which a timeout last aborted its attempt (0: never). */
    this.timedOutIn = 0;
    // Where its time goes (`performance.now()` times; NaN: not yet), for `settled` timings,
    // the latency sketches and the User Timing measures.
    /** When its first attempt was dispatched. */
    this.first = NaN;
    /** When the current attempt was dispatched. */
    this.sentAt = NaN;
    /** Since when it is on the network (an attempt waiting for its head, or its body being read). */
    this.since = NaN;
    /** When it last left the network. */
    this.ended = NaN;
    /** Network time so far, and time between attempts so far. */
    this.net = 0;
    this.wait = 0;
    /** Response body bytes: what was read, else `Content-Length` (NaN: unknown). */
    this.bodyBytes = NaN;
    /** The last response's status (0: none). */
    this.lastStatus = 0;
    /** @type {string | null} The last response's `Server-Timing` header. */
    this.st = null;
    /** The attempt whose `fetchlane:network` measure was made. */
    this.shown = 0;
    /** @type {Body | undefined} The body whose `via` it is (read by it, or revalidated by it). */
    this.viaBody = undefined;
  }
}

/** One buffered response. */
export class Body {
  /**
   * @param {ArrayBuffer} bytes
   * @param {number} status
   * @param {string} statusText
   * @param {[string, string][]} headers
   */
  constructor(bytes, status, statusText, headers) {
    this.bytes = bytes;
    this.status = status;
    this.statusText = statusText;
    this.headers = headers;
    /** @type {Op | undefined} The op that read it from the network, or revalidates it, while that op is open. */
    this.via = undefined;
    /** @type {ResponseInit | null} Shared by every Response made from this body. */
    this.init = null;
    /** @type {string | null} The body as text, decoded once. */
    this.string = null;
  }

  /** The body as text (UTF-8, as `Response.text()` reads it). */
  text() {
    if (this.string === null) this.string = decodeUtf8(this.bytes);
    return this.string;
  }

  /**
   * A fresh, readable Response (the constructor copies the bytes and the headers). The init
   * is made once per body; its headers stay an array of pairs, which Chromium copies faster
   * than a `Headers` object (measured: 16 µs against 24 µs for six headers).
   * @param {ResponseInit} [init] an init of its own instead (the persisted copy's)
   */
  response(init) {
    if (init === undefined) {
      if (this.init === null) this.init = { status: this.status, statusText: this.statusText, headers: this.headers };
      init = this.init;
    }
    return new Response(NULL_BODY.has(this.status) ? null : this.bytes, init);
  }
}
