// The persistent store (browser Cache API) under the memory cache: another client with the
// same persist name and namespace is answered from it; maxAgeMs, maxEntries, invalidate,
// clearCache, namespaces, and a Cache API that fails. Each test uses its own persist name
// and deletes its Cache API caches afterwards.
import { assert, assertEqual, assertRejects, quietRejections, runId, sleep, stats, test } from './harness.js';
import { client, createClient, isError, isKind, origin, url } from './lib.js';
import { cacheNames, dropCachesAfter, get, getJson, hits, persisted, storedRequests, until } from './cache-helpers.js';

/** A test that needs the Cache API (Node has none: there it is skipped, and listed). */
const withCaches = (name, fn, opts = {}) => test(name, fn, { ...opts, needs: ['caches'] });

/** A persist name unique to this test, whose caches are deleted when the test ends. */
function persistName(run) {
  const name = `fl-${run}`;
  dropCachesAfter(name);
  return name;
}

withCaches('persist: entries go to a Cache API cache named after persist.name; a second client is answered from it', async () => {
  const run = runId('persist');
  const name = persistName(run);
  const a = await client({ cache: { persist: { name } } });
  const target = url('/cache/p', run, { maxAge: 600 });
  const b1 = await getJson(a, target);
  assert(await until(async () => (await cacheNames(name)).length > 0), `a cache name containing ${name} in ${JSON.stringify(await caches.keys())}`);
  assert(await persisted(name, '/cache/p'), `the response is in the Cache API: ${JSON.stringify(await storedRequests(name))}`);

  const events = [];
  const b = await client({ cache: { persist: { name } }, onEvent: (e) => events.push(e) });
  const r = await get(b, target);
  assertEqual(r.status, 200);
  assertEqual(await r.json(), b1, 'the stored body');
  assertEqual(await hits(run, '/cache/p'), 1, 'no server hit for the second client');
  const s = b.stats();
  assertEqual(s.cacheHits.persistent, 1, 'cacheHits.persistent');
  assertEqual(s.cacheHits.memory, 0, 'cacheHits.memory');
  await sleep(0);
  const hit = events.find((e) => e.type === 'cache-hit');
  assert(hit, 'a cache-hit event');
  assertEqual(hit.source, 'persistent', 'cache-hit source');
  assertEqual(events.find((e) => e.type === 'settled')?.source, 'persistent', 'settled source');
  // cache-only is answered from the persistent store too
  const c = await client({ cache: { strategy: 'cache-only', persist: { name } } });
  assertEqual((await getJson(c, target)).servedAt, b1.servedAt);
  assertEqual(await hits(run, '/cache/p'), 1);
});

withCaches('persist: namespaces with the same persist name never see each other’s entries', async () => {
  const run = runId('persist-ns');
  const name = persistName(run);
  const target = url('/cache/pns', run, { maxAge: 600 });
  const x = await client({ cache: { namespace: `x-${run}`, persist: { name } } });
  const vx = await getJson(x, target);
  await persisted(name, '/cache/pns');
  const y = await client({ cache: { namespace: `y-${run}`, persist: { name } } });
  await assertRejects(get(y, target, { strategy: 'cache-only' }), isKind('cache'), 'y finds nothing of x');
  const vy = await getJson(y, target);
  assertEqual(await hits(run, '/cache/pns'), 2, 'one hit per namespace');
  await persisted(name, '/cache/pns', 2);

  // Fresh clients in each namespace get their own entry from the Cache API.
  const x2 = await client({ cache: { namespace: `x-${run}`, persist: { name } } });
  const y2 = await client({ cache: { namespace: `y-${run}`, persist: { name } } });
  assertEqual((await getJson(x2, target)).servedAt, vx.servedAt, 'x2 gets x’s entry');
  assertEqual((await getJson(y2, target)).servedAt, vy.servedAt, 'y2 gets y’s entry');
  assertEqual(await hits(run, '/cache/pns'), 2);
  assertEqual(x2.stats().cacheHits.persistent + y2.stats().cacheHits.persistent, 2);

  // clearCache drops one namespace only.
  await x.clearCache();
  const x3 = await client({ cache: { namespace: `x-${run}`, persist: { name } } });
  const y3 = await client({ cache: { namespace: `y-${run}`, persist: { name } } });
  await get(y3, target);
  assertEqual(y3.stats().cacheHits.persistent, 1, "y's entry survived x.clearCache()");
  await get(x3, target);
  assertEqual(x3.stats().cacheHits.persistent, 0, "x's entry is gone");
  assertEqual(await hits(run, '/cache/pns'), 3);
});

withCaches('persist: clearCache() also drops the Cache API entries', async () => {
  const run = runId('persist-clear');
  const name = persistName(run);
  const a = await client({ cache: { persist: { name } } });
  const target = url('/cache/pc', run, { maxAge: 600 });
  await get(a, target);
  await persisted(name, '/cache/pc');
  await a.clearCache();
  assertEqual((await storedRequests(name)).filter((u) => u.includes('/cache/pc')).length, 0, 'no request left in the Cache API');
  const b = await client({ cache: { persist: { name } } });
  await get(b, target);
  assertEqual(await hits(run, '/cache/pc'), 2);
  assertEqual(b.stats().cacheHits.persistent, 0);
});

