// The public `Client` class: checks what callers pass, turns it into calls for the driver
// (js/driver.js), and hands back their promises. Inputs are handled as the Rust bindings did
// (src/bindings/input.rs, src/client/request.rs): a string, URL or Request, resolved against
// `baseUrl`, with the client's `headers` added where the request sets none, copied into a
// template Request that each attempt clones (so a retried body is sent again).

import {
  clientOptions,
  concurrencyLimit,
  groupOptions,
  laneInit,
  loaderOptions,
  outboxOptions,
  paginateOptions,
  scheduleOptions,
} from './options.js';
import { compressed, knownSize } from './compress.js';
import { callListener, createDriver, orNaN } from './driver.js';
import { badArgument, decodeError, describe, fetchlaneError } from './errors.js';
import { fieldBatcher, picked, withFields } from './fields.js';
import { createLoader } from './loader.js';
import { createOutbox } from './outbox.js';
import { createShare } from './share.js';
import { decodeUtf8 } from './wasm.js';
import { paginate } from './paginate.js';
import { propagates, traceOf } from './observe.js';
import { AS_JSON, AS_RESPONSE, AS_TASK, AS_TEXT, EVENT_NAMES, LANES, STRATEGIES } from './protocol.js';
import { Call, linesOf } from './records.js';
import { addHeaders, against, callerRequest, notAnInput, pageUrl, urlOf } from './request.js';

// What no options give, decoded once (a request without `init` is the hot path). Read only.
const DEFAULT_LANE = laneInit(undefined);
const DEFAULT_SCHEDULE = scheduleOptions(undefined);
const DEFAULT_GROUP = groupOptions(undefined);

/** The strategies that bypass the cache. */
const NETWORK_ONLY = STRATEGIES['network-only'];
const NONE = STRATEGIES.none;

/** Group result formats as the driver numbers them. */
const AS = { json: AS_JSON, text: AS_TEXT, response: AS_RESPONSE };

const EVENT_LIST = EVENT_NAMES.map((n) => `'${n}'`).join(', ');

/** Frees the machine of a client dropped without `close()` (once its work is done). */
const orphans = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry((driver) => driver.orphaned()) : null;

// ───────────────────────────── helpers ─────────────────────────────

/**
 * The `host[:port]` of an absolute URL (what per-host limits and pauses key on).
 * @param {string} url
 * @returns {string}
 */
export function hostOf(url) {
  const scheme = url.indexOf('://');
  let start = scheme < 0 ? 0 : scheme + 3;
  let end = url.length;
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
  }
  const at = url.lastIndexOf('@', end - 1);
  if (at >= start) start = at + 1;
  return url.slice(start, end);
}

/**
 * Whether `object` has no enumerable key.
 * @param {object} object
 */
function isEmpty(object) {
  for (const _ in object) return false;
  return true;
}

/** What a relative `new Request(url)` resolves against here: the document's base, the worker's URL. */
function pageBase() {
  const doc = globalThis.document;
  if (doc !== undefined && doc !== null && typeof doc.baseURI === 'string') return doc.baseURI;
  return pageUrl();
}

/**
 * How many resolved URLs a client with a cache remembers (see `Client#_resolve`): enough for
 * the entries a page hits (256 thrashed on the cache benchmark's 300 URLs), bounded so that
 * a stream of distinct URLs cannot hold memory.
 */
const MEMO_MAX = 2048;

/**
 * An `all` / `allSettled` in progress: results in input order. The driver reads its `id`
 * and `reason` and calls its `settle` as members settle; the rest is its own.
 * @param {ReturnType<typeof createDriver>} driver
 * @param {boolean} settledMode `allSettled`
 * @param {number} total
 * @param {boolean} abortOnFailure
 * @param {Function | undefined} onProgress
 * @param {(value: unknown[]) => void} resolve
 * @param {(reason: unknown) => void} reject
 */
