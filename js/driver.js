// The command executor: feeds the wasm state machine its events and carries out the commands
// it emits (docs/protocol.md). It keeps what the machine cannot hold (js/records.js): a
// `Call` per caller (its promise, its template Request, its signal), an `Op` per network
// operation (the attempt's AbortController, the last Response and transport error) and a
// `Body` per buffered response. It decides nothing: every choice of what to start, retry,
// serve from cache or reject is the machine's.
//
// One driver per client, made by `createDriver`: its state lives in the closure (the
// bundler shortens those names, which it cannot do for properties), and the object it
// returns is what the client (js/client.js) and a `Call`'s signal listener use.

import { decodeError, fetchlaneError } from './errors.js';
import { picked } from './fields.js';
import {
  ABORT_FETCH,
  AS_JSON,
  AS_RESPONSE,
  AS_TASK,
  AS_TEXT,
  CLOSE_OP,
  DISCARD,
  DROP_BODY,
  EMIT,
  EVENT_TYPES,
  FULFILLED,
  KINDS,
  LIMIT,
  LIMIT_REASONS,
  OPEN_OP,
  PENDING,
  READ_BODY,
  REJECT,
  REJECTED,
  RESOLVE_BODY,
  RESOLVE_RESPONSE,
  RETRY_REASONS,
  RUN_TASK,
  SET_HEADERS,
  SOURCES,
  START_FETCH,
  STORE_DELETE,
  STORE_READ,
  STORE_WRITE,
  STRATEGIES,
} from './protocol.js';
import { captureContext } from './context.js';
import { measure, resourceTiming, serverTiming, traceparent } from './observe.js';
import { Body, Op, first, linesOf, pairsOf, pairsOfLines } from './records.js';
import { add, sketch, summary } from './sketch.js';
import { persistentStore } from './store.js';
import { decodeUtf8, lengths, memoryF64, readString, wasm, writeStrings } from './wasm.js';

/** The response headers the machine reads when no cache applies (retry waits, byte counts). */
const SELECTED_HEADERS = ['content-length', 'retry-after', 'ratelimit-reset', 'x-ratelimit-reset'];

const noop = () => {};

/** The latency and queue-wait sketches of a host with no samples (read, never written). */
const NO_SAMPLES = [sketch(), sketch()];

/** `v`, or NaN ("not set") for `undefined`. */
export const orNaN = (v) => (v === undefined ? NaN : v);

/**
 * Calls a listener (an event listener, `onProgress`); what it throws surfaces as an unhandled
 * rejection (visible in the console) instead of breaking the request, as before.
 * @param {Function} listener
 * @param {unknown} arg
 */
export function callListener(listener, arg) {
  try {
    listener(arg);
  } catch (thrown) {
    Promise.reject(thrown);
  }
}

/**
 * Cancels the body of a Response nobody will read, so its connection is freed.
 * @param {unknown} response
 */
function cancel(response) {
  try {
    if (response instanceof Response && response.body !== null && !response.bodyUsed) response.body.cancel().catch(noop);
  } catch {
    // A locked or already errored body: nothing to free.
  }
}

/**
 * Cancels the response of an op, unless a caller has it (then it is theirs).
 * @param {import('./records.js').Op | undefined} op
 */
function release(op) {
  if (op !== undefined && op.response !== undefined && !op.claimed) cancel(op.response);
}

/**
 * A signal that aborts when `a` or `b` does (with its reason).
 * @param {AbortSignal} a
 * @param {AbortSignal} b
 * @returns {AbortSignal}
 */
function anySignal(a, b) {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b]);
  const controller = new AbortController();
  if (a.aborted) controller.abort(a.reason);
  else if (b.aborted) controller.abort(b.reason);
  else {
    a.addEventListener('abort', () => controller.abort(a.reason), { once: true });
    b.addEventListener('abort', () => controller.abort(b.reason), { once: true });
  }
  return controller.signal;
}

/** The machine's clock: `performance.now()`, with the object kept (its `window` lookup costs). */
const perf = globalThis.performance;
const now = () => perf.now();

/**
 * Creates the machine for a client, configures it (options already normalized by
 * js/options.js `clientOptions`) and returns the client's side of it.
 * @param {import('./options.js').ClientConfig} config
 */
