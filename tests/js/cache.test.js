// The memory response cache: strategies, HTTP freshness and revalidation, what is stored,
// Vary, LRU limits, invalidate/clearCache, stats and events. Every request passes
// `cache: 'no-store'` (see get()) so the browser's own HTTP cache never answers for the client.
import { assert, assertEqual, assertRejects, runId, sleep, stats, test } from './harness.js';
import { client, createClient, isError, isKind, origin, url } from './lib.js';
import { bump, get, getJson, hits, until } from './cache-helpers.js';

// ───────────────────────────── options ─────────────────────────────

test('cache options: a bad strategy is a TypeError, a negative maxEntries a RangeError, naming the option', async () => {
  await assertRejects(createClient({ cache: { strategy: 'bogus' } }), isError(TypeError, 'strategy'));
  await assertRejects(createClient({ cache: { maxEntries: -1 } }), isError(RangeError, 'maxEntries'));
  await assertRejects(createClient({ cache: { maxBytes: -5 } }), isError(RangeError, 'maxBytes'));
  await assertRejects(createClient({ cache: { persist: {} } }), (e) =>
    assert(e instanceof TypeError && /persist|name/.test(e.message), `expected a TypeError naming persist.name, got ${e && e.name}: ${e && e.message}`),
  );
  const c = await client({ cache: {} });
  await assertRejects(get(c, url('/cache/opt', runId('opt')), { strategy: 'bogus' }), (e) =>
    assert(e instanceof TypeError && e.message.includes('strategy'), `expected a TypeError naming strategy, got ${e && e.name}: ${e && e.message}`),
  );
});

// ───────────────────────────── cache-first ─────────────────────────────

test('cache-first (the default strategy): a fresh entry answers with no network; stats and events say memory', async () => {
  const run = runId('cache-first');
  const events = [];
  const c = await client({ cache: {}, onEvent: (e) => events.push(e) });
  const target = url('/cache/cf', run);
  const r1 = await get(c, target);
  assertEqual(r1.status, 200, 'first status');
  const b1 = await r1.json();
  assertEqual(b1.version, 1);
  const r2 = await get(c, target);
  const r3 = await get(c, target);
  assert(r2 !== r3, 'a distinct Response per caller');
  assertEqual(r2.status, 200, 'cached status');
  assert(r2.ok, 'cached response ok');
  assert((r2.headers.get('content-type') || '').includes('json'), `cached content-type: ${r2.headers.get('content-type')}`);
  const b2 = await r2.json();
  const b3 = await r3.json();
  assertEqual(b2, b1, 'the stored body');
  assertEqual(b3, b1, 'the stored body again');
  assertEqual(await hits(run, '/cache/cf'), 1, 'server hits');
  const s = c.stats();
  assertEqual(s.cacheHits.memory, 2, 'cacheHits.memory');
  assertEqual(s.cacheHits.persistent, 0, 'cacheHits.persistent');
  assertEqual(s.cacheMisses, 1, 'cacheMisses');
  await sleep(0);
  const cacheHits = events.filter((e) => e.type === 'cache-hit');
  assertEqual(cacheHits.length, 2, 'cache-hit events');
  assertEqual(cacheHits[0].source, 'memory', 'cache-hit source');
  assert(cacheHits[0].url.includes('/cache/cf'), `cache-hit url: ${cacheHits[0].url}`);
  const settled = events.filter((e) => e.type === 'settled').map((e) => e.source);
  assertEqual(settled, ['network', 'memory', 'memory'], 'settled sources');
});

test("cache-first: on('cache-hit') listeners see source memory", async () => {
  const run = runId('cache-hit-on');
  const c = await client({ cache: { strategy: 'cache-first' } });
  const seen = [];
  c.on('cache-hit', (e) => seen.push(e));
  const target = url('/cache/on', run);
  await get(c, target);
  await get(c, target);
  await sleep(0);
  assertEqual(seen.length, 1);
  assertEqual(seen[0].type, 'cache-hit');
  assertEqual(seen[0].source, 'memory');
});

