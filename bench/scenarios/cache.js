// 7. Cache latency: p50 / p99 of one `client.fetch` + body read served from fetchlane's memory
// cache, from its Cache API (persistent) cache, and from the network (a fresh URL each time,
// so a real round trip to the local server). For scale, the same read done by hand with the
// Cache API (`caches.match`) and with plain fetch. Parts whose feature is missing are reported
// as skipped; the baselines always run.
import { looksUnimplemented, now, percentile, resetRun, runId, sleep, url, warmConnections } from '../lib.js';

export const id = 'cache';
export const title = 'Cache hit latency';

const summarize = (variant, library, xs) => ({
  variant,
  library,
  samples: xs.length,
  p50: percentile(xs, 50) * 1000,
  p99: percentile(xs, 99) * 1000,
  mean: (xs.reduce((a, b) => a + b, 0) / xs.length) * 1000,
});
const skippedRow = (variant, library, detail) => ({ variant, library, skipped: 'not implemented yet', detail });

/** Times `once(i)` for i in 0..k, one after another (ms per call). */
async function sample(k, once) {
  const xs = [];
  for (let i = 0; i < k; i++) {
    const t0 = now();
    await once(i);
    xs.push(now() - t0);
  }
  return xs;
}

/** createClient that turns "cache is not there yet" into a skip marker instead of a failure. */
async function tryClient(createClient, options) {
  try {
    return { client: await createClient(options) };
  } catch (err) {
    if (looksUnimplemented(err)) return { missing: String(err.message ?? err) };
    throw err;
  }
}

export async function run({ smoke, createClient }) {
  const k = smoke ? 20 : 300;
  const run = runId(id);
  const rows = [];
  const notes = [];
  const read = (c, u) => c.fetch(u).then((r) => r.text());
  await warmConnections();

  // Network round trip through fetchlane (no cache in the way: a new URL every time).
  {
    const client = await createClient();
    await read(client, url('/cache/net', { maxAge: 0, run }));
    rows.push(summarize('fetchlane, network round trip', 'fetchlane network', await sample(k, () => read(client, url('/cache/net', { maxAge: 0, run })))));
    client.close();
  }

  // Memory hit.
  const urls = Array.from({ length: k }, (_, i) => url(`/cache/m${i}`, { maxAge: 600, run }, false));
  {
    const { client, missing } = await tryClient(createClient, { cache: { strategy: 'cache-first', ttlMs: 600_000, maxEntries: k * 2 } });
    if (missing) rows.push(skippedRow('fetchlane, memory hit', 'fetchlane memory', missing));
    else {
      for (const u of urls) await read(client, u);
      const before = client.stats().cacheHits?.memory ?? 0;
      const xs = await sample(k, (i) => read(client, urls[i]));
      const hits = (client.stats().cacheHits?.memory ?? 0) - before;
      client.close();
      if (hits < k) rows.push(skippedRow('fetchlane, memory hit', 'fetchlane memory', `stats().cacheHits.memory rose by ${hits}, not ${k}`));
      else rows.push(summarize('fetchlane, memory hit', 'fetchlane memory', xs));
    }
  }

  // Cache API (persistent) hit: a second client with the same persist name and an empty memory.
  {
    const name = `fetchlane-bench-${run}`;
    const options = { cache: { strategy: 'cache-first', ttlMs: 600_000, persist: { name } } };
    const { client: writer, missing } = await tryClient(createClient, options);
    if (missing) rows.push(skippedRow('fetchlane, Cache API hit', 'fetchlane persistent', missing));
    else {
      const purls = urls.map((u) => u.replace('/cache/m', '/cache/p'));
      for (const u of purls) await read(writer, u);
      await writer.onIdle();
      // Persisting may finish in the background: wait until the Cache API holds every entry.
      let stored = 0;
      for (let t = 0; t < 50; t++) {
        stored = 0;
        for (const cn of (await caches.keys()).filter((c) => c.includes(name))) stored += (await (await caches.open(cn)).keys()).length;
        if (stored >= k) break;
        await sleep(100);
      }
      writer.close();
      const reader = await createClient(options);
      const before = reader.stats().cacheHits?.persistent ?? 0;
      const xs = await sample(k, (i) => read(reader, purls[i]));
      const hits = (reader.stats().cacheHits?.persistent ?? 0) - before;
      await reader.clearCache().catch(() => {});
      reader.close();
      for (const cn of (await caches.keys()).filter((c) => c.includes(name))) await caches.delete(cn);
      if (hits < k) rows.push(skippedRow('fetchlane, Cache API hit', 'fetchlane persistent', `stats().cacheHits.persistent rose by ${hits}, not ${k} (${stored} entries in the Cache API)`));
      else rows.push(summarize('fetchlane, Cache API hit', 'fetchlane persistent', xs));
    }
  }

  // Baselines by hand: a Map of bodies, caches.match + body, and plain fetch of a fresh URL.
  {
    const bodies = new Map();
    for (const u of urls) bodies.set(u, JSON.stringify({ key: u, version: 1, servedAt: 0, vary: null }));
    rows.push(
      summarize(
        'baseline: Map lookup + new Response(body).text()',
        'Map',
        await sample(k, (i) => new Response(bodies.get(urls[i]), { headers: { 'content-type': 'application/json' } }).text()),
      ),
    );
    const cacheName = `bench-baseline-${run}`;
    const store = await caches.open(cacheName);
    const burls = urls.map((u) => u.replace('/cache/m', '/cache/b'));
    for (const u of burls) await store.put(u, await fetch(u));
    rows.push(summarize('baseline: caches.match + text()', 'Cache API', await sample(k, async (i) => (await store.match(burls[i])).text())));
    await caches.delete(cacheName);
    rows.push(summarize('baseline: plain fetch round trip', 'fetch', await sample(k, () => fetch(url('/cache/net', { maxAge: 0, run })).then((r) => r.text()))));
  }
  await resetRun(run);

  const byLib = (l) => rows.find((r) => r.library === l);
  const goals = [];
  const mem = byLib('fetchlane memory');
  const net = byLib('fetchlane network');
  if (!mem.skipped) goals.push({ text: 'memory hit p50 ≥ 10× faster than a network round trip', value: `${mem.p50.toFixed(0)} µs vs ${net.p50.toFixed(0)} µs`, pass: mem.p50 * 10 <= net.p50 });
  const per = byLib('fetchlane persistent');
  if (!per.skipped) goals.push({ text: 'Cache API hit p50 within 1.5× of caches.match by hand', value: `${per.p50.toFixed(0)} µs vs ${byLib('Cache API').p50.toFixed(0)} µs`, pass: per.p50 <= 1.5 * byLib('Cache API').p50 });
  const losses = [];
  const floor = byLib('Map');
  if (!mem.skipped && mem.p50 > 3 * floor.p50)
    losses.push(
      `A memory hit costs ${mem.p50.toFixed(0)} µs (p50) where a Map lookup that builds a new Response costs ${floor.p50.toFixed(0)} µs: the work around the lookup (crossing into wasm, the request pipeline, building the caller's Response) dominates. A JS-side fast path for fresh hits would change it.`,
    );
  notes.push(`${k} sequential reads per row (await fetch, then read the body as text); /cache/:key bodies are ~100 B of JSON.`);
  return {
    id,
    title,
    params: { samples: k },
    columns: [
      { key: 'variant', label: 'read' },
      { key: 'p50', label: 'p50 µs', digits: 0 },
      { key: 'p99', label: 'p99 µs', digits: 0 },
      { key: 'mean', label: 'mean µs', digits: 0 },
    ],
    rows,
    goals,
    notes,
    losses,
  };
}