function openGroup(driver, settledMode, total, abortOnFailure, onProgress, resolve, reject) {
  let done = 0;
  let failed = 0;
  let finished = false;
  /** @type {unknown[]} */
  const results = new Array(total);
  const group = {
    /** The machine's group id (0: none). */
    id: driver.closed ? 0 : driver.openGroup(abortOnFailure),
    /** Why the siblings were aborted (their `abort` errors' cause). */
    reason: undefined,

    /**
     * A member settled.
     * @param {number} index
     * @param {boolean} ok
     * @param {unknown} value
     */
    settle(index, ok, value) {
      done++;
      if (settledMode) {
        if (!ok) failed++;
        results[index] = ok ? { status: 'fulfilled', value } : { status: 'rejected', reason: value };
        if (onProgress !== undefined) callListener(onProgress, { done, total, failed });
      } else if (ok) {
        results[index] = value;
      } else if (!finished) {
        finished = true;
        reject(value);
        if (abortOnFailure) {
          group.reason = new Error('fetchlane: a sibling in `all` failed');
          driver.abortGroup(group);
        }
      }
      if (done === total) {
        if (!finished) {
          finished = true;
          resolve(results);
        }
        driver.endGroup(group.id);
      }
    },
  };
  return group;
}

// ───────────────────────────── the client ─────────────────────────────

/** A fetchlane client: `await createClient(options)` gives one. */
export class Client {
  /**
   * Builds a client; throws a TypeError or RangeError naming a bad option. Needs the wasm
   * loaded (`createClient` sees to it).
   * @param {unknown} [options]
   */
  constructor(options) {
    const config = clientOptions(options);
    const driver = createDriver(config);
    this._driver = driver;
    /** @type {string | undefined} */
    this._baseUrl = config.baseUrl;
    this._cacheOn = config.cache !== false;
    this._cacheStrategy = config.cache === false ? 0 : STRATEGIES[config.cache.strategy];
    this._dedupe = config.dedupe;
    /** @type {[string, string][]} */
    this._headerPairs = config.headers;
    this._headerLines = linesOf(config.headers);
    this._headerIdempotency = config.headers.some(([n]) => n === 'idempotency-key');
    /** @type {Map<string, string>} Inputs already resolved (see `_resolve`). */
    this._memo = new Map();
    /** @type {string | undefined} The base `_memo` was made against. */
    this._memoBase = undefined;
    this._fields = fieldBatcher(config.fields, (url, headers) => driver.answers(url, headers), () => driver.drain());
    this._fieldParam = config.fields.param;
    this._compressOver = config.compressOver;
    this._propagate = config.propagate;
    this._traceparent = config.traceparent;
    /** @type {Set<Call>} Calls whose bodies are being compressed. */
    this._packing = new Set();
    /** @type {Map<string, { outbox: object, close: () => void }>} */
    this._outboxes = new Map();
    const bg = config.background;
    /** Whether `background` lane work waits now (ClientOptions.background). */
    this._paused = () =>
      (bg.whenHidden === 'pause' && globalThis.document?.visibilityState === 'hidden') || (bg.whenOffline === 'pause' && globalThis.navigator?.onLine === false);
    /** @type {Map<Call, () => void>} Background calls waiting for the page to be visible or online, and what sends them. */
    this._parked = new Map();
    /** @type {Map<number, { rec: Call, o: any, group: number, off: () => void }>} Calls handed to the leading tab (share), and what stops their signal listener and deadline. */
    this._forwarded = new Map();
    this._retry = config.retry;
    /** The client's timeouts, for calls handed to another tab (share). */
    this._timeouts = [config.timeoutMs, config.totalTimeoutMs];
    this._share =
      config.share === undefined
        ? null
        : createShare(config.share.name, {
            run: (url, init) => this._one(url, init, AS_RESPONSE, false, true),
            local: (id) => {
              const f = this._forwarded.get(id);
              if (f === undefined) return;
              this._forwarded.delete(id);
              f.off();
              driver.hold(-1);
              this._submit(f.rec, f.o, f.group);
              driver.drain();
            },
            answer: (id, m) => this._answer(id, m),
          });
    if (config.onEvent !== undefined) driver.on(null, config.onEvent);
    if (orphans !== null) orphans.register(this, driver);
  }

  // ─────────── requests ───────────

  /**
   * One request through the pipeline; resolves to a readable Response of its own.
   * @param {string | URL | Request} input
   * @param {object} [init] a LaneInit
   * @returns {Promise<Response>}
   */
  fetch(input, init) {
    return this._one(input, init, AS_RESPONSE);
  }

