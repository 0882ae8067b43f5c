// Pagination over the client's own `fetch()`: each page's JSON body in order, following
// `Link: <…>; rel="next"` (or `opts.next(body, response)`), fetching up to `opts.prefetch`
// pages ahead of the consumer. A port of src/client/paginate.rs, src/bindings/paginate.rs
// and src/core/link.rs.
//
// One driver fetches the pages one after another (the next URL is only known once a page
// has arrived); it starts page i (0-based) once the consumer has asked for more than
// i - prefetch pages. `return()` aborts whatever is in flight and ends the sequence.

import { decodeError, describe, failure } from './errors.js';
import { against, callerRequest, notAnInput, ownRequest, urlOf } from './request.js';

// ---- the Link header (RFC 8288) ------------------------------------------------------------

const isWs = (c) => c === ' ' || c === '\t' || c === '\n' || c === '\f' || c === '\r';
/** Rust's `str::trim`: Unicode White_Space (JS's `trim` differs in U+0085 and U+FEFF). */
const trim = (s) => s.replace(/^[\t-\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+|[\t-\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+$/g, '');
const asciiLower = (s) => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));

/** The index of the next comma outside quotes (or the end). */
function skipToComma(h, i) {
  let quoted = false;
  for (; i < h.length; i++) {
    const c = h[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) return i;
  }
  return i;
}

/**
 * Every well-formed link of a `Link` header, in order, as `{ target, rel }` (`target` as
 * written, maybe relative; `rel` unquoted, `''` when absent, the first `rel` winning). A
 * malformed part is skipped up to the next top-level comma.
 */
export function parseLinks(h) {
  const out = [];
  let i = 0;
  const skipWs = () => {
    while (i < h.length && isWs(h[i])) i++;
  };
  while (i < h.length) {
    while (i < h.length && (h[i] === ',' || isWs(h[i]))) i++;
    if (i >= h.length) break;
    if (h[i] !== '<') {
      i = skipToComma(h, i);
      continue;
    }
    const close = h.indexOf('>', i + 1);
    if (close < 0) break;
    const target = trim(h.slice(i + 1, close));
    i = close + 1;
    let rel = null;
    for (;;) {
      skipWs();
      if (i >= h.length || h[i] === ',') break;
      if (h[i] !== ';') {
        i = skipToComma(h, i);
        break;
      }
      i++;
      skipWs();
      const nameStart = i;
      while (i < h.length && !'=;,'.includes(h[i]) && !isWs(h[i])) i++;
      const name = h.slice(nameStart, i);
      skipWs();
      let value = '';
      if (h[i] === '=') {
        i++;
        skipWs();
        if (h[i] === '"') {
          for (i++; i < h.length && h[i] !== '"'; i++) {
            if (h[i] === '\\' && i + 1 < h.length) i++;
            value += h[i];
          }
          i++; // the closing quote
        } else {
          const start = i;
          while (i < h.length && h[i] !== ';' && h[i] !== ',' && !isWs(h[i])) i++;
          value = h.slice(start, i);
        }
      }
      if (rel === null && asciiLower(name) === 'rel') rel = value;
    }
    out.push({ target, rel: rel ?? '' });
  }
  return out;
}

/** The target of the first link whose `rel` lists `next` (case-insensitive), or null. */
export function nextTarget(header) {
  const hasNext = (l) => l.rel.split(/[ \t\n\f\r]+/).some((r) => asciiLower(r) === 'next');
  return parseLinks(header).find(hasNext)?.target ?? null;
}

// ---- the pages -----------------------------------------------------------------------------

/** What later pages copy from the first request. */
const COPIED = ['mode', 'cache', 'redirect', 'referrerPolicy'];

/** `fetch(input, init)`'s request, built as the client builds it; throws a TypeError naming `input`. */
function firstRequest(input, init, base) {
  const url = urlOf(input);
  if (url !== null) return callerRequest(against(url, base), init);
  if (input instanceof Request) return callerRequest(input, init);
  throw notAnInput('input', input);
}

/** The request for the page at `target` (relative to `pageUrl`), shaped like `first`. */
function nextRequest(target, pageUrl, first) {
  const absolute = against(target, pageUrl, true);
  const init = { method: first.method, headers: first.headers, credentials: first.credentials };
  for (const k of COPIED) {
    const v = first[k];
    // `navigate` cannot be asked for; the browser picks the mode then.
    if (typeof v === 'string' && v !== 'navigate') init[k] = v;
  }
  return ownRequest(absolute, init);
}

