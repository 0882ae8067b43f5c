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

import { badArgument, describe, failure } from './errors.js';
import { bisect, buildUrl, byteLength, chunk, encodeKey, keyString, parseTemplate } from './batch-plan.js';
import { addHeaders, against, ownRequest, urlOf } from './request.js';
import { AS_JSON } from './protocol.js';

/** What a body is, in a decode message: `an object`, `a string`, `null`, …. */
function kindOf(v) {
  if (v === null || v === undefined) return String(v);
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'function') return `a ${t}`;
  return 'an object';
}

/** A promise with its settle functions; `done` once settled (the first settle wins). */
function slot() {
  const s = { done: false };
  s.promise = new Promise((resolve, reject) => {
    s.resolve = (v) => s.done || ((s.done = true), resolve(v));
    s.reject = (e) => s.done || ((s.done = true), reject(e));
  });
  return s;
}

/**
 * The batch request for `keys` from the `url` function's answer: a Request (copied), or a
 * string or URL (relative to `baseUrl`, else the page). Throws a FetchlaneError.
 */
function buildRequest(f, keys, base) {
  const failed = (what, cause) => failure('network', `fetchlane: the loader's \`url\` function ${what}`, '', cause);
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
  const url = urlOf(value);
  if (url === null) throw failed(`must return a string, a URL or a Request (got ${describe(value)})`);
  return ownRequest(against(url, base, true));
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
 * A DataLoader-style loader over `client.json`. `opts` is js/options.js' `loaderOptions`:
 * validated, defaults filled in, a string `url` already absolute. `base` is the client's
 * `baseUrl` (what a relative URL from a `url` function resolves against, else the page);
 * `countBatched(n)` counts the keys a batch served (`stats().batched`).
 */
export function createLoader(client, opts, base, countBatched) {
  // `init`: the `LaneInit` fields passed on to every batch request (lane, retry, timeoutMs,
  // totalTimeoutMs, strategy, ttlMs); an unset one is `undefined`, which reads as absent.
  const { url: batchUrl, key, select, maxBatchSize, windowMs, maxUrlLength, cache, headers, ...init } = opts;
  // Field selection must keep the field the items are matched by.
  if (init.fields !== undefined && typeof key === 'string' && !init.fields.includes(key)) init.fields = [...init.fields, key].sort();
  const template = typeof batchUrl === 'function' ? null : parseTemplate(batchUrl);

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
      plan = ranges.map(([s, e]) => [[s, e], attempt(() => ownRequest(buildUrl(template, encoded.slice(s, e))), Infinity)]);
    } else {
      plan = bisect(keys.length, maxBatchSize, ([s, e]) => attempt(() => buildRequest(batchUrl, keys.slice(s, e), base), maxUrlLength));
    }
    for (const [[s, e], made] of plan) send(made, ids.slice(s, e), slots.slice(s, e));
  }

  function send({ request, error }, ids, slots) {
    if (error) return failAll(ids, slots, error);
    addHeaders(request.headers, headers);
    const url = request.url;
    let promise;
    try {
      // The whole batch body, never trimmed by `project`: its items are matched by key.
      promise = Promise.resolve(client._one(request, init, AS_JSON, true));
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
        failOne(id, s, failure('missing', m, url));
      }
    });
    if (served > 0) countBatched(served);
  }

  /** The items of a body by the string form of their key (the first of a key wins). */
  function itemsOf(body, url) {
    const decodeError = (what, cause) => failure('decode', `fetchlane: the batch response from ${url}${what}`, url, cause);
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
    k == null ? badArgument(`${what} needs a key that is not null or undefined`, k) : null;

  return {
    /** The item for `key`; rejects alone (kind `missing`) when the batch response lacks it. */
    load(k) {
      const bad = badKey('loader.load(key)', k);
      return bad ? Promise.reject(bad) : enqueue(k).promise;
    },
    /** The items for `keys`, in order; a failed key gives its error in place. */
    loadMany(keys) {
      if (!Array.isArray(keys)) {
        return Promise.reject(badArgument('loader.loadMany(keys) needs an array', keys));
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