  /**
   * Like `fetch`, with the body parsed as JSON (kind `decode` when it does not parse).
   * @param {string | URL | Request} input
   * @param {object} [init]
   * @returns {Promise<any>}
   */
  json(input, init) {
    return this._one(input, init, AS_JSON);
  }

  /**
   * Like `fetch`, with the body read as text.
   * @param {string | URL | Request} input
   * @param {object} [init]
   * @returns {Promise<string>}
   */
  text(input, init) {
    return this._one(input, init, AS_TEXT);
  }

  /**
   * @param {unknown} input
   * @param {unknown} init
   * @param {number} as
   * @param {boolean} [whole] never trimmed by `fields.project` (a loader's batch)
   */
  _one(input, init, as, whole = false, peer = false) {
    const driver = this._driver;
    let rec;
    try {
      rec = this._prepare(input, init, as, 'input');
      rec.whole = whole;
      rec.peer = peer;
      this._send(rec, 0);
      driver.drain();
    } catch (error) {
      return Promise.reject(error);
    }
    return driver.promiseOf(rec);
  }

  /**
   * The call for `fetch(input, init)`: options checked, URL resolved, the template Request
   * built (or, for a plain GET of a URL, left to be built only when an attempt needs it).
   * Throws a TypeError or RangeError.
   * @param {unknown} input
   * @param {unknown} init
   * @param {number} as
   * @param {string} what how errors name `input`
   * @returns {Call}
   */
  _prepare(input, init, as, what) {
    const o = init === undefined || init === null ? DEFAULT_LANE : laneInit(init);
    let url = urlOf(input);
    /** @type {Request | null} */
    let template = null;
    const empty = isEmpty(o.requestInit);
    if (url !== null) {
      // A plain GET: no Request until an attempt needs one.
      const absolute = empty ? this._resolve(url) : null;
      if (absolute !== null) url = absolute;
      else template = callerRequest(against(url, this._baseUrl), o.requestInit);
    } else if (input instanceof Request) {
      // A copy, so the caller's request (and its body) stays theirs.
      template = callerRequest(input, empty ? undefined : o.requestInit);
    } else {
      throw notAnInput(what, input);
    }
    let method = 'GET';
    if (template !== null) {
      url = template.url;
      method = template.method;
      addHeaders(template.headers, this._headerPairs);
    }
    if (o.fields !== undefined && method !== 'GET') {
      throw new TypeError(`fetchlane: init.fields is for a GET, not a ${method}`);
    }
    if (o.compress !== undefined && (method === 'GET' || method === 'HEAD')) {
      throw new TypeError(`fetchlane: init.compress needs a body; a ${method} has none`);
    }
    const rec = new Call(this._driver, as, /** @type {string} */ (url), method, o.lane);
    rec.template = template;
    rec.signal = o.signal;
    rec.opts = o;
    const origins = this._propagate;
    if (origins !== undefined && propagates(origins, rec.url)) {
      // The parent is the caller's, so it is asked for now, in the caller's turn.
      let trace = o.traceparent;
      if (trace === undefined) {
        const parent = this._traceparent?.();
        trace = traceOf(parent == null ? undefined : String(parent)) ?? undefined;
        if (trace === undefined) throw new TypeError(`fetchlane: options.traceparent() returned ${describe(parent)}, not a W3C traceparent`);
      }
      rec.trace = trace;
    }
    return rec;
  }

  /**
   * `url` resolved as the Request constructor would resolve it (against `baseUrl`, else the
   * page), remembered so that a URL asked for again is not parsed again (the URL parser is
   * one of the costlier steps of a cache hit). `null` when it cannot be resolved or carries
   * credentials (the Request constructor refuses those: it then says why).
   * @param {string} url
   * @returns {string | null}
   */
  _resolve(url) {
    const base = this._baseUrl ?? pageBase();
    const memo = this._memo;
    if (base !== this._memoBase) {
      memo.clear();
      this._memoBase = base;
    }
    // Only a cache hit is fast enough for the parse to matter; without a cache every request
    // goes to the network, and remembering its URL would only hold memory.
    const known = this._cacheOn ? memo.get(url) : undefined;
    if (known !== undefined) return known;
    let parsed;
    try {
      parsed = new URL(url, base);
    } catch {
      return null;
    }
    if (parsed.username !== '' || parsed.password !== '') return null;
    if (this._cacheOn) {
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(url, parsed.href);
    }
    return parsed.href;
  }