export function createDriver(config) {
  /** The machine's handle (0 is a valid one). */
  let h = 0;
  /** Whether the machine exists: false once freed (after `close`). */
  let live = false;
  /** @type {Map<number, import('./records.js').Call>} */
  const calls = new Map();
  /** @type {Map<number, import('./records.js').Call>} Calls settled during this drain (events may still name them). */
  const recent = new Map();
  /** @type {Map<number, Op>} */
  const ops = new Map();
  /** @type {Map<number, Body>} */
  const bodies = new Map();
  let draining = false;
  /** Counts outermost drains (what happened "in this batch"). */
  let drains = 0;
  /** Set by every call into the machine: the command list may have moved or grown. */
  let dirty = false;
  let closed = false;
  /** @type {{ type: string | null, fn: Function }[]} Replaced, never mutated. */
  let listeners = [];
  let listening = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** The deadline the timer is armed for (NaN: none armed). */
  let deadline = NaN;
  /** @type {(() => void)[]} */
  let idle = [];
  /** `json`/`text` answers being decoded (their calls count as running). */
  let decoding = 0;
  /** Calls the client holds before they reach the machine (field selection, compression). */
  let holding = 0;
  let seq = 0;
  /** The reason ABORT_FETCH (caller) uses, while an abort is being processed. */
  let abortReason;
  /** What the last failing Cache API call threw (the `cache-error` event's cause). */
  let lastStoreError;
  let closeReason;
  /** @type {(import('./records.js').Call | undefined)[]} Tasks given a slot, to run in the next flush. */
  const runnable = [];
  let flushing = false;
  /** Aborts every running task's signal when the client closes. */
  const closeController = new AbortController();
  const closeSignal = closeController.signal;
  const fetchFn = config.fetch;
  /** The Performance panel track of the User Timing measures (`null`: `timing` is off). */
  const track = config.timing === false ? null : config.timing.track;
  /**
   * Latency and queue wait sketches (js/sketch.js) of the requests answered through the
   * network, by host (`null`: all of them).
   * @type {Map<string | null, [Uint32Array, Uint32Array]>}
   */
  const sketches = new Map();
  /** @type {[string, string][]} The client's headers (lower-case names, sorted). */
  const headerPairs = config.headers;
  const cache = config.cache;
  const store = cache !== false && cache.persist !== false ? persistentStore(cache.persist, cache.namespace) : null;
  let finalStats = null;
  let finalConcurrency = config.concurrency;
  /** The Client was garbage-collected without `close()`: free the machine once idle. */
  let orphan = false;

  // ─────────── events in ───────────

  /** The machine took an event: carry out what it decided. */
  function fed() {
    dirty = true;
    drain();
  }

  /**
   * Sends a retry policy: slot 0 the client's, slot 1 the next submit's override (flag 4).
   * @param {number} slot
   * @param {import('./options.js').RetryPolicy} p
   */
  function retry(slot, p) {
    writeStrings(p.methods.join(','), p.statusCodes.join(','));
    wasm.fl_retry(
      h, slot, p.limit, p.backoffMs, p.factor, p.maxBackoffMs, p.jitter ? 1 : 0, p.maxRetryAfterMs,
      p.retryOnTimeout ? 1 : 0, lengths[0], lengths[1],
    );
  }

  /**
   * @param {import('./records.js').Call} rec
   * @param {number} id
   */
  function register(rec, id) {
    dirty = true;
    rec.id = id;
    // Where the caller stands now: its task or first attempt may start from another's turn.
    rec.ctx = captureContext();
    rec.seq = ++seq;
    calls.set(id, rec);
    if (rec.signal !== undefined) rec.signal.addEventListener('abort', rec);
  }

  /** The deadline timer fired. */
  function tick() {
    timer = undefined;
    deadline = NaN;
    if (!live) return;
    wasm.fl_tick(h, now());
    fed();
  }

  function updateListening() {
    const wanted = listeners.length !== 0 && live;
    if (wanted === listening) return;
    listening = wanted;
    if (live) wasm.fl_listening(h, wanted ? 1 : 0);
  }

  // ─────────── callers ───────────

  /**
   * Fulfils a caller (once).
   * @param {import('./records.js').Call} rec
   * @param {unknown} value
   */
  function succeed(rec, value) {
    if (rec.state !== PENDING) return;
    rec.state = FULFILLED;
    if (rec.via !== undefined) sample(rec);
    if (rec.group !== null) rec.group.settle(rec.index, true, value);
    else if (rec.resolve !== null) rec.resolve(value);
    else rec.value = value;
  }

  /**
   * Rejects a caller (once).
   * @param {import('./records.js').Call} rec
   * @param {unknown} error
   */
  function fail(rec, error) {
    if (rec.state !== PENDING) return;
    rec.state = REJECTED;
    if (rec.via !== undefined) sample(rec);
    if (rec.group !== null) rec.group.settle(rec.index, false, error);
    else if (rec.reject !== null) rec.reject(error);
    else rec.value = error;
  }

  /**
   * Removes a call from the machine's side: its record, its signal listener.
   * @param {number} id
   */
  function take(id) {
    const rec = calls.get(id);
    if (rec === undefined) return undefined;
    calls.delete(id);
    // Until the drain ends, events and OPEN_OP may still name it.
    recent.set(id, rec);
    if (!rec.running) rec.signal?.removeEventListener('abort', rec);
    return rec;
  }

  /**
   * Why a caller is aborted (its own signal, else its group's), or `undefined`.
   * @param {import('./records.js').Call} rec
   */
  function abortCause(rec) {
    return rec.signal?.aborted ? rec.signal.reason : rec.group?.reason;
  }

  /**
   * The error of a body that could not be decoded: the caller's abort when that is why,
   * else kind `decode`.
   * @param {import('./records.js').Call} rec
   * @param {unknown} cause
   * @param {number} attempts
   */
  function decodeFailure(rec, cause, attempts) {
    const aborted = rec.signal?.aborted || rec.group?.reason !== undefined;
    if (aborted) return fetchlaneError(closed ? 'closed' : 'abort', rec.url, undefined, attempts, abortCause(rec));
    return decodeError(rec.url, rec.as === AS_JSON, cause, attempts);
  }

  // ─────────── the drain ───────────

  /**
   * Executes the machine's commands until there are none, then re-arms the timer and checks
   * for idleness. Re-entrant calls (a callback that calls `fetch`) only queue: the outer loop
   * picks their commands up.
   */
  function drain() {
    if (draining || !live) return;
    draining = true;
    drains++;
    try {
      let i = 0;
      let n = wasm.fl_command_count(h);
      while (i < n) {
        const base = wasm.fl_commands(h) >>> 3;
        const view = memoryF64();
        dirty = false;
        while (i < n) {
          const o = base + i * 8;
          i++;
          try {
            exec(view[o], view[o + 1], view[o + 2], view[o + 3], view[o + 4], view[o + 5], view[o + 6], view[o + 7]);
          } catch (error) {
            // A driver bug must not wedge the loop (or replay the batch): surface it, go on.
            Promise.reject(error);
          }
          // A callback called into the machine: the list may have moved, or memory grown
          // (which detaches the view's buffer).
          if (dirty || view.length === 0) break;
        }
        n = wasm.fl_command_count(h);
      }
      if (n !== 0) wasm.fl_commands_clear(h);
    } finally {
      draining = false;
    }
    after();
  }

  /** After a drain: forget what it needed, re-arm the timer, wake `onIdle` waiters. */
  function after() {
    if (recent.size !== 0) recent.clear();
    abortReason = undefined;
    if (closed) {
      finishClose();
      return;
    }
    const d = wasm.fl_deadline(h);
    if (d !== deadline) {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      deadline = d;
      if (d !== Infinity && d === d) timer = setTimeout(tick, Math.max(0, Math.ceil(d - now())));
    }
    if (idle.length !== 0 && !busy()) wakeIdle();
    if (orphan && calls.size === 0 && ops.size === 0) driver.close();
  }

  /** Whether anything is queued, running or being decoded. */
  function busy() {
    return wasm.fl_active(h) + wasm.fl_pending(h) + decoding + holding !== 0;
  }

  function wakeIdle() {
    const waiting = idle;
    idle = [];
    for (const resolve of waiting) resolve();
  }

  /**
   * One command.
   * @param {number} code
   * @param {number} a
   * @param {number} b
   * @param {number} c
   * @param {number} d
   * @param {number} e
   * @param {number} f
   * @param {number} g
   */
  function exec(code, a, b, c, d, e, f, g) {
    switch (code) {
      case RESOLVE_BODY:
        return resolveBody(a, b, c, d);
      case EMIT:
        return emit(a, b, c, d, e, f, g);
      case RUN_TASK:
        return queueTask(a);
      case REJECT:
        return reject(a, b, c, d, e);
      case OPEN_OP:
        // The call may have been answered already in this batch (stale-while-revalidate).
        ops.set(a, new Op(calls.get(b) ?? recent.get(b)));
        return;
      case START_FETCH:
        return startFetch(a, b, c, d);
      case ABORT_FETCH:
        return abortFetch(a, b);
      case READ_BODY:
        return readBody(a, b, c);
      case DISCARD: {
        const op = ops.get(a);
        release(op);
        if (op !== undefined) op.response = undefined;
        return;
      }
      case RESOLVE_RESPONSE:
        return resolveResponse(a, b, d);
      case DROP_BODY:
        bodies.delete(a);
        return;
      case STORE_READ:
        return storeRead(a, b);
      case STORE_WRITE: {
        // A body for an op's request, fire and forget (a failure is reported).
        const body = bodies.get(a);
        const op = ops.get(b);
        if (body !== undefined && op !== undefined) useStore(op, (s, key) => s.write(key, body)).catch((error) => storeWriteFailed(op, error));
        return;
      }
      case STORE_DELETE: {
        const op = ops.get(a);
        if (op !== undefined) useStore(op, (s, key) => s.remove(key)).catch((error) => storeWriteFailed(op, error));
        return;
      }
      case SET_HEADERS: {
        // The machine merged a 304's headers into the stored ones.
        const body = bodies.get(a);
        if (body === undefined) return;
        const len = wasm.fl_body_headers(h, a) >>> 0;
        body.headers = pairsOfLines(readString(wasm.fl_scratch(len) >>> 0, len));
        body.init = null;
        return;
      }
      case CLOSE_OP: {
        const op = ops.get(a);
        if (op === undefined) return;
        // A body the driver still reads ends its network measure itself.
        if (track !== null && op.since !== op.since) networkMeasure(op);
        if (op.viaBody?.via === op) op.viaBody.via = undefined;
        release(op);
        ops.delete(a);
        return;
      }
      case LIMIT:
        driver.notify({ type: 'limit', host: hostName(a), limit: b, reason: LIMIT_REASONS[c] });
        return;
      default:
        throw new Error(`fetchlane: the machine sent an unknown command ${code}`);
    }
  }

  // ─────────── network ───────────

  /**
   * The Request of one attempt: a copy of the template (so a retried body is sent again),
   * with the attempt's signal and the revalidation header, if any.
   * @param {Op} op
   * @param {AbortSignal} signal
   * @param {number} validator 0 none, 1 If-None-Match, 2 If-Modified-Since
   * @param {number} bodyId the stored body the validator comes from
   * @returns {Request}
   */
  function attemptRequest(op, signal, validator, bodyId) {
    const request =
      op.template !== null
        ? new Request(op.template.clone(), { signal })
        : new Request(op.url, headerPairs.length !== 0 ? { headers: headerPairs, signal } : { signal });
    if (validator !== 0) {
      const body = bodies.get(bodyId);
      const value = body === undefined ? null : first(body.headers, validator === 1 ? 'etag' : 'last-modified');
      if (value !== null) {
        try {
          request.headers.set(validator === 1 ? 'if-none-match' : 'if-modified-since', value);
        } catch {
          // A no-cors request cannot carry it: the attempt goes unconditional.
        }
      }
    }
    return request;
  }

  /**
   * START_FETCH.
   * @param {number} id op
   * @param {number} attempt
   * @param {number} validator
   * @param {number} bodyId
   */
  function startFetch(id, attempt, validator, bodyId) {
    const op = ops.get(id);
    if (op === undefined) return;
    const controller = new AbortController();
    const opener = op.opener;
    const t = now();
    if (op.first !== op.first) {
      op.first = t;
      if (track !== null && opener !== undefined) measure('fetchlane:queue', opener.t0, t, track, [['url', op.url], ['lane', opener.lane]]);
    } else if (op.ended === op.ended) {
      op.wait += t - op.ended;
      if (track !== null) {
        networkMeasure(op);
        measure('fetchlane:retry-wait', op.ended, t, track, [['url', op.url], ['attempt', String(attempt)]]);
      }
    }
    op.sentAt = op.since = t;
    if (validator !== 0) {
      // A 304 answers its callers with this stored body, through this op.
      const body = bodies.get(bodyId);
      if (body !== undefined) body.via = op;
      op.viaBody = body;
    }
    op.controller = controller;
    op.attempt = attempt;
    op.pairs = null;
    let sent;
    try {
      const request = attemptRequest(op, controller.signal, validator, bodyId);
      const trace = opener?.trace;
      if (trace) {
        try {
          request.headers.set('traceparent', traceparent(trace));
        } catch {
          // A no-cors request cannot carry it.
        }
      }
      // Called as a plain function (`this` undefined: an unbound `window.fetch` works); the
      // global fetch is looked up at call time, so that a page may replace it later. In the
      // caller's async context, where instrumentation of `fetch` looks for its parent span.
      const send = () => (fetchFn !== undefined ? fetchFn(request) : fetch(request));
      const ctx = opener?.ctx;
      sent = Promise.resolve(ctx !== undefined ? ctx(send) : send());
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (value) => arrived(id, op, attempt, controller, value),
      (error) => transportFailed(id, op, attempt, controller, error),
    );
  }

  /**
   * Whether a completion for `op`'s attempt is out of date: the client closed, the op was
   * closed (or its id reused), a newer attempt started, or we aborted this one.
   * @param {number} id
   * @param {Op} op
   * @param {AbortController | null} controller
   */
  function stale(id, op, controller) {
    return !live || ops.get(id) !== op || op.controller !== controller || (controller !== null && controller.signal.aborted);
  }

  /**
   * An attempt's fetch resolved.
   * @param {number} id
   * @param {Op} op
   * @param {number} attempt
   * @param {AbortController} controller
   * @param {unknown} value
   */
  function arrived(id, op, attempt, controller, value) {
    if (stale(id, op, controller)) {
      cancel(value);
      return;
    }
    if (!(value instanceof Response)) {
      const error = new Error('fetchlane: the fetch option resolved to something that is not a Response', { cause: value });
      transportFailed(id, op, attempt, controller, error);
      return;
    }
    op.response = value;
    op.claimed = false;
    stop(op);
    op.lastStatus = value.status;
    if (listeners.length !== 0) {
      // Only a `settled` event's timing reads them.
      op.bodyBytes = +(value.headers.get('content-length') ?? NaN);
      op.st = value.headers.get('server-timing');
    }
    let lines;
    if (op.full) {
      op.pairs = pairsOf(value.headers);
      lines = linesOf(op.pairs);
    } else {
      // No cache applies: only what retries and byte counts read; no header iteration.
      lines = '';
      const headers = value.headers;
      for (const name of SELECTED_HEADERS) {
        const v = headers.get(name);
        if (v !== null) lines += `${name}:${v}\n`;
      }
    }
    writeStrings(lines);
    wasm.fl_head(h, now(), id, attempt, value.status, lengths[0]);
    fed();
  }

  /**
   * An attempt's fetch rejected (not because we aborted it).
   * @param {number} id
   * @param {Op} op
   * @param {number} attempt
   * @param {AbortController} controller
   * @param {unknown} error
   */
  function transportFailed(id, op, attempt, controller, error) {
    if (stale(id, op, controller)) return;
    op.error = error;
    stop(op);
    wasm.fl_failed(h, now(), id, attempt);
    fed();
  }

  /**
   * ABORT_FETCH.
   * @param {number} id
   * @param {number} reason 0 caller, 1 timeout, 2 total timeout, 3 closed
   */
  function abortFetch(id, reason) {
    const op = ops.get(id);
    if (op === undefined || op.controller === null) return;
    let why;
    if (reason === 1 || reason === 2) {
      why = new Error(reason === 1 ? 'fetchlane: the attempt timed out (timeoutMs)' : 'fetchlane: totalTimeoutMs ran out');
      op.error = why;
      op.timedOutIn = drains;
    } else if (reason === 3) {
      why = closeReason ?? new Error('fetchlane: the client was closed');
    } else {
      why = abortReason ?? new Error('fetchlane: every caller of a shared request aborted');
    }
    stop(op);
    op.controller.abort(why);
  }

  /**
   * READ_BODY: buffers the op's last response.
   * @param {number} id op
   * @param {number} bodyId
   * @param {number} attempt
   */
  function readBody(id, bodyId, attempt) {
    const op = ops.get(id);
    if (op === undefined) return;
    const controller = op.controller;
    const response = op.response;
    op.response = undefined;
    // Reading the body is network time too.
    op.since = now();
    const read =
      response === undefined || op.claimed
        ? Promise.reject(new Error('fetchlane: no response to read'))
        : response.arrayBuffer();
    read.then(
      (bytes) => {
        if (stale(id, op, controller)) return;
        const r = /** @type {Response} */ (response);
        const body = new Body(bytes, r.status, r.statusText, op.pairs ?? pairsOf(r.headers));
        bodies.set(bodyId, body);
        stop(op);
        op.bodyBytes = bytes.byteLength;
        body.via = op;
        op.viaBody = body;
        wasm.fl_body(h, now(), id, attempt, bytes.byteLength);
        fed();
      },
      (error) => {
        if (stale(id, op, controller)) return;
        op.error = error;
        stop(op);
        wasm.fl_body_failed(h, now(), id, attempt);
        fed();
      },
    );
  }

  // ─────────── answers ───────────

  /**
   * RESOLVE_BODY: the caller gets its own copy of a buffered body, decoded as it asked.
   * @param {number} callId
   * @param {number} bodyId
   * @param {number} source
   * @param {number} attempts
   */
  function resolveBody(callId, bodyId, source, attempts) {
    const rec = take(callId);
    if (rec === undefined) return;
    const body = bodies.get(bodyId);
    // Network, dedupe and revalidated answers went through an op; cache hits did not.
    if (source === 1 || source > 3) rec.via = body?.via;
    if (body === undefined) {
      fail(rec, fetchlaneError('network', rec.url, undefined, attempts, new Error('fetchlane: the buffered body is gone')));
      return;
    }
    if (rec.as === AS_TEXT || rec.as === AS_JSON) {
      let value;
      try {
        value = rec.as === AS_TEXT ? body.text() : picked(rec, JSON.parse(body.text()));
      } catch (error) {
        // The caller hears of its own failure before the machine aborts its group's rest.
        fail(rec, decodeFailure(rec, error, attempts));
        decoded(rec, false);
        return;
      }
      succeed(rec, value);
      decoded(rec, true);
      return;
    }
    let response;
    try {
      response = body.response();
    } catch (error) {
      // Only a status outside 200–599 (an opaque response) makes the constructor throw.
      fail(rec, fetchlaneError('network', rec.url, undefined, attempts, error));
      return;
    }
    succeed(rec, response);
  }

  /**
   * RESOLVE_RESPONSE: the caller gets the op's Response itself, body unread.
   * @param {number} callId
   * @param {number} opId
   * @param {number} attempts
   */
  function resolveResponse(callId, opId, attempts) {
    const op = ops.get(opId);
    const response = op === undefined ? undefined : op.response;
    if (op !== undefined) op.claimed = true;
    const rec = take(callId);
    if (rec === undefined) {
      cancel(response);
      return;
    }
    rec.via = op;
    if (response === undefined) {
      fail(rec, fetchlaneError('network', rec.url, undefined, attempts, new Error('fetchlane: the response is gone')));
      return;
    }
    if (rec.as === AS_RESPONSE || rec.as === AS_TASK) {
      succeed(rec, response);
      return;
    }
    // Reading the body is network time too (the op closes before it ends).
    const o = /** @type {Op} */ (op);
    o.since = now();
    // Without Content-Length the machine has not counted the bytes: read them here.
    const reading = response.headers.has('content-length')
      ? rec.as === AS_JSON ? response.json() : response.text()
      : response.arrayBuffer().then((buf) => {
          if (live) wasm.fl_count_bytes(h, buf.byteLength);
          o.bodyBytes = buf.byteLength;
          const text = decodeUtf8(buf);
          return rec.as === AS_JSON ? JSON.parse(text) : text;
        });
    // A call being decoded is still running for `onIdle`.
    decoding++;
    reading.then(
      (value) => {
        decoding--;
        stop(o);
        if (track !== null) networkMeasure(o);
        succeed(rec, rec.as === AS_JSON ? picked(rec, value) : value);
        decoded(rec, true);
      },
      (error) => {
        decoding--;
        stop(o);
        if (track !== null) networkMeasure(o);
        fail(rec, decodeFailure(rec, error, attempts));
        decoded(rec, false);
      },
    );
  }

  /**
   * Tells the machine how decoding a `json`/`text` answer went (it counts the call as settled
   * only then; a failure fails its `all` group). Inside a drain the outer loop carries out
   * what it decides; from a body read that finished later, this drains.
   * @param {import('./records.js').Call} rec
   * @param {boolean} ok
   */
  function decoded(rec, ok) {
    if (!live || closed) return;
    // Its `settled` event names it (the call left `calls` when it was answered).
    recent.set(rec.id, rec);
    wasm.fl_decoded(h, now(), rec.id, ok ? 1 : 0);
    fed();
  }

  /**
   * REJECT.
   * @param {number} callId
   * @param {number} kindCode
   * @param {number} status 0: none
   * @param {number} attempts
   * @param {number} opId 0: none
   */
  function reject(callId, kindCode, status, attempts, opId) {
    const rec = take(callId);
    if (rec === undefined) return;
    const kind = KINDS[kindCode] ?? 'network';
    const op = opId === 0 ? undefined : ops.get(opId);
    rec.via = op;
    let cause;
    let response;
    if (kind === 'abort') cause = abortCause(rec);
    else if (kind === 'network') cause = op?.error;
    else if (kind === 'timeout') {
      // A timeout that aborted an attempt in this batch carries its reason; otherwise the total
      // timeout ran out while the request waited (queue or backoff).
      cause = op?.timedOutIn === drains ? op.error : new Error('fetchlane: totalTimeoutMs ran out');
    }
    else if ((kind === 'http' || kind === 'rate-limit') && op !== undefined) {
      // Every caller of a shared request gets the same error, Response and all.
      response = op.response;
      op.claimed = true;
    }
    fail(rec, fetchlaneError(kind, rec.url, status === 0 ? undefined : status, attempts, cause, response));
  }

  // ─────────── tasks ───────────

  /**
   * RUN_TASK: the task holds a slot; it runs in a microtask (as p-limit runs it), all the
   * tasks started in one turn in one flush.
   * @param {number} callId
   */
  function queueTask(callId) {
    const rec = calls.get(callId);
    if (rec === undefined || rec.task === null || rec.running) return;
    // Its signal is the task's own from now on: no fl_abort for a call that holds a slot.
    rec.running = true;
    if (rec.signal !== undefined) rec.signal.removeEventListener('abort', rec);
    runnable.push(rec);
    if (!flushing) {
      flushing = true;
      queueMicrotask(runTasks);
    }
  }

  /** Runs the tasks RUN_TASK queued (and those their ending lets start). */
  function runTasks() {
    for (let i = 0; i < runnable.length; i++) {
      const rec = runnable[i];
      runnable[i] = undefined;
      runTask(rec);
    }
    runnable.length = 0;
    flushing = false;
  }

  /**
   * Runs one task with a signal that aborts on the caller's signal and on close. A task
   * whose caller aborted (or whose client closed) since it was given its slot does not run.
   * @param {import('./records.js').Call} rec
   */
  function runTask(rec) {
    const task = rec.task;
    rec.task = null;
    if (task === null) return;
    if (closed) {
      taskDone(rec, false, fetchlaneError('closed', '', undefined, 0, closeReason));
      return;
    }
    if (rec.signal?.aborted) {
      taskDone(rec, false, fetchlaneError('abort', '', undefined, 0, rec.signal.reason));
      return;
    }
    const signal = rec.signal === undefined ? closeSignal : anySignal(rec.signal, closeSignal);
    let value;
    let then;
    try {
      const ctx = rec.ctx;
      value = ctx !== undefined ? ctx(() => task(signal)) : task(signal);
      then = value !== null && (typeof value === 'object' || typeof value === 'function') ? value.then : undefined;
    } catch (error) {
      taskDone(rec, false, error);
      return;
    }
    if (typeof then === 'function') {
      Promise.resolve(value).then(
        (result) => taskDone(rec, true, result),
        (error) => taskDone(rec, false, error),
      );
    } else {
      taskDone(rec, true, value);
    }
  }

  /**
   * A task's function settled: its outcome goes to the caller untouched, its slot back to the
   * machine.
   * @param {import('./records.js').Call} rec
   * @param {boolean} ok
   * @param {unknown} value
   */
  function taskDone(rec, ok, value) {
    const isLive = live && calls.get(rec.id) === rec;
    if (isLive) calls.delete(rec.id);
    if (ok) succeed(rec, value);
    else fail(rec, value);
    if (!isLive) return;
    wasm.fl_task_done(h, now(), rec.id);
    fed();
  }

  // ─────────── events out ───────────

  /**
   * EMIT: one event object per listener, built only when someone listens.
   * @param {number} type
   * @param {number} callId
   * @param {number} attempt
   * @param {number} delayMs NaN: none
   * @param {number} status 0: none
   * @param {number} code
   * @param {number} durationMs NaN: none
   */
  function emit(type, callId, attempt, delayMs, status, code, durationMs) {
    if (listeners.length === 0) return;
    const rec = calls.get(callId) ?? recent.get(callId) ?? openedBy(callId);
    tell(type, rec, callId, attempt, delayMs, status, code, durationMs, lastStoreError);
  }

  /**
   * Host `i`'s name, as the machine interned it.
   * @param {number} i
   */
  function hostName(i) {
    const len = (wasm.fl_host(h, i) >>> 0) - 1;
    return readString(wasm.fl_scratch(len) >>> 0, len);
  }

  /** `stats().hosts`: every host seen, with its current limit and percentiles. */
  function hostStats() {
    /** @type {Record<string, object>} */
    const hosts = {};
    for (let i = 0; wasm.fl_host(h, i) !== 0; i++) {
      const name = hostName(i);
      hosts[name] = { limit: wasm.fl_host_limit(h, i), ...percentiles(name) };
    }
    return hosts;
  }

  /**
   * An attempt (or the reading of its body) leaves the network now: its time is added up.
   * @param {Op} op
   */
  function stop(op) {
    if (op.since !== op.since) return;
    op.ended = now();
    op.net += op.ended - op.since;
    op.since = NaN;
  }

  /**
   * A request answered through an op that reached the network settles: its latency and queue
   * wait go into the sketches (overall and its host's).
   * @param {import('./records.js').Call} rec
   */
  function sample(rec) {
    const op = /** @type {Op} */ (rec.via);
    if (op.first !== op.first) return;
    const total = now() - rec.t0;
    const queued = Math.max(0, op.first - rec.t0);
    for (const key of [null, rec.hostKey]) {
      let pair = sketches.get(key);
      if (pair === undefined) sketches.set(key, (pair = [sketch(), sketch()]));
      add(pair[0], total);
      add(pair[1], queued);
    }
  }

  /**
   * `latency` and `queueWait` of `stats()`, of one host or (`null`) of all.
   * @param {string | null} host
   */
  function percentiles(host) {
    const [latency, queueWait] = sketches.get(host) ?? NO_SAMPLES;
    return { latency: summary(latency), queueWait: summary(queueWait) };
  }

  /**
   * The `fetchlane:network` measure of `op`'s last attempt: from its dispatch to the end of its
   * body where the driver read it, else to its head (or to now: it never ended).
   * @param {Op} op
   */
  function networkMeasure(op) {
    if (op.shown === op.attempt || op.sentAt !== op.sentAt) return;
    op.shown = op.attempt;
    const props = [['url', op.url], ['lane', op.opener?.lane ?? 'normal'], ['attempt', String(op.attempt)]];
    if (op.lastStatus !== 0) props.push(['status', String(op.lastStatus)]);
    measure('fetchlane:network', op.sentAt, op.ended === op.ended ? op.ended : now(), track, props);
  }

  /**
   * A `settled` event's `timing`. A request that went through an op has the op's split of
   * the time (dedupe joins share it), `Server-Timing`, and its Resource Timing entry (looked
   * up when first read: the browser adds it once the body is in); a cache hit has none of
   * those fields, rather than zeroes.
   * @param {import('./records.js').Call | undefined} rec
   * @param {number} attempts
   * @param {number} totalMs
   * @param {unknown} source
   * @param {number} t the event's time
   */
  function timingOf(rec, attempts, totalMs, source, t) {
    const op = rec?.via;
    /** @type {Record<string, unknown>} */
    let timing = { totalMs, attempts, source };
    if (op !== undefined) {
      if (op.first !== op.first) {
        // Never dispatched: it waited in the queue all along.
        timing.queuedMs = t - rec.t0;
      } else {
        let entry;
        timing = {
          ...timing,
          queuedMs: Math.max(0, op.first - rec.t0),
          retryWaitMs: op.wait,
          networkMs: op.net + (op.since === op.since ? t - op.since : 0),
          get resource() {
            return (entry ??= resourceTiming(op.url, op.sentAt));
          },
        };
        if (op.bodyBytes === op.bodyBytes) timing.bytes = op.bodyBytes;
        if (op.st !== null) timing.serverTiming = serverTiming(op.st);
      }
    }
    if (rec?.trace) timing.traceId = rec.trace[0];
    return timing;
  }

  /**
   * Builds the event objects (one per listener, as the Rust bindings did) and calls the
   * listeners.
   * @param {number} type
   * @param {import('./records.js').Call | undefined} rec the call it concerns, when known
   * @param {number} callId
   * @param {number} attempt
   * @param {number} delayMs NaN: none
   * @param {number} status 0: none
   * @param {number} code
   * @param {number} durationMs NaN: none
   * @param {unknown} cause `cache-error` only
   */
  function tell(type, rec, callId, attempt, delayMs, status, code, durationMs, cause) {
    const name = EVENT_TYPES[type];
    if (name === undefined) return;
    const time = now();
    // An event about no known call names its id alone.
    const who = rec ?? { seq: callId, url: '', method: '', lane: 'normal' };
    for (const listener of listeners) {
      if (listener.type !== null && listener.type !== name) continue;
      /** @type {Record<string, unknown>} */
      const event = { type: name, id: who.seq, url: who.url, method: who.method, lane: who.lane, time, attempt };
      if (delayMs === delayMs) event.delayMs = delayMs;
      if (type === 3) event.reason = RETRY_REASONS[code] ?? 'network';
      if (status !== 0) event.status = status;
      if (type === 6) {
        const kind = KINDS[code >> 4];
        if (kind !== undefined) event.error = kind;
        event.source = SOURCES[code & 15] ?? 'network';
        event.timing = timingOf(rec, attempt, durationMs, event.source, time);
      } else if (type === 4) {
        event.source = SOURCES[code] ?? 'memory';
      } else if (type === 7) {
        event.source = 'network';
      }
      if (durationMs === durationMs) event.durationMs = durationMs;
      if (type === 8) event.cause = cause;
      callListener(listener.fn, event);
    }
  }

  /**
   * The settled call that opened a live op (a background refresh, a store write), for the
   * events that name it after its drain ended.
   * @param {number} callId
   */
  function openedBy(callId) {
    for (const op of ops.values()) {
      if (op.opener?.id === callId) return op.opener;
    }
    return undefined;
  }

  // ─────────── the Cache API ───────────

  /**
   * A Cache API call on `op`'s entry: `use(store, key)`, where the key is the op's template
   * (its headers count for `Vary`), else its URL with the client's headers. A promise: what
   * goes wrong (no store, a refused key) is a rejection, never a throw.
   * @param {Op} op
   * @param {(store: ReturnType<typeof persistentStore>, key: Request | string) => Promise<any>} use
   * @returns {Promise<any>}
   */
  function useStore(op, use) {
    try {
      if (store === null) throw new Error('fetchlane: this client has no persistent cache');
      const key = op.template !== null ? op.template : headerPairs.length !== 0 ? new Request(op.url, { headers: headerPairs }) : op.url;
      return use(store, key);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A Cache API lookup for `op` failed: the machine goes on without it and emits the
   * `cache-error` event.
   * @param {number} id
   * @param {Op} op
   * @param {unknown} error
   */
  function storeFailed(id, op, error) {
    if (!live || ops.get(id) !== op) return;
    lastStoreError = error;
    wasm.fl_store_failed(h, now(), id);
    fed();
  }

  /**
   * A Cache API write or delete failed. The machine closed the op when it asked (it takes
   * `fl_store_failed` only for lookups), so the driver tells listeners itself.
   * @param {Op} op
   * @param {unknown} error
   */
  function storeWriteFailed(op, error) {
    if (!live || listeners.length === 0) return;
    const rec = op.opener;
    tell(8, rec, rec === undefined ? 0 : rec.id, 0, NaN, 0, 0, NaN, error);
  }

  /**
   * STORE_READ.
   * @param {number} id op
   * @param {number} bodyId where a found entry goes
   */
  function storeRead(id, bodyId) {
    const op = ops.get(id);
    if (op === undefined) return;
    useStore(op, (s, key) => s.read(key)).then(
      (found) => {
        if (!live || ops.get(id) !== op) return;
        if (found === null) {
          writeStrings('');
          wasm.fl_store_read(h, now(), id, 0, 0, 0, 0);
        } else {
          bodies.set(bodyId, found.body);
          writeStrings(linesOf(found.body.headers));
          wasm.fl_store_read(h, now(), id, 1, found.storedAt, found.body.status, lengths[0]);
        }
        fed();
      },
      (error) => storeFailed(id, op, error),
    );
  }

  // ─────────── closing ───────────

  /** The end of `close`, once no drain is running: free the machine, stop every timer. */
  function finishClose() {
    if (!live) return;
    finalStats = driver.stats();
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    deadline = NaN;
    live = false;
    listening = false;
    wasm.fl_free(h);
    // What the machine should have ended already: end it now.
    for (const op of ops.values()) {
      if (op.claimed) continue;
      if (op.controller !== null && !op.controller.signal.aborted) op.controller.abort(closeReason);
      if (op.response !== undefined) cancel(op.response);
    }
    ops.clear();
    bodies.clear();
    const left = [...calls.values()];
    calls.clear();
    for (const rec of left) {
      if (rec.running) continue; // a running task settles on its own
      if (rec.signal !== undefined) rec.signal.removeEventListener('abort', rec);
      fail(rec, fetchlaneError('closed', rec.url, undefined, 0));
    }
    closeController.abort(closeReason);
    wakeIdle();
  }

  // ─────────── the client's side ───────────

  const driver = {
    /** Whether `close` was called. */
    get closed() {
      return closed;
    },

    /** The Cache API store (`null`: no persistent cache). */
    persist: store,

    drain,
    fail,
    succeed,
    retry,

    /**
     * Queues a request call (the caller then drains). Registers the record under its id and
     * listens to the caller's signal.
     * @param {import('./records.js').Call} rec
     * @param {string} host `host:port`
     * @param {number} lane
     * @param {number} strategy
     * @param {number} ttlMs NaN: not set
     * @param {number} timeoutMs NaN: not set
     * @param {number} totalTimeoutMs NaN: not set
     * @param {number} dedupe 0 default, 1 on, 2 off
     * @param {number} flags
     * @param {number} group
     * @param {string} key
     * @param {string} headers `name:value\n` lines
     */
    submit(rec, host, lane, strategy, ttlMs, timeoutMs, totalTimeoutMs, dedupe, flags, group, key, headers) {
      writeStrings(rec.method, rec.url, host, key, headers);
      rec.hostKey = host;
      const id = wasm.fl_submit(
        h, (rec.t0 = now()), lane, strategy, ttlMs, timeoutMs, totalTimeoutMs, dedupe, flags, group,
        lengths[0], lengths[1], lengths[2], lengths[3], lengths[4],
      );
      // Ids are u32 (a generation in the high bits); an i32 return reads negative above 2^31.
      register(rec, id >>> 0);
    },

    /**
     * Queues a `schedule` task (the caller then drains).
     * @param {import('./records.js').Call} rec
     * @param {number} lane
     * @param {string} host '' for none
     */
    task(rec, lane, host) {
      let hostLen = 0;
      if (host !== '') {
        writeStrings(host);
        hostLen = lengths[0];
      }
      register(rec, wasm.fl_task(h, now(), lane, hostLen, 0) >>> 0);
    },

    /**
     * A caller's signal fired while its call was with the machine.
     * @param {import('./records.js').Call} rec
     */
    callerAborted(rec) {
      if (!live || closed || rec.running || rec.state !== PENDING || calls.get(rec.id) !== rec) return;
      abortReason = rec.signal?.reason;
      wasm.fl_abort(h, now(), rec.id);
      fed();
    },

    /**
     * A new group; 0 once closed.
     * @param {boolean} abortOnFailure
     * @returns {number}
     */
    openGroup(abortOnFailure) {
      if (!live) return 0;
      return wasm.fl_group(h, abortOnFailure ? 1 : 0) >>> 0;
    },

    /**
     * Aborts every member of a group still queued or in flight.
     * @param {{ id: number, reason: unknown }} group
     */
    abortGroup(group) {
      if (!live || closed || group.id === 0) return;
      abortReason = group.reason;
      wasm.fl_abort_group(h, now(), group.id);
      fed();
    },

    /**
     * The driver is done with a group (every member has settled).
     * @param {number} id
     */
    endGroup(id) {
      if (live && id !== 0) wasm.fl_group_end(h, id);
    },

    /** Rejects every queued request and task with kind `abort`. */
    clearQueue() {
      if (!live) return;
      wasm.fl_clear_queue(h, now());
      fed();
    },

    /** @param {number} n a positive integer or Infinity */
    setConcurrency(n) {
      if (!live) {
        finalConcurrency = n;
        return;
      }
      wasm.fl_set_concurrency(h, now(), n);
      fed();
    },

    /** @param {number} n keys a loader batch served */
    countBatched(n) {
      if (live) wasm.fl_count_batched(h, n);
    },

    /** Requests and tasks running now. */
    active() {
      return !live ? 0 : wasm.fl_active(h);
    },

    /** Requests and tasks queued, with the calls the client still holds. */
    pending() {
      return !live ? 0 : wasm.fl_pending(h) + holding;
    },

    /**
     * A call the client holds before submitting it (`n` 1), or no longer holds (-1): it counts
     * as queued for `pendingCount` and `onIdle`. The caller drains after letting go.
     * @param {number} n
     */
    hold(n) {
      holding += n;
    },

    /** The global limit (Infinity when unlimited). */
    concurrency() {
      return !live ? finalConcurrency : wasm.fl_concurrency(h);
    },

    /**
     * Tells the listeners of `event.type` (and of every type) an event the machine does not
     * make (`limit` comes from a command, `uncompressed` from the client), stamped with the time.
     * @param {{ type: string } & Record<string, unknown>} event
     */
    notify(event) {
      event.time = now();
      for (const { type, fn } of listeners) if (type === null || type === event.type) callListener(fn, { ...event });
    },

    /**
     * Whether a GET of `url` (with the request header lines `headers`) is answered now
     * without a request of its own: in flight, or fresh in the memory cache.
     * @param {string} url
     * @param {string} headers
     */
    answers(url, headers) {
      if (!live) return false;
      writeStrings(url, headers);
      return wasm.fl_answers(h, now(), lengths[0], lengths[1]) === 1;
    },

    /** The `ClientStats` object: a fresh one each call. */
    stats() {
      if (!live) {
        const s = /** @type {any} */ (finalStats);
        return { ...s, cacheHits: { ...s.cacheHits } };
      }
      const stat = (i) => wasm.fl_stat(h, i);
      return {
        started: stat(0),
        succeeded: stat(1),
        failed: stat(2),
        retried: stat(3),
        deduped: stat(4),
        batched: stat(5),
        cacheHits: { memory: stat(6), persistent: stat(7) },
        cacheMisses: stat(8),
        rateLimited: stat(9),
        bytes: stat(10),
        wasmMemory: wasm.memory.buffer.byteLength,
        ...percentiles(null),
        hosts: hostStats(),
      };
    },

    /**
     * Resolves when nothing is queued or running.
     * @returns {Promise<void>}
     */
    onIdle() {
      if (!live || !busy()) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },

    /**
     * Drops the memory entries whose URL matches; returns those URLs.
     * @param {(url: string) => boolean} matches
     * @returns {string[]}
     */
    forgetMemory(matches) {
      if (!live) return [];
      const urls = new Set();
      const n = wasm.fl_entry_count(h);
      for (let i = 0; i < n; i++) {
        const len = wasm.fl_entry_url(h, i) >>> 0;
        // The URL sits at the scratch pointer; asking for no more room than it holds returns
        // that pointer without moving it.
        urls.add(readString(wasm.fl_scratch(len) >>> 0, len));
      }
      const removed = [];
      for (const url of urls) {
        if (!matches(url) || !live) continue;
        writeStrings(url);
        if (wasm.fl_forget(h, lengths[0]) > 0) removed.push(url);
      }
      return removed;
    },

    /** Drops every memory entry. */
    clearMemory() {
      if (live) wasm.fl_clear_cache(h);
    },

    /**
     * Adds a listener for one event type (`null`: every type); returns the function that
     * removes it.
     * @param {string | null} type
     * @param {Function} fn
     * @returns {() => void}
     */
    on(type, fn) {
      const entry = { type, fn };
      listeners = [...listeners, entry];
      updateListening();
      let on = true;
      return () => {
        if (!on) return;
        on = false;
        listeners = listeners.filter((l) => l !== entry);
        updateListening();
      };
    },

    /**
     * The caller's promise. A call that already settled (a memory hit, a synchronous task)
     * gets a settled promise and no executor closure.
     * @param {import('./records.js').Call} rec
     * @returns {Promise<any>}
     */
    promiseOf(rec) {
      if (rec.state !== PENDING) {
        const value = rec.value;
        rec.value = undefined;
        return rec.state === FULFILLED ? Promise.resolve(value) : Promise.reject(value);
      }
      return new Promise((resolve, reject) => {
        rec.resolve = resolve;
        rec.reject = reject;
      });
    },

    /**
     * Aborts all work and frees the machine; later calls reject with kind `closed`. Listeners
     * hear nothing more (the `settled` events of what close rejects included).
     */
    close() {
      if (closed) return;
      closed = true;
      listeners = [];
      if (!live) return;
      updateListening();
      closeReason = new Error('fetchlane: the client was closed');
      // Read before closing: a closed machine keeps no limits.
      finalConcurrency = wasm.fl_concurrency(h);
      wasm.fl_close(h, now());
      dirty = true;
      if (draining) return; // the outer drain finishes the close
      drain();
    },

    /** The Client was garbage-collected without `close()`: close once nothing is in flight. */
    orphaned() {
      orphan = true;
      if (live && !draining && calls.size === 0 && ops.size === 0) driver.close();
    },
  };

  h = wasm.fl_new(Math.floor(Math.random() * 0x100000000), Date.now() - now()) >>> 0;
  live = true;
  wasm.fl_config(h, config.concurrency, config.perHost, orNaN(config.timeoutMs), orNaN(config.totalTimeoutMs), config.dedupe ? 1 : 0, config.throwHttpErrors ? 1 : 0);
  retry(0, config.retry);
  if (config.adaptive !== false) wasm.fl_adaptive(h, config.adaptive.min, config.adaptive.max, config.adaptive.initial);
  for (const rule of config.rateLimits) {
    writeStrings(rule.host ?? '');
    wasm.fl_rate_limit(h, rule.limit, rule.intervalMs, lengths[0]);
  }
  if (cache !== false) {
    const p = cache.persist;
    wasm.fl_cache(
      h, STRATEGIES[cache.strategy] ?? 1, orNaN(cache.ttlMs), cache.maxEntries, cache.maxBytes, cache.allowPrivate ? 1 : 0,
      p === false ? 0 : 1, p === false ? NaN : orNaN(p.maxEntries), p === false ? NaN : orNaN(p.maxAgeMs),
    );
  }
  fed();
  return driver;
}
