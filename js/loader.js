// DataLoader-style batching over the client's own `json()`: `load(key)` calls made within one
// microtask tick (or one `windowMs`) become one request per chunk of keys, and each caller
// gets its own item. A port of src/client/loader.rs and src/bindings/loader.rs.
//
//   load(key) ─▶ memo (per-key results, when `cache` is on)
//     ─▶ batch (distinct keys by their string form; duplicates join)
//     ─▶ dispatch after one tick / the window (at once when `maxBatchSize` is reached)
//     ─▶ plan: chunk by maxBatchSize and maxUrlLength (template) or bisect (function)
//     ─▶ client.json per chunk (dedupe, cache, rate limits, scheduler, retries)
//     ─▶ select ─▶ match items to keys by their string form ─▶ settle every caller

import { FetchlaneError } from './errors.js';
import { bisect, buildUrl, byteLength, chunk, describe, encodeKey, keyString, KEYS, parseTemplate } from './batch-plan.js';

/** The `LaneInit` fields a loader passes on to every batch request. */
const PASSED_ON = ['lane', 'retry', 'timeoutMs', 'totalTimeoutMs', 'strategy', 'ttlMs'];

/** Survives URL parsing unchanged anywhere in a URL. */
const MARKER = 'fetchlane0keys0placeholder';

/** What a body is, in a decode message: `an object`, `a string`, `null`, …. */
function kindOf(v) {
  if (v === null || v === undefined) return String(v);
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'function') return `a ${t}`;
  return 'an object';
}

const fail = (kind, message, url, cause) => new FetchlaneError(kind, message, url, undefined, 0, cause);

/** A promise with its settle functions; `done` once settled (the first settle wins). */
function slot() {
  const s = { done: false };
  s.promise = new Promise((resolve, reject) => {
    s.resolve = (v) => s.done || ((s.done = true), resolve(v));
    s.reject = (e) => s.done || ((s.done = true), reject(e));
  });
  return s;
}

/** The absolute template, resolved once against `base` (baseUrl, else the page). */
function resolveTemplate(template, base) {
  const optionError = (what) => new TypeError(`fetchlane: option \`opts.url\` ${what}`);
  let absolute;
  try {
    const marked = template.split(KEYS).join(MARKER);
    absolute = (base === undefined ? new URL(marked) : new URL(marked, base)).href;
  } catch {
    throw optionError('cannot be resolved: it must be absolute, or relative to `baseUrl` or the page');
  }
  const t = parseTemplate(absolute.split(MARKER).join(KEYS));
  if (!t) throw optionError('lost its `{keys}` when resolved');
  return t;
}

/**
 * The batch request for `keys` from the `url` function's answer: a Request (copied), or a
 * string or URL (relative to `baseUrl`, else the page). Throws a FetchlaneError.
 */
function buildRequest(f, keys, base) {
  const failed = (what, cause) => fail('network', `fetchlane: the loader's \`url\` function ${what}`, '', cause);
  let value;
  try {
    value = f(keys);
  } catch (thrown) {
    throw failed('threw', thrown);
  }
  if (value instanceof Request) {
    try {
      return value.clone();
    } catch {
      return value;
    }
  }
  let url;
  if (typeof value === 'string') url = value;
  else if (value instanceof URL) url = value.href;
  else throw failed(`must return a string, a URL or a Request (got ${describe(value)})`);
  let absolute = url;
  if (base !== undefined) {
    try {
      absolute = new URL(url, base).href;
    } catch {
      throw fail('network', `fetchlane: cannot resolve the URL \`${url}\` against baseUrl \`${base}\``, url);
    }
  }
  return newRequest(absolute);
}

/** `new Request(url)`; throws a FetchlaneError (kind `network`) when the URL is refused. */
function newRequest(url) {
  try {
    return new Request(url);
  } catch (cause) {
    throw fail('network', `fetchlane: network error for ${url}`, url, cause);
  }
}

/** `{ request, fits }` from `build()`, or `{ error, fits: true }` when it throws. */
function attempt(build, maxUrlLength) {
  try {
    const request = build();
    return { request, fits: byteLength(request.url) <= maxUrlLength };
  } catch (error) {
    return { error, fits: true };
  }
}

/**
 * A DataLoader-style loader over `client.json`. `opts` is already validated, with defaults:
 * `{ url, key, select, maxBatchSize, windowMs, maxUrlLength, cache }` plus the batch
 * requests' `lane`, `headers`, `retry`, `timeoutMs`, `totalTimeoutMs`, `strategy`, `ttlMs`.
 * `hooks.countBatched(n)` counts the keys a batch served (`stats().batched`);
 * `hooks.baseUrl` is the client's `baseUrl` option (relative URLs resolve against it, else
 * the page). Throws a TypeError naming `opts.url` when a template cannot be resolved.
 */