  /**
   * A `RequestLike`: a string, URL or Request, or `{ input, init? }`.
   * @param {unknown} item
   * @param {number} as
   * @param {string} what
   */
  _prepareLike(item, as, what) {
    const wrapper =
      item !== null && typeof item === 'object' && !(item instanceof Request) && !(item instanceof URL) && 'input' in item;
    if (wrapper) return this._prepare(/** @type {any} */ (item).input, /** @type {any} */ (item).init, as, what);
    return this._prepare(item, undefined, as, what);
  }

  /**
   * Hands a prepared call to the machine (the caller drains), or settles it at once when its
   * signal has already fired or the client is closed.
   * @param {Call} rec
   * @param {number} group
   */
  _send(rec, group) {
    const driver = this._driver;
    const o = /** @type {typeof DEFAULT_LANE} */ (rec.opts);
    if (o.fields !== undefined && !rec.held) {
      rec.held = true;
      if (o.key === undefined) {
        // Held to the end of the tick, to go out with the tick's other calls for this URL.
        const headers = rec.template === null ? this._headerLines : linesOf(rec.template.headers);
        driver.hold(1);
        this._fields.hold(rec, headers, o.fields, (url) => {
          driver.hold(-1);
          try {
            rec.url = url;
            if (rec.template !== null) rec.template = new Request(url, rec.template);
            this._send(rec, group);
          } catch (error) {
            driver.fail(rec, error);
          }
        });
        return;
      }
      rec.url = withFields(rec.url, this._fieldParam, o.fields);
      if (rec.template !== null) rec.template = new Request(rec.url, rec.template);
    }
    // Firefox has no `Request.body`: any method but GET and HEAD may carry one. Checked only
    // when compression is asked for, so that other calls pay nothing here.
    const over = this._compressOver;
    const format =
      o.compress ?? (over !== undefined && rec.template !== null && rec.method !== 'GET' && rec.method !== 'HEAD' ? 'gzip' : undefined);
    // A body whose size is known without reading it and is not over the threshold goes at once.
    if (format !== undefined && !rec.packed && !(('body' in o.requestInit ? knownSize(o.requestInit.body) : Infinity) <= (o.compress ? 0 : over))) {
      // The body is read and compressed first; the call joins the queue after.
      rec.packed = true;
      driver.hold(1);
      const packing = this._packing;
      packing.add(rec);
      /** @param {() => void} next */
      const done = (next) => {
        // clearQueue may have taken it already.
        if (!packing.delete(rec)) return;
        driver.hold(-1);
        next();
        driver.drain();
      };
      const note = () => driver.notify({ type: 'uncompressed', url: rec.url, method: rec.method });
      compressed(/** @type {Request} */ (rec.template), format, o.compress ? 0 : over, note).then(
        (request) =>
          done(() => {
            rec.template = request;
            this._send(rec, group);
          }),
        (cause) => done(() => driver.fail(rec, new TypeError('fetchlane: the body cannot be read', { cause }))),
      );
      return;
    }
    if (rec.lane === 'background' && !rec.peer && this._park(rec, () => this._send(rec, group))) return;
    rec.opts = null;
    const signal = rec.signal;
    if (signal?.aborted || rec.group?.reason !== undefined) {
      driver.fail(rec, fetchlaneError(driver.closed ? 'closed' : 'abort', rec.url, undefined, 0, signal?.aborted ? signal.reason : rec.group?.reason));
      return;
    }
    if (driver.closed) {
      driver.fail(rec, fetchlaneError('closed', rec.url, undefined, 0));
      return;
    }
    if (this._share !== null && this._forward(rec, o, group)) return;
    this._submit(rec, o, group);
  }