test('cache-first: freshness comes from max-age; a stale entry without validators is fetched again', async () => {
  const run = runId('cache-maxage');
  const c = await client({ cache: {} });
  const target = url('/cache/ma', run, { maxAge: 1 });
  assertEqual((await getJson(c, target)).version, 1);
  assertEqual((await getJson(c, target)).version, 1, 'fresh: stored');
  assertEqual(await hits(run, '/cache/ma'), 1, 'hits while fresh');
  await bump('ma', run);
  await sleep(1300);
  const b = await getJson(c, target);
  assertEqual(b.version, 2, 'stale: a new response');
  const s = await stats(run);
  assertEqual(s.hits['/cache/ma'], 2, 'hits after expiry');
  const last = s.arrivals.filter((a) => a.path === '/cache/ma').pop();
  assertEqual(last.headers['if-none-match'], undefined, 'no validator to send');
  assertEqual(last.headers['if-modified-since'], undefined, 'no validator to send');
  // the new response replaced the entry: it is fresh again
  assertEqual((await getJson(c, target)).version, 2);
  assertEqual(await hits(run, '/cache/ma'), 2);
});

test('cache-first: max-age=0 is stale at once; ttlMs (client or request) overrides max-age', async () => {
  const run = runId('cache-ttl');
  const c = await client({ cache: {} });
  const zero = url('/cache/zero', run, { maxAge: 0 });
  await get(c, zero);
  await get(c, zero);
  assertEqual(await hits(run, '/cache/zero'), 2, 'max-age=0: every request goes to the server');

  const d = await client({ cache: { ttlMs: 60000 } });
  const t = url('/cache/ttl', run, { maxAge: 0 });
  await get(d, t);
  await get(d, t);
  assertEqual(await hits(run, '/cache/ttl'), 1, 'client ttlMs 60000 beats max-age=0');

  const long = url('/cache/short', run, { maxAge: 600 });
  await get(c, long, { ttlMs: 100 });
  await get(c, long, { ttlMs: 100 });
  assertEqual(await hits(run, '/cache/short'), 1, 'fresh within the request ttlMs');
  await sleep(250);
  await get(c, long, { ttlMs: 100 });
  assertEqual(await hits(run, '/cache/short'), 2, 'request ttlMs 100 beats max-age=600');
});

test('cache-first: a stale entry with an ETag is revalidated with If-None-Match; a 304 gives a 200 with the stored body', async () => {
  const run = runId('cache-etag');
  const c = await client({ cache: {} });
  const target = url('/cache/et', run, { maxAge: 0, etag: 1 });
  const r1 = await get(c, target);
  const b1 = await r1.json();
  assertEqual(r1.headers.get('etag'), '"et-1"');
  const r2 = await get(c, target);
  assertEqual(r2.status, 200, 'the caller sees 200, not 304');
  assert(r2.ok, 'ok');
  const b2 = await r2.json();
  assertEqual(b2, b1, 'the stored body (same servedAt)');
  let s = await stats(run);
  assertEqual(s.hits['/cache/et'], 2, 'server hits');
  assertEqual(s.arrivals[0].headers['if-none-match'], undefined, 'first request unconditional');
  assertEqual(s.arrivals[1].headers['if-none-match'], '"et-1"', 'If-None-Match sent');
  assertEqual(s.arrivals[1].status, 304, 'the server answered 304');
  // a changed resource: the server answers 200 and the new body replaces the entry
  await bump('et', run);
  const b3 = await getJson(c, target);
  assertEqual(b3.version, 2, 'new version after bump');
  s = await stats(run);
  const arrivals = s.arrivals.filter((a) => a.path === '/cache/et');
  assertEqual(arrivals[2].headers['if-none-match'], '"et-1"');
  assertEqual(arrivals[2].status, 200);
  await get(c, target);
  s = await stats(run);
  assertEqual(s.arrivals.filter((a) => a.path === '/cache/et')[3].headers['if-none-match'], '"et-2"', 'the new ETag is used next');
});

test('cache-first: a stale entry with Last-Modified is revalidated with If-Modified-Since', async () => {
  const run = runId('cache-lm');
  const c = await client({ cache: {} });
  const target = url('/cache/lm', run, { maxAge: 0, lastModified: 1 });
  const r1 = await get(c, target);
  const lm = r1.headers.get('last-modified');
  assert(lm, 'Last-Modified on the response');
  const b1 = await r1.json();
  const r2 = await get(c, target);
  assertEqual(r2.status, 200, 'the caller sees 200');
  assertEqual(await r2.json(), b1, 'the stored body');
  const s = await stats(run);
  assertEqual(s.hits['/cache/lm'], 2);
  assertEqual(s.arrivals[1].headers['if-modified-since'], lm, 'If-Modified-Since = the stored Last-Modified');
  assertEqual(s.arrivals[1].status, 304);
});