withCaches('persist: maxAgeMs expires persistent entries counted from when they were stored', async () => {
  const run = runId('persist-maxage');
  const name = persistName(run);
  const opts = { cache: { persist: { name, maxAgeMs: 1000 } } };
  const a = await client(opts);
  const target = url('/cache/pma', run, { maxAge: 600 });
  await get(a, target);
  await persisted(name, '/cache/pma');
  const b = await client(opts);
  await get(b, target);
  assertEqual(b.stats().cacheHits.persistent, 1, 'within maxAgeMs: a persistent hit');
  await sleep(1300);
  const c = await client(opts);
  await get(c, target);
  assertEqual(c.stats().cacheHits.persistent, 0, 'past maxAgeMs: no persistent hit');
  assertEqual(await hits(run, '/cache/pma'), 2, 'the expired entry went back to the server');
});

withCaches('persist: maxEntries keeps the most recently stored entries', async () => {
  const run = runId('persist-max');
  const name = persistName(run);
  const opts = { cache: { persist: { name, maxEntries: 2 } } };
  const a = await client(opts);
  const u = (k) => url(`/cache/${k}`, run, { maxAge: 600 });
  for (const k of ['pa', 'pb', 'pc']) {
    await get(a, u(k));
    await persisted(name, `/cache/${k}`);
    await sleep(30);
  }
  await sleep(200);
  const b = await client(opts);
  await get(b, u('pc'));
  await get(b, u('pb'));
  assertEqual(b.stats().cacheHits.persistent, 2, 'the two most recent are persistent hits');
  await get(b, u('pa'));
  const s = await stats(run);
  assertEqual([s.hits['/cache/pa'], s.hits['/cache/pb'], s.hits['/cache/pc']], [2, 1, 1], 'the oldest was dropped');
});

withCaches('persist: invalidate counts an entry in memory and the Cache API once and drops it from both', async () => {
  const run = runId('persist-inv');
  const name = persistName(run);
  const a = await client({ cache: { persist: { name } } });
  const u = (k) => url(`/cache/${run}-${k}`, run, { maxAge: 600 });
  for (const k of ['a', 'b', 'c']) await get(a, u(k));
  for (const k of ['a', 'b', 'c']) await persisted(name, `/cache/${run}-${k}`);
  assertEqual(await a.invalidate(`${origin}${u('a')}`), 1, 'exact URL, in memory + persistent: counted once');
  assertEqual(await a.invalidate((href) => href.includes(`${run}-b`)), 1, 'function');
  await get(a, u('a'));
  assertEqual(await hits(run, `/cache/${run}-a`), 2, 'a refetched by the same client');
  const b = await client({ cache: { persist: { name } } });
  await get(b, u('b'));
  assertEqual(await hits(run, `/cache/${run}-b`), 2, 'b gone from the Cache API too');
  // An entry only in the persistent store (b is a new client) counts as well.
  assertEqual(await b.invalidate(new RegExp(`/cache/${run}-c\\?`)), 1, 'persistent-only entry');
  const c = await client({ cache: { persist: { name } } });
  await get(c, u('c'));
  assertEqual(await hits(run, `/cache/${run}-c`), 2, 'c refetched');
});

withCaches('persist: a failing Cache API does not fail the request; the network answers and cache-error fires', async () => {
  const run = runId('persist-error');
  const name = persistName(run);
  const storage = globalThis.caches;
  const own = Object.prototype.hasOwnProperty.call(storage, 'open');
  const original = storage.open;
  const errors = [];
  const loud = quietRejections();
  try {
    storage.open = () => Promise.reject(new DOMException('simulated Cache API failure', 'UnknownError'));
    const c = await client({ cache: { persist: { name } }, onEvent: (e) => e.type === 'cache-error' && errors.push(e) });
    const onErrors = [];
    c.on('cache-error', (e) => onErrors.push(e));
    const r = await get(c, url('/cache/pe', run, { maxAge: 600 }));
    assertEqual(r.status, 200);
    assertEqual((await r.json()).key, 'pe');
    assert(await until(() => errors.length > 0 && onErrors.length > 0, 2000), 'a cache-error event (onEvent and on)');
    assertEqual(errors[0].type, 'cache-error');
    assertEqual(await hits(run, '/cache/pe'), 1);
  } finally {
    if (own) storage.open = original;
    else delete storage.open;
    loud();
  }
  assert(storage.open === CacheStorage.prototype.open || own, 'caches.open restored');
});

test('persist: where the Cache API is missing, createClient rejects with a TypeError naming cache.persist', async () => {
  // Node has no `caches`; a page hides its own for the test (an own property shadows it).
  const own = Object.getOwnPropertyDescriptor(globalThis, 'caches');
  if (globalThis.caches !== undefined) Object.defineProperty(globalThis, 'caches', { value: undefined, configurable: true, writable: true });
  try {
    await assertRejects(createClient({ cache: { persist: { name: 'no-caches' } } }), isError(TypeError, 'cache.persist', 'Cache API'));
    // Without persist the memory cache still works there.
    const c = await client({ cache: { strategy: 'cache-first' } });
    assertEqual(c.stats().cacheHits.persistent, 0);
  } finally {
    if (own) Object.defineProperty(globalThis, 'caches', own);
    else delete globalThis.caches;
  }
});