  /**
   * Hands a call to the leading tab when this one follows (share); false when it leads or is
   * alone. The call counts as queued until the answer comes back.
   * @param {Call} rec
   * @param {any} o its LaneOptions
   * @param {number} group
   */
  _forward(rec, o, group) {
    const share = /** @type {any} */ (this._share);
    if (share.state.role !== 'follower') return false;
    const driver = this._driver;
    driver.hold(1);
    const t = rec.template;
    const method = rec.method;
    // A copy's body is read: the template keeps its own for this tab's machine, should it lead.
    (t === null || method === 'GET' || method === 'HEAD' ? Promise.resolve(null) : t.clone().arrayBuffer()).then((body) => {
      // Aborted or closed while the body was read.
      if (rec.signal?.aborted || driver.closed) {
        driver.hold(-1);
        driver.fail(rec, fetchlaneError(driver.closed ? 'closed' : 'abort', rec.url, undefined, 0, rec.signal?.reason));
        return;
      }
      // This client's timeouts and retry rules, where the call sets none, go with it: the
      // leader's client applies its own limits, cache and de-duplication only.
      const retry = o.retry ?? this._retry;
      const total = o.totalTimeoutMs ?? this._timeouts[1];
      const init = {
        method, headers: t === null ? this._headerPairs : [...t.headers], body, lane: o.lane, strategy: o.strategy, ttlMs: o.ttlMs,
        timeoutMs: o.timeoutMs ?? this._timeouts[0], totalTimeoutMs: total, retry, dedupe: o.dedupe, key: o.key,
      };
      // A call may go again to the next leader where the retry rules would send it again (its
      // method listed, or an idempotency key).
      const id = share.forward(rec.url, init, retry.limit > 0 && (retry.methods.includes(method) || init.headers.some((h) => h[0] === 'idempotency-key')));
      if (id === false) {
        // It leads now: its own machine runs the call.
        driver.hold(-1);
        this._submit(rec, o, group);
        driver.drain();
        return;
      }
      // It ends here when its signal fires or its totalTimeoutMs runs out, also while the
      // leader cannot answer (frozen).
      const drop = (kind, cause) => {
        if (!this._forwarded.delete(id)) return;
        off();
        share.abort(id);
        driver.hold(-1);
        driver.fail(rec, fetchlaneError(kind, rec.url, undefined, 0, cause));
        driver.drain();
      };
      const aborted = () => drop('abort', rec.signal?.reason);
      const timer = total === undefined ? 0 : setTimeout(() => drop('timeout', new Error('fetchlane: totalTimeoutMs ran out')), total);
      const off = () => {
        clearTimeout(timer);
        rec.signal?.removeEventListener('abort', aborted);
      };
      this._forwarded.set(id, { rec, o, group, off });
      rec.signal?.addEventListener('abort', aborted, { once: true });
    }, (cause) => {
      driver.hold(-1);
      driver.fail(rec, new TypeError('fetchlane: the body cannot be read', { cause }));
    });
    return true;
  }

  /**
   * The leading tab's answer to a forwarded call: the response (its body as bytes), or the
   * error's kind and status.
   * @param {number} id
   * @param {any} m
   */
  _answer(id, m) {
    const f = this._forwarded.get(id);
    if (f === undefined) return;
    this._forwarded.delete(id);
    f.off();
    const driver = this._driver;
    driver.hold(-1);
    const rec = f.rec;
    try {
      if (m.t === 'err') throw fetchlaneError(m.kind, rec.url, m.status, m.attempts, new Error(m.message));
      const response = new Response(m.body, { status: m.status, statusText: m.statusText, headers: m.headers });
      if (rec.as === AS_RESPONSE || rec.as === AS_TASK) driver.succeed(rec, response);
      else {
        const text = decodeUtf8(m.body);
        driver.succeed(rec, rec.as === AS_JSON ? picked(rec, JSON.parse(text)) : text);
      }
    } catch (error) {
      driver.fail(rec, error instanceof SyntaxError ? decodeError(rec.url, true, error, 1) : error);
    }
    driver.drain();
  }