test('cache-first: identical concurrent misses share one request, then every repeat is a memory hit', async () => {
  const run = runId('cache-dedupe');
  const c = await client({ cache: {} });
  const target = url('/cache/cd', run, { latency: 100 });
  const first = await Promise.all(Array.from({ length: 10 }, () => get(c, target)));
  const bodies = await Promise.all(first.map((r) => r.json()));
  for (const b of bodies) assertEqual(b.key, 'cd');
  const again = await Promise.all(Array.from({ length: 10 }, () => getJson(c, target)));
  for (const b of again) assertEqual(b.servedAt, bodies[0].servedAt);
  assertEqual(await hits(run, '/cache/cd'), 1, 'server hits');
  assert(c.stats().cacheHits.memory >= 1, 'cacheHits.memory');
});

// ───────────────────────────── network-first ─────────────────────────────

test('network-first: always the network (revalidating a stored ETag); a 304 gives the stored body', async () => {
  const run = runId('nf');
  const c = await client({ cache: { strategy: 'network-first' } });
  const plain = url('/cache/nf', run);
  await bump('nf', run);
  assertEqual((await getJson(c, plain)).version, 2);
  await bump('nf', run);
  assertEqual((await getJson(c, plain)).version, 3, 'a fresh entry does not stop the network');
  assertEqual(await hits(run, '/cache/nf'), 2);

  const tagged = url('/cache/nft', run, { etag: 1 });
  const b1 = await getJson(c, tagged);
  const r2 = await get(c, tagged);
  assertEqual(r2.status, 200);
  assertEqual(await r2.json(), b1, 'stored body after a 304');
  const s = await stats(run);
  const arr = s.arrivals.filter((a) => a.path === '/cache/nft');
  assertEqual(arr.length, 2);
  assertEqual(arr[1].headers['if-none-match'], '"nft-1"');
  assertEqual(arr[1].status, 304);
});

test('network-first: a network failure falls back to the stored entry; with no entry, the network error', async () => {
  const run = runId('nf-fail');
  let failing = false;
  const transport = (...args) => (failing ? Promise.reject(new TypeError('Failed to fetch (test)')) : fetch(...args));
  const c = await client({ cache: { strategy: 'network-first' }, retry: 0, fetch: transport });
  const target = url('/cache/nff', run);
  const b1 = await getJson(c, target);
  failing = true;
  const r = await get(c, target);
  assertEqual(r.status, 200, 'fallback status');
  assertEqual(await r.json(), b1, 'fallback body');
  await assertRejects(get(c, url('/cache/nff-none', run)), isKind('network'), 'no entry');
  assertEqual(await hits(run, '/cache/nff'), 1);
});

test('network-first: a timeout, and a 5xx after retries, fall back to the stored entry', async () => {
  const run = runId('nf-timeout');
  // A transport that answers normally, hangs until the attempt is aborted, or answers 503.
  let mode = 'ok';
  let sent = 0;
  const transport = (request) => {
    sent += 1;
    if (mode === 'hang') {
      return new Promise((_, reject) =>
        request.signal.addEventListener('abort', () => reject(request.signal.reason ?? new DOMException('aborted', 'AbortError'))),
      );
    }
    if (mode === '503') return Promise.resolve(new Response('{"error":"down"}', { status: 503 }));
    return fetch(request);
  };
  const c = await client({ cache: { strategy: 'network-first' }, retry: { limit: 1, backoffMs: 5 }, fetch: transport });
  const target = url('/cache/nft2', run);
  const b1 = await getJson(c, target);
  mode = 'hang';
  const slow = await get(c, target, { timeoutMs: 150, retry: 0 });
  assertEqual(slow.status, 200, 'timeout fallback status');
  assertEqual(await slow.json(), b1, 'timeout fallback body');
  mode = '503';
  sent = 0;
  const failing = await get(c, target);
  assertEqual(failing.status, 200, '5xx fallback status');
  assertEqual(await failing.json(), b1, '5xx fallback body');
  assertEqual(sent, 2, 'the 503 was retried first');
  await assertRejects(get(c, url('/cache/nft2-none', run)), isKind('http', { status: 503 }), 'no entry: the error');
  assertEqual(await hits(run, '/cache/nft2'), 1);
});