export function createLoader(client, opts, hooks = {}) {
  const base = hooks.baseUrl ?? undefined;
  const template = typeof opts.url === 'function' ? null : resolveTemplate(opts.url, base ?? globalThis.location?.href);
  const { key = 'id', select, maxBatchSize = 100, windowMs = 0, maxUrlLength = 2000, cache = true } = opts;
  const init = {};
  for (const k of PASSED_ON) if (opts[k] !== undefined) init[k] = opts[k];
  const headers = opts.headers == null ? [] : [...new Headers(opts.headers)];

  const memo = new Map(); // key string ─▶ slot (pending or done), when `cache` is on
  let batch = null; // { ids, keys, slots, index: Map<id, i> }

  function enqueue(k) {
    const id = keyString(k);
    if (cache && memo.has(id)) return memo.get(id);
    if (batch && batch.index.has(id)) return batch.slots[batch.index.get(id)];
    const s = slot();
    if (cache) memo.set(id, s);
    const fresh = !batch;
    if (fresh) batch = { ids: [], keys: [], slots: [], index: new Map() };
    const b = batch;
    b.index.set(id, b.ids.length);
    b.ids.push(id);
    b.keys.push(k);
    b.slots.push(s);
    if (b.ids.length >= maxBatchSize) dispatch(b); // it cannot grow: no point waiting
    else if (fresh && windowMs > 0) setTimeout(() => dispatch(b), windowMs);
    else if (fresh) queueMicrotask(() => dispatch(b));
    return s;
  }

  /** Sends batch `b`, if it is still the one collecting. */
  function dispatch(b) {
    if (batch !== b) return;
    batch = null;
    const { ids, keys, slots } = b;
    let plan; // [[start, end], { request } | { error }]
    if (template) {
      const encoded = ids.map(encodeKey);
      const ranges = chunk(encoded.map((e) => e.length), template, maxBatchSize, maxUrlLength);
      plan = ranges.map(([s, e]) => [[s, e], attempt(() => newRequest(buildUrl(template, encoded.slice(s, e))), Infinity)]);
    } else {
      plan = bisect(keys.length, maxBatchSize, ([s, e]) => attempt(() => buildRequest(opts.url, keys.slice(s, e), base), maxUrlLength));
    }
    for (const [[s, e], made] of plan) send(made, ids.slice(s, e), slots.slice(s, e));
  }

  function send({ request, error }, ids, slots) {
    if (error) return failAll(ids, slots, error);
    for (const [name, value] of headers) {
      try {
        if (!request.headers.has(name)) request.headers.set(name, value);
      } catch {
        // Only a forbidden name (or a no-cors request's guard) refuses; the browser drops it anyway.
      }
    }
    const url = request.url;
    let promise;
    try {
      promise = Promise.resolve(client.json(request, init));
    } catch (cause) {
      promise = Promise.reject(cause);
    }
    promise.then(
      (body) => deliver(body, url, ids, slots),
      (e) => failAll(ids, slots, e),
    );
  }

  /** Settles a key with `error` and forgets it, so that a later load asks again. */
  function failOne(id, s, error) {
    s.reject(error);
    if (memo.get(id) === s) memo.delete(id);
  }

  function failAll(ids, slots, error) {
    ids.forEach((id, i) => failOne(id, slots[i], error));
  }

  /** Hands a batch response to its keys. */
  function deliver(body, url, ids, slots) {
    let items;
    try {
      items = itemsOf(body, url);
    } catch (error) {
      return failAll(ids, slots, error);
    }
    let served = 0;
    ids.forEach((id, i) => {
      const s = slots[i];
      if (s.done) return;
      if (items.has(id)) {
        served += 1;
        s.resolve(items.get(id));
      } else {
        const m = `fetchlane: the batch response from ${url} has no item for the key "${id}"`;
        failOne(id, s, fail('missing', m, url));
      }
    });
    if (served > 0) hooks.countBatched?.(served);
  }

  /** The items of a body by the string form of their key (the first of a key wins). */
  function itemsOf(body, url) {
    const decodeError = (what, cause) => fail('decode', `fetchlane: the batch response from ${url}${what}`, url, cause);
    let list = body;
    if (select) {
      try {
        list = select(body);
      } catch (cause) {
        throw decodeError(": the loader's `select` threw", cause);
      }
    }
    if (!Array.isArray(list)) {
      const from = select ? ' from `select`' : '';
      throw decodeError(` is not usable: expected an array of items${from}, found ${kindOf(list)}`);
    }
    const out = new Map();
    for (const item of list) {
      let k;
      if (typeof key === 'function') {
        try {
          k = key(item);
        } catch (cause) {
          throw decodeError(": the loader's `key` function threw", cause);
        }
      } else {
        if (typeof item !== 'object' || item === null) continue;
        k = item[key];
      }
      if (k == null) continue;
      const id = keyString(k);
      if (!out.has(id)) out.set(id, item);
    }
    return out;
  }

  const badKey = (what, k) =>
    k == null ? new TypeError(`fetchlane: ${what} needs a key that is not null or undefined (got ${describe(k)})`) : null;

  return {
    /** The item for `key`; rejects alone (kind `missing`) when the batch response lacks it. */
    load(k) {
      const bad = badKey('loader.load(key)', k);
      return bad ? Promise.reject(bad) : enqueue(k).promise;
    },
    /** The items for `keys`, in order; a failed key gives its error in place. */
    loadMany(keys) {
      if (!Array.isArray(keys)) {
        return Promise.reject(new TypeError(`fetchlane: loader.loadMany(keys) needs an array (got ${describe(keys)})`));
      }
      const results = keys.map((k) => badKey('loader.loadMany(keys)', k) ?? enqueue(k).promise.catch((e) => e));
      return Promise.all(results);
    },
    /** Stores `value` for `key` (no request) unless the key is memoised or `cache` is off. */
    prime(k, value) {
      if (!cache) return;
      const id = keyString(k);
      if (memo.has(id)) return;
      const s = slot();
      s.resolve(value);
      memo.set(id, s);
    },
    /** Forgets the memoised result of `key`; the next `load` asks again. */
    clear(k) {
      memo.delete(keyString(k));
    },
    /** Forgets every memoised result. */
    clearAll() {
      memo.clear();
    },
  };
}