  /**
   * The call's way into this tab's machine.
   * @param {Call} rec
   * @param {any} o its LaneOptions
   * @param {number} group
   */
  _submit(rec, o, group) {
    const driver = this._driver;
    const strategy = o.strategy === undefined ? 0 : STRATEGIES[o.strategy];
    const method = rec.method;
    const effective = strategy === 0 ? this._cacheStrategy : strategy;
    const cached = this._cacheOn && method === 'GET' && effective !== NETWORK_ONLY && effective !== NONE;
    const deduped = o.dedupe !== undefined ? o.dedupe : this._dedupe && (method === 'GET' || method === 'HEAD');
    rec.full = cached;
    const template = rec.template;
    let headers = '';
    let flags = 0;
    if (template === null) {
      if (cached || deduped) headers = this._headerLines;
      if (this._headerIdempotency) flags |= 1;
    } else {
      const h = template.headers;
      // The machine keys dedupe and cache entries on the request headers; nothing else reads them.
      if (cached || deduped) headers = linesOf(h);
      if (h.has('idempotency-key')) flags |= 1;
      if (template.credentials === 'include') flags |= 2;
    }
    if (o.retry !== undefined) {
      driver.retry(1, o.retry);
      flags |= 4;
    }
    let key = '';
    if (o.key !== undefined) {
      key = o.key;
      flags |= 8;
    }
    // The machine counts a json/text call as settled once it hears how decoding went.
    if (rec.as === AS_JSON || rec.as === AS_TEXT) flags |= 16;
    driver.submit(
      rec, hostOf(rec.url), LANES[o.lane], strategy, orNaN(o.ttlMs), orNaN(o.timeoutMs), orNaN(o.totalTimeoutMs),
      o.dedupe === undefined ? 0 : o.dedupe ? 1 : 2, flags, group, key, headers,
    );
  }

  // ─────────── groups ───────────

  /**
   * Every request; results in input order (`opts.as`: 'json' by default, 'text',
   * 'response'). The first failure rejects and aborts the siblings still queued or in flight
   * (unless `opts.abortOnFailure` is false).
   * @param {unknown[]} requests
   * @param {object} [opts]
   * @returns {Promise<unknown[]>}
   */
  all(requests, opts) {
    return this._group(requests, opts, false);
  }

  /**
   * Every request's outcome in input order, shaped like `Promise.allSettled`; never rejects.
   * `opts.onProgress({ done, total, failed })` after each settles.
   * @param {unknown[]} requests
   * @param {object} [opts]
   * @returns {Promise<PromiseSettledResult<unknown>[]>}
   */
  allSettled(requests, opts) {
    return this._group(requests, opts, true);
  }

  /**
   * @param {unknown} requests
   * @param {unknown} opts
   * @param {boolean} settledMode
   */
  _group(requests, opts, settledMode) {
    let g;
    try {
      g = opts === undefined || opts === null ? DEFAULT_GROUP : groupOptions(opts);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!Array.isArray(requests)) {
      return Promise.reject(badArgument('requests must be an array', requests));
    }
    const as = AS[g.as];
    const n = requests.length;
    /** @type {Call[]} */
    const recs = new Array(n);
    try {
      // Every input is checked before any is queued.
      for (let i = 0; i < n; i++) recs[i] = this._prepareLike(requests[i], as, `requests[${i}]`);
    } catch (error) {
      return Promise.reject(error);
    }
    if (n === 0) return Promise.resolve([]);
    const driver = this._driver;
    return new Promise((resolve, reject) => {
      const abortOnFailure = !settledMode && g.abortOnFailure;
      const group = openGroup(driver, settledMode, n, abortOnFailure, settledMode ? g.onProgress : undefined, resolve, reject);
      // Queued in input order; the queue is drained once, after the last.
      for (let i = 0; i < n; i++) {
        const rec = recs[i];
        rec.group = group;
        rec.index = i;
        this._send(rec, group.id);
      }
      driver.drain();
    });
  }

  // ─────────── tasks ───────────