test('key: requests with the same key share one cache entry', async () => {
  const run = runId('cache-key');
  const c = await client({ cache: {} });
  const key = `shared-${run}`;
  const b1 = await getJson(c, url('/cache/ka', run), { key });
  const b2 = await getJson(c, url('/cache/ka', run, { other: 1 }), { key });
  assertEqual(b2, b1, 'the entry stored under the key');
  assertEqual(await hits(run, '/cache/ka'), 1, 'server hits');
  await assertRejects(get(c, url('/cache/ka', run, { other: 2 }), { strategy: 'cache-only' }), isKind('cache'), 'without the key: a miss');
});

// ───────────────────────────── stale-while-revalidate ─────────────────────────────

test('stale-while-revalidate: a stale entry answers at once, a background refresh updates it and fires cache-update', async () => {
  const run = runId('swr');
  const all = [];
  const c = await client({ cache: { strategy: 'stale-while-revalidate' }, onEvent: (e) => all.push(e.type) });
  const updates = [];
  c.on('cache-update', (e) => updates.push(e));
  const target = url('/cache/swr', run, { maxAge: 0, latency: 400 });
  const t0 = performance.now();
  assertEqual((await getJson(c, target)).version, 1, 'no entry: the network');
  assert(performance.now() - t0 >= 350, 'the first request waited for the server');
  await bump('swr', run);
  const t1 = performance.now();
  const b2 = await getJson(c, target);
  const elapsed = performance.now() - t1;
  assertEqual(b2.version, 1, 'the stale entry answers');
  assert(elapsed < 250, `answered at once (took ${Math.round(elapsed)} ms)`);
  await until(() => updates.length >= 1, 3000);
  assertEqual(updates.length, 1, 'one cache-update event');
  assert(updates[0].url.includes('/cache/swr'), `cache-update url: ${updates[0].url}`);
  assert(all.includes('cache-update'), 'onEvent saw cache-update too');
  assertEqual(await hits(run, '/cache/swr'), 2, 'the background refresh reached the server');
  const b3 = await getJson(c, target);
  assertEqual(b3.version, 2, 'the refreshed entry answers next');
});

test('stale-while-revalidate: a fresh entry answers with no background refresh', async () => {
  const run = runId('swr-fresh');
  const c = await client({ cache: { strategy: 'stale-while-revalidate' } });
  const updates = [];
  c.on('cache-update', (e) => updates.push(e));
  const target = url('/cache/swrf', run, { maxAge: 60 });
  await get(c, target);
  await get(c, target);
  await sleep(300);
  assertEqual(await hits(run, '/cache/swrf'), 1, 'server hits');
  assertEqual(updates.length, 0, 'no cache-update');
  assertEqual(c.stats().cacheHits.memory, 1);
});

test('stale-while-revalidate as a per-request strategy on a cache-first client', async () => {
  const run = runId('swr-init');
  const c = await client({ cache: {} });
  const updates = [];
  c.on('cache-update', (e) => updates.push(e));
  const target = url('/cache/swri', run, { maxAge: 0 });
  await get(c, target);
  await bump('swri', run);
  assertEqual((await getJson(c, target, { strategy: 'stale-while-revalidate' })).version, 1);
  await until(() => updates.length >= 1, 3000);
  assertEqual(updates.length, 1, 'cache-update');
  assertEqual(await hits(run, '/cache/swri'), 2);
  assertEqual((await getJson(c, target, { strategy: 'stale-while-revalidate' })).version, 2);
});

// ───────────────────────────── network-only, none, cache-only ─────────────────────────────