/** The next page's URL from `opts.next(body, response)`: a string, or null for the last page. */
function callNext(next, body, response) {
  const failed = (what, cause) => failure('decode', `fetchlane: paginate's \`next\` option ${what}`, response.url, cause);
  let value;
  try {
    value = next(body, response);
  } catch (thrown) {
    throw failed('threw', thrown);
  }
  if (value == null) return null;
  if (typeof value === 'string') return value;
  if (value instanceof URL) return value.href;
  throw failed(`must return a string, a URL, null or undefined (got ${describe(value)})`);
}

/**
 * The pages starting at `input`: an async iterator (its own `[Symbol.asyncIterator]`) of each
 * page's body parsed as JSON. Nothing is fetched until the first `next()`. `opts` is
 * js/options.js' `paginateOptions`: the `LaneInit` fields (every page's: lane, strategy,
 * ttlMs, timeoutMs, totalTimeoutMs, retry, dedupe, key, signal), `requestInit` (the first
 * request's; later pages copy its method, headers, credentials, mode, cache, redirect and
 * referrerPolicy), `next` (absent: the `Link` header) and `prefetch`. `base` is the client's
 * `baseUrl`. Throws a TypeError naming `input` when it is not usable.
 */
export function paginate(client, input, opts, base) {
  // `lane`: the `LaneInit` additions (lane, strategy, …), applied to every page; an unset
  // one is `undefined`, which reads as absent.
  const { next, prefetch, signal, requestInit, ...lane } = opts;
  const first = firstRequest(input, { ...requestInit, signal }, base);

  const ready = new Map(); // index ─▶ { value } | { error }, not yet handed out
  const waiting = []; // { index, resolve, reject }
  let requested = 0;
  let total = null; // how many results the sequence has, once it has ended
  let closed = false;
  let started = false;
  let wakeDriver = null;
  const controller = new AbortController(); // fired by `return()`; follows `opts.signal`
  const follow = () => controller.abort(signal.reason);

  /** Answers every waiting `next()` whose page (or the end) is known. */
  function settleWaiting() {
    for (const w of waiting.splice(0)) {
      const r = closed ? undefined : ready.get(w.index);
      if (r) {
        ready.delete(w.index);
        if ('error' in r) w.reject(r.error);
        else w.resolve({ done: false, value: r.value });
      } else if (closed || (total !== null && w.index >= total)) {
        w.resolve({ done: true, value: undefined });
      } else {
        waiting.push(w);
      }
    }
  }

  function close() {
    if (closed) return;
    closed = true;
    ready.clear();
    signal?.removeEventListener('abort', follow);
    controller.abort(new Error('fetchlane: the pages were closed'));
    wakeDriver?.();
    settleWaiting();
  }

  /** One page: its body, and the request for the page after it (null: none; or an error). */
  async function fetchPage(request) {
    const url = request.url;
    const response = await client.fetch(request, { ...lane, signal: controller.signal });
    let body;
    try {
      body = await response.json();
    } catch (cause) {
      throw decodeError(url, true, cause, 0);
    }
    // Relative links resolve against where the page came from (after redirects).
    const pageUrl = response.url || url;
    let following;
    try {
      const target = next ? callNext(next, body, response) : nextTarget(response.headers.get('link') ?? '');
      following = target === null ? null : nextRequest(target, pageUrl, first);
    } catch (error) {
      following = { error };
    }
    return { body, following };
  }

  async function drive() {
    let request = first;
    let index = 0;
    for (;;) {
      // Wait until the consumer is close enough (or gone).
      while (!closed && index >= requested + prefetch) await new Promise((wake) => (wakeDriver = wake));
      wakeDriver = null;
      if (closed) break;
      let page;
      try {
        page = await fetchPage(request);
      } catch (error) {
        page = { error };
      }
      if (closed) break;
      ready.set(index++, 'error' in page ? { error: page.error } : { value: page.body });
      settleWaiting();
      if ('error' in page || page.following === null) break;
      if (page.following instanceof Request) {
        request = page.following;
        continue;
      }
      // The next page cannot be requested: that page fails.
      ready.set(index++, page.following);
      break;
    }
    total = index;
    signal?.removeEventListener('abort', follow);
    settleWaiting();
  }

  return {
    /** The next page: `{ done: false, value }`, `{ done: true }` after the last page, or a
     * rejection at the page that failed (after which the iterator is done). */
    next() {
      const index = requested++;
      if (!started && !closed) {
        started = true;
        if (signal?.aborted) follow();
        else signal?.addEventListener('abort', follow, { once: true });
        drive();
      }
      wakeDriver?.();
      return new Promise((resolve, reject) => {
        waiting.push({ index, resolve, reject });
        settleWaiting();
      });
    },
    /** Ends the iteration (what `break` in `for await` calls): aborts the pages fetched ahead. */
    return(value) {
      close();
      return Promise.resolve({ done: true, value });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