  /**
   * Runs `task(signal)` under the same limits as requests (p-limit style); its own result or
   * error passes through untouched. The signal aborts when `opts.signal` does or the client
   * closes; a task still queued then rejects with kind `abort` (or `closed`).
   * @template T
   * @param {(signal: AbortSignal) => T | PromiseLike<T>} task
   * @param {{ lane?: string, signal?: AbortSignal, host?: string }} [opts]
   * @returns {Promise<T>}
   */
  schedule(task, opts) {
    if (typeof task !== 'function') {
      return Promise.reject(badArgument('schedule(task) needs a function', task));
    }
    /** @type {{ lane: string, signal: AbortSignal | undefined, host: string | undefined }} */
    let o = DEFAULT_SCHEDULE;
    if (opts !== undefined && opts !== null) {
      try {
        o = scheduleOptions(opts);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const driver = this._driver;
    const rec = new Call(driver, AS_TASK, '', '', o.lane);
    rec.task = task;
    rec.signal = o.signal;
    const go = () => {
      if (driver.closed) {
        driver.fail(rec, fetchlaneError('closed', '', undefined, 0));
      } else if (o.signal?.aborted) {
        driver.fail(rec, fetchlaneError('abort', '', undefined, 0, o.signal.reason));
      } else {
        driver.task(rec, LANES[o.lane], o.host ?? '');
        driver.drain();
      }
    };
    if (o.lane !== 'background' || o.signal?.aborted || !this._park(rec, go)) go();
    return driver.promiseOf(rec);
  }

  /**
   * Holds a `background` call while the page is hidden or offline (as `background` says):
   * it counts as queued, and `go` sends it once the page is back (or its signal fires, which
   * `go` then reports). Returns whether it was held.
   * @param {Call} rec
   * @param {() => void} go
   */
  _park(rec, go) {
    if (!this._paused() || this._driver.closed || rec.signal?.aborted) return false;
    const parked = this._parked;
    const driver = this._driver;
    driver.hold(1);
    parked.set(rec, go);
    const release = () => {
      if (parked.delete(rec)) {
        driver.hold(-1);
        go();
        driver.drain();
      }
    };
    rec.signal?.addEventListener('abort', release, { once: true });
    if (parked.size === 1) {
      // Listening only while something waits: an idle client holds no global listener.
      const resume = () => {
        if (this._paused() && !driver.closed) return;
        removeEventListener('online', resume);
        globalThis.document?.removeEventListener('visibilitychange', resume);
        const waiting = [...parked.values()];
        parked.clear();
        for (const send of waiting) {
          driver.hold(-1);
          send();
        }
        driver.drain();
      };
      this._resume = resume;
      addEventListener('online', resume);
      globalThis.document?.addEventListener('visibilitychange', resume);
    }
    return true;
  }

  // ─────────── batching and pages ───────────

  /**
   * A DataLoader-style loader; throws a TypeError or RangeError naming a bad option.
   * @param {object} opts LoaderOptions
   */
  loader(opts) {
    const driver = this._driver;
    return createLoader(this, loaderOptions(opts, this._baseUrl), this._baseUrl, (n) => driver.countBatched(n));
  }

  /**
   * The pages starting at `input`: an async iterable of each page's JSON body; throws a
   * TypeError or RangeError naming a bad option.
   * @param {string | URL | Request} input
   * @param {object} [opts] PaginateOptions
   */
  paginate(input, opts) {
    return paginate(this, input, paginateOptions(opts), this._baseUrl);
  }

  // ─────────── the cache ───────────

  /**
   * Drops the cached entries (memory and Cache API) whose absolute URL matches; resolves to
   * how many (an entry in both stores counts once). `match` is a URL (absolute or relative
   * to `baseUrl`, else the page; a trailing `*` makes it a prefix), a RegExp tested against
   * the absolute URL, or a function of it.
   * @param {string | RegExp | ((url: string) => boolean)} match
   * @returns {Promise<number>}
   */
  async invalidate(match) {
    /** @type {(url: string) => boolean} */
    let matches;
    if (typeof match === 'string') {
      const prefix = match.endsWith('*');
      const pattern = prefix ? match.slice(0, -1) : match;
      const base = this._baseUrl ?? pageUrl();
      let absolute = pattern;
      if (!(prefix && pattern === '')) {
        try {
          absolute = new URL(pattern, base).href;
        } catch {
          // Not a URL: matched as written.
        }
      }
      matches = prefix ? (url) => url.startsWith(absolute) : (url) => url === absolute;
    } else if (match instanceof RegExp) {
      matches = (url) => match.test(url);
    } else if (typeof match === 'function') {
      matches = (url) => {
        try {
          return Boolean(match(url));
        } catch {
          return false;
        }
      };
    } else {
      throw badArgument('invalidate(match) needs a string, a RegExp or a function', match);
    }
    const removed = new Set(this._driver.forgetMemory(matches));
    const store = this._driver.persist;
    if (store !== null) {
      try {
        for (const url of await store.invalidate(matches)) removed.add(url);
      } catch {
        // A failing Cache API is skipped, not an error.
      }
    }
    return removed.size;
  }

  /**
   * Drops every cached entry of this client's namespace, in memory and in the Cache API.
   * @returns {Promise<void>}
   */
  async clearCache() {
    this._driver.clearMemory();
    const store = this._driver.persist;
    if (store !== null) {
      try {
        await store.clear();
      } catch {
        // As before: a failing Cache API is not an error here.
      }
    }
  }

  // ─────────── the queue ───────────

  /** Rejects every queued (not yet started) request and task with kind `abort`. */
  clearQueue() {
    const driver = this._driver;
    driver.clearQueue();
    /** @param {Call} rec */
    const abort = (rec) => {
      driver.hold(-1);
      driver.fail(rec, fetchlaneError('abort', rec.url, undefined, 0));
    };
    this._fields.drop(abort);
    for (const rec of this._packing) abort(rec);
    this._packing.clear();
    for (const rec of this._parked.keys()) abort(rec);
    this._parked.clear();
    driver.drain();
  }

  /**
   * Resolves when nothing is queued or running.
   * @returns {Promise<void>}
   */
  onIdle() {
    return this._driver.onIdle();
  }

  /** Requests and tasks running now. */
  get activeCount() {
    return this._driver.active();
  }

  /** Requests and tasks waiting in the queue. */
  get pendingCount() {
    return this._driver.pending();
  }

  /** The global limit (`Infinity` when unlimited). */
  get concurrency() {
    return this._driver.concurrency();
  }

  /**
   * Changes the global limit at run time: raising it starts queued work at once, lowering it
   * lets running work finish. Throws a TypeError or RangeError for anything but a positive
   * integer or `Infinity`.
   * @param {number} value
   */
  set concurrency(value) {
    this._driver.setConcurrency(concurrencyLimit(value));
  }

  // ─────────── observing ───────────

  /**
   * Counters since creation (a fresh object each call).
   * @returns {import('./index.d.ts').ClientStats}
   */
  stats() {
    const s = this._driver.stats();
    s.share = { ...(this._share?.state ?? { role: 'alone', tabs: 1 }) };
    return s;
  }

  /**
   * Listens to events of `type`; returns a function that removes the listener.
   * @param {string} type
   * @param {(event: object) => void} listener
   * @returns {() => void}
   */
  on(type, listener) {
    if (typeof type !== 'string' || !EVENT_NAMES.includes(type)) {
      throw badArgument(`on(type) needs one of ${EVENT_LIST}`, type);
    }
    if (typeof listener !== 'function') throw new TypeError('fetchlane: on(type, listener) needs a function as listener');
    return this._driver.on(type, listener);
  }

  /**
   * The outbox `name` (one per name and client; `opts` count the first time): requests stored
   * in IndexedDB and delivered in the background lane, each once by its idempotency key.
   * @param {string} name
   * @param {object} [opts] OutboxOptions
   */
  outbox(name, opts) {
    if (typeof name !== 'string' || name === '') throw badArgument('outbox(name) needs a non-empty string', name);
    if (this._driver.closed) throw fetchlaneError('closed', '', undefined, 0);
    let made = this._outboxes.get(name);
    if (made === undefined) {
      const o = outboxOptions(opts);
      if (typeof indexedDB === 'undefined') throw new TypeError('fetchlane: outbox() needs IndexedDB, which this runtime does not have');
      const driver = this._driver;
      const client = { fetch: (url, init) => this.fetch(url, init), notify: (event) => driver.notify(event) };
      made = createOutbox(client, name, o, (input, init) => {
        const url = urlOf(input);
        if (url === null && !(input instanceof Request)) throw notAnInput('outbox.send(input)', input);
        const request = callerRequest(url === null ? /** @type {Request} */ (input) : against(url, this._baseUrl), init ?? undefined);
        addHeaders(request.headers, this._headerPairs);
        return request;
      });
      this._outboxes.set(name, made);
    }
    return made.outbox;
  }

  /** Aborts all queued and running work, frees the wasm side; later calls reject with kind `closed`. */
  close() {
    for (const made of this._outboxes.values()) made.close();
    this._share?.close();
    // Calls handed to another tab: no answer can come now.
    for (const id of this._forwarded.keys()) this._answer(id, { t: 'err', kind: 'closed', attempts: 0, message: 'fetchlane: the client was closed' });
    this._driver.close();
    // Parked calls go now, and find the client closed.
    this._resume?.();
  }
}