test("network-only and 'none' neither read nor store", async () => {
  const run = runId('net-only');
  const c = await client({ cache: {} });
  const stored = url('/cache/no1', run);
  await get(c, stored); // stored by cache-first
  await get(c, stored, { strategy: 'network-only' });
  await get(c, stored, { strategy: 'none' });
  assertEqual(await hits(run, '/cache/no1'), 3, 'an entry does not stop network-only / none');
  await bump('no1', run);
  await bump('no1', run);
  assertEqual((await getJson(c, stored)).version, 1, 'network-only / none did not replace the entry');

  const fresh = url('/cache/no2', run);
  await get(c, fresh, { strategy: 'network-only' });
  await get(c, fresh, { strategy: 'none' });
  await assertRejects(get(c, fresh, { strategy: 'cache-only' }), isKind('cache'), 'nothing was stored');
  await get(c, fresh);
  assertEqual(await hits(run, '/cache/no2'), 3, 'cache-first found nothing stored');

  const d = await client({ cache: { strategy: 'network-only' } });
  const t = url('/cache/no3', run);
  await get(d, t);
  await get(d, t);
  assertEqual(await hits(run, '/cache/no3'), 2, 'client strategy network-only');
  const s = d.stats();
  assertEqual(s.cacheHits.memory, 0);
});

test("cache-only: a miss rejects with kind 'cache' and no server hit; a stored entry answers", async () => {
  const run = runId('cache-only');
  const c = await client({ cache: { strategy: 'cache-only' } });
  const target = url('/cache/co', run);
  const e = await assertRejects(get(c, target), isKind('cache'));
  assert(String(e.url).includes('/cache/co'), `error url: ${e.url}`);
  assertEqual(await hits(run, '/cache/co'), 0, 'no server hit');
  assertEqual(c.stats().cacheMisses, 1, 'cacheMisses');
  await get(c, target, { strategy: 'cache-first' });
  const b = await getJson(c, target);
  assertEqual(b.key, 'co');
  assertEqual(await hits(run, '/cache/co'), 1);
  assertEqual(c.stats().cacheHits.memory, 1);
});

// ───────────────────────────── what is stored ─────────────────────────────

test('not stored: no-store responses, and private ones unless allowPrivate', async () => {
  const run = runId('not-stored');
  const c = await client({ cache: {} });
  for (const path of ['/cache-nostore/ns', '/cache-private/pv']) {
    await get(c, url(path, run));
    await get(c, url(path, run));
  }
  let s = await stats(run);
  assertEqual(s.hits['/cache-nostore/ns'], 2, 'no-store');
  assertEqual(s.hits['/cache-private/pv'], 2, 'private');
  assertEqual(c.stats().cacheHits.memory, 0);

  const d = await client({ cache: { allowPrivate: true } });
  await get(d, url('/cache-private/pv2', run));
  await get(d, url('/cache-private/pv2', run));
  await get(d, url('/cache-nostore/ns2', run));
  await get(d, url('/cache-nostore/ns2', run));
  s = await stats(run);
  assertEqual(s.hits['/cache-private/pv2'], 1, 'private with allowPrivate');
  assertEqual(s.hits['/cache-nostore/ns2'], 2, 'no-store even with allowPrivate');
});

test('not stored: requests with an Authorization header, unless allowPrivate', async () => {
  const run = runId('auth');
  const headers = { Authorization: 'Bearer t0ken' };
  const c = await client({ cache: {} });
  await get(c, url('/cache/au', run), { headers });
  await get(c, url('/cache/au', run), { headers });
  let s = await stats(run);
  assertEqual(s.hits['/cache/au'], 2, 'Authorization: not stored');
  assertEqual(s.arrivals[0].headers.authorization, 'Bearer t0ken');
  const d = await client({ cache: { allowPrivate: true } });
  await get(d, url('/cache/au2', run), { headers });
  await get(d, url('/cache/au2', run), { headers });
  s = await stats(run);
  assertEqual(s.hits['/cache/au2'], 1, 'Authorization with allowPrivate: stored');
  // Client-wide headers count too.
  const e = await client({ cache: {}, headers });
  await get(e, url('/cache/au3', run));
  await get(e, url('/cache/au3', run));
  s = await stats(run);
  assertEqual(s.hits['/cache/au3'], 2, 'client Authorization header: not stored');
});

