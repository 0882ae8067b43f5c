// Helpers of the cache test modules (cache.test.js, persist.test.js, dedupe-scale.test.js).
import { assert, at, defer, sleep, stats } from './harness.js';

/**
 * `c.fetch(target, init)` with `cache: 'no-store'` added, so the browser's own HTTP cache never
 * answers (or serializes) a request: every request the client sends reaches the server.
 */
export function get(c, target, init = {}) {
  return c.fetch(target, { cache: 'no-store', ...init });
}

/** `get` and the body as JSON. */
export async function getJson(c, target, init = {}) {
  const r = await get(c, target, init);
  assert(r.ok, `status ${r.status} for ${target}`);
  return r.json();
}

/** Server hits on `path` in `run` (0 when none). */
export async function hits(run, path) {
  const s = await stats(run);
  return s.hits[path] ?? 0;
}

/** Polls `pred()` (sync or async) until it holds or `timeoutMs` passes; resolves to the last value. */
export async function until(pred, timeoutMs = 3000, stepMs = 20) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v || performance.now() > end) return v;
    await sleep(stepMs);
  }
}

/** Bumps the version of `/cache/:key` in `run` (the next full response has version + 1). */
export async function bump(key, run) {
  const r = await fetch(at(`/cache/${encodeURIComponent(key)}/bump?run=${encodeURIComponent(run)}`), {
    method: 'POST',
    cache: 'no-store',
  });
  return (await r.json()).version;
}

/** Names of the Cache API caches that contain `part`. */
export async function cacheNames(part) {
  return (await caches.keys()).filter((n) => n.includes(part));
}

/** Requests stored in the Cache API caches whose name contains `part`. */
export async function storedRequests(part) {
  const out = [];
  for (const name of await cacheNames(part)) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) out.push(req.url);
  }
  return out;
}

/** Waits until the Cache API caches named like `part` hold `n` requests with `substr` in the URL. */
export function persisted(part, substr, n = 1, timeoutMs = 3000) {
  return until(async () => (await storedRequests(part)).filter((u) => u.includes(substr)).length >= n, timeoutMs);
}

/** Deletes the Cache API caches named like `part` after the current test (register it first). */
export function dropCachesAfter(part) {
  defer(async () => {
    for (const name of await cacheNames(part)) await caches.delete(name);
  });
}