test('not stored: POST; non-2xx; 206. Stored: 203 and 204 (with ttlMs)', async () => {
  const run = runId('statuses');
  const c = await client({ cache: { ttlMs: 60000 }, retry: 0 });
  await c.fetch(url('/echo', run), { method: 'POST', body: 'a', cache: 'no-store' });
  await c.fetch(url('/echo', run), { method: 'POST', body: 'a', cache: 'no-store' });
  await assertRejects(get(c, url('/echo', run), { strategy: 'cache-only' }), isKind('cache'), 'POST stored nothing for GET');
  await get(c, url('/echo', run, { g: 1 }));
  await get(c, url('/echo', run, { g: 1 }));
  for (const code of [404, 500]) {
    await assertRejects(get(c, url(`/status/${code}`, run)), isKind('http', { status: code }));
    await assertRejects(get(c, url(`/status/${code}`, run)), isKind('http', { status: code }));
  }
  for (const code of [203, 204, 206]) {
    await get(c, url(`/status/${code}`, run));
    const r = await get(c, url(`/status/${code}`, run));
    assertEqual(r.status, code, `status ${code} kept`);
  }
  const s = await stats(run);
  assertEqual(s.hits['/echo'], 3, 'POST twice (not stored) + GET once (stored)');
  assertEqual(s.hits['/status/404'], 2, '404 not stored');
  assertEqual(s.hits['/status/500'], 2, '500 not stored');
  assertEqual(s.hits['/status/203'], 1, '203 stored');
  assertEqual(s.hits['/status/204'], 1, '204 stored');
  assertEqual(s.hits['/status/206'], 2, '206 not stored');
});

test('Vary: separate entries per Accept-Language', async () => {
  const run = runId('vary');
  const c = await client({ cache: {} });
  const target = url('/cache/va', run, { vary: 'accept-language' });
  const en = { headers: { 'Accept-Language': 'en' } };
  const fr = { headers: { 'Accept-Language': 'fr' } };
  assertEqual((await getJson(c, target, en)).vary, 'en');
  assertEqual((await getJson(c, target, fr)).vary, 'fr', 'fr is not served the en entry');
  assertEqual(await hits(run, '/cache/va'), 2, 'one hit per language');
  assertEqual((await getJson(c, target, en)).vary, 'en');
  assertEqual((await getJson(c, target, fr)).vary, 'fr');
  assertEqual((await getJson(c, target, en)).vary, 'en');
  assertEqual(await hits(run, '/cache/va'), 2, 'repeats are cache hits');
  assertEqual(c.stats().cacheHits.memory, 3);
});

// ───────────────────────────── LRU limits ─────────────────────────────

test('memory LRU: maxEntries evicts the least recently used entry', async () => {
  const run = runId('lru-entries');
  const c = await client({ cache: { maxEntries: 2 } });
  const u = (k) => url(`/cache/${k}`, run);
  await get(c, u('a'));
  await get(c, u('b'));
  await get(c, u('a')); // a used: b is now the least recently used
  await get(c, u('c')); // evicts b
  let s = await stats(run);
  assertEqual([s.hits['/cache/a'], s.hits['/cache/b'], s.hits['/cache/c']], [1, 1, 1], 'one hit each so far');
  await get(c, u('c'));
  await get(c, u('a'));
  s = await stats(run);
  assertEqual([s.hits['/cache/a'], s.hits['/cache/c']], [1, 1], 'a and c still stored');
  await get(c, u('b'));
  assertEqual(await hits(run, '/cache/b'), 2, 'b was evicted');
});

test('memory LRU: maxBytes evicts the oldest bodies', async () => {
  const run = runId('lru-bytes');
  const c = await client({ cache: { maxBytes: 3000 } });
  const u = (k) => url(`/cache/${k}`, run, { size: 1500 });
  for (const k of ['b1', 'b2', 'b3']) await get(c, u(k));
  await get(c, u('b3'));
  assertEqual(await hits(run, '/cache/b3'), 1, 'the last one is still stored');
  await get(c, u('b1'));
  assertEqual(await hits(run, '/cache/b1'), 2, 'the first one was evicted');
});

// ───────────────────────────── invalidate, clearCache, namespaces ─────────────────────────────

test('invalidate(string): exact absolute URL, baseUrl-relative URL, and a trailing * prefix; resolves to the count', async () => {
  const run = runId('inv-string');
  const c = await client({ cache: {} });
  const u = (k) => url(`/cache/${run}-${k}`, run);
  for (const k of ['a', 'b', 'p1', 'p2']) await get(c, u(k));
  assertEqual(await c.invalidate(`${origin}${u('a')}`), 1, 'exact absolute');
  assertEqual(await c.invalidate(`${origin}${u('a')}`), 0, 'already gone');
  assertEqual(await c.invalidate(`${origin}/cache/${run}-p*`), 2, 'prefix');
  assertEqual(await c.invalidate(`${origin}/cache/${run}-nothing*`), 0, 'no match');
  for (const k of ['a', 'b', 'p1', 'p2']) await get(c, u(k));
  const s = await stats(run);
  assertEqual(s.hits[`/cache/${run}-a`], 2, 'a refetched');
  assertEqual(s.hits[`/cache/${run}-b`], 1, 'b still stored');
  assertEqual(s.hits[`/cache/${run}-p1`], 2, 'p1 refetched');
  assertEqual(s.hits[`/cache/${run}-p2`], 2, 'p2 refetched');

  const d = await client({ cache: {}, baseUrl: `${origin}/cache/` });
  const rel = url(`${run}-r`, run);
  await get(d, rel);
  assertEqual(await d.invalidate(rel), 1, 'baseUrl-relative');
  await get(d, rel);
  assertEqual(await hits(run, `/cache/${run}-r`), 2, 'refetched after a relative invalidate');
});

test('invalidate(RegExp) tests absolute URLs; invalidate(fn) gets each absolute URL', async () => {
  const run = runId('inv-re');
  const c = await client({ cache: {} });
  const u = (k) => url(`/cache/${run}-${k}`, run);
  for (const k of ['x1', 'x2', 'y1']) await get(c, u(k));
  const escaped = origin.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  assertEqual(await c.invalidate(new RegExp(`^${escaped}/cache/${run}-x\\d\\?`)), 2, 'RegExp on the absolute URL');
  const seen = [];
  const n = await c.invalidate((href) => {
    seen.push(href);
    return href.includes(`${run}-y1`);
  });
  assertEqual(n, 1, 'function');
  assert(seen.length >= 1, 'the function was called');
  for (const href of seen) assert(href.startsWith('http'), `absolute URL given to the function: ${href}`);
  assert(seen.some((h) => h === `${origin}${u('y1')}`), `the function saw ${origin}${u('y1')}: ${JSON.stringify(seen)}`);
  for (const k of ['x1', 'x2', 'y1']) await get(c, u(k));
  const s = await stats(run);
  for (const k of ['x1', 'x2', 'y1']) assertEqual(s.hits[`/cache/${run}-${k}`], 2, k);
});

test('clearCache() drops every entry; the next requests reach the server', async () => {
  const run = runId('clear');
  const c = await client({ cache: {} });
  const u = (k) => url(`/cache/${k}`, run);
  for (const k of ['c1', 'c2']) await get(c, u(k));
  const p = c.clearCache();
  assert(p instanceof Promise, 'clearCache returns a Promise');
  assertEqual(await p, undefined);
  for (const k of ['c1', 'c2']) await get(c, u(k));
  for (const k of ['c1', 'c2']) await get(c, u(k));
  const s = await stats(run);
  assertEqual([s.hits['/cache/c1'], s.hits['/cache/c2']], [2, 2]);
  await assertRejects(get(c, u('c3'), { strategy: 'cache-only' }), isKind('cache'));
});

test('namespaces: clients with different namespaces do not see each other’s entries', async () => {
  const run = runId('ns-memory');
  const a = await client({ cache: { namespace: `a-${run}` } });
  const b = await client({ cache: { namespace: `b-${run}` } });
  const target = url('/cache/ns', run);
  await get(a, target);
  await assertRejects(get(b, target, { strategy: 'cache-only' }), isKind('cache'), 'b sees nothing of a');
  await get(b, target);
  await get(a, target);
  await get(b, target);
  assertEqual(await hits(run, '/cache/ns'), 2, 'one hit per namespace');
  await b.clearCache();
  await get(a, target);
  assertEqual(await hits(run, '/cache/ns'), 2, "b's clearCache left a's entry");
});
