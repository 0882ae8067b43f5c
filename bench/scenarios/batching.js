// 5. Batching: N ids loaded one by one by independent callers in the same tick. fetchlane's
// `loader` against DataLoader over fetch (batch fn calling /items?ids=...) and against
// unbatched requests (/items/:id each, plain and through fetchlane). Both batchers use
// maxBatchSize 100, so the minimum is ⌈N/100⌉ server hits.
import { hitRows, looksUnimplemented, NotImplemented, now, ORIGIN, repeat, resetRun, runId, serverStats, url, warmConnections } from '../lib.js';

export const id = 'batching';
export const title = 'Batching (DataLoader-style)';

export async function run({ smoke, createClient, peers }) {
  const n = smoke ? 30 : 200;
  const latency = 20;
  const maxBatchSize = 100;
  const reps = smoke ? 1 : 5;
  const minHits = Math.ceil(n / maxBatchSize);
  const { DataLoader } = peers;

  const client = await createClient();
  if (typeof client.loader !== 'function') {
    client.close();
    throw new NotImplemented('client.loader is not a function');
  }
  const batchUrl = (run) => `${ORIGIN}/items?ids={keys}&latency=${latency}&run=${run}&n=${Math.random().toString(36).slice(2)}`;
  try {
    const probe = client.loader({ url: batchUrl(runId(`${id}-probe`)), maxBatchSize });
    await probe.load('1');
  } catch (err) {
    if (looksUnimplemented(err)) {
      client.close();
      throw new NotImplemented(String(err.message ?? err));
    }
    throw err;
  }

  const variants = [
    {
      variant: 'fetchlane client.loader',
      library: 'fetchlane',
      go: (ids, run) => {
        const loader = client.loader({ url: batchUrl(run), maxBatchSize });
        return Promise.all(ids.map((k) => loader.load(k)));
      },
    },
    {
      variant: 'DataLoader over fetch',
      library: 'dataloader',
      go: (ids, run) => {
        const loader = new DataLoader(
          async (keys) => {
            const r = await fetch(url('/items', { ids: keys.join(','), latency, run }));
            const items = await r.json();
            const byId = new Map(items.map((it) => [String(it.id), it]));
            return keys.map((k) => byId.get(k) ?? new Error(`missing ${k}`));
          },
          { maxBatchSize },
        );
        return Promise.all(ids.map((k) => loader.load(k)));
      },
    },
    {
      variant: 'unbatched: Promise.all of fetch /items/:id',
      library: 'fetch',
      go: (ids, run) => Promise.all(ids.map((k) => fetch(url(`/items/${k}`, { latency, run })).then((r) => r.json()))),
    },
    {
      variant: 'unbatched: fetchlane client.json /items/:id',
      library: 'fetchlane json',
      go: (ids, run) => Promise.all(ids.map((k) => client.json(url(`/items/${k}`, { latency, run })))),
    },
  ];
  const samples = new Map(variants.map((v) => [v, []]));
  await repeat(reps, async (rep) => {
    for (const v of variants) {
      await warmConnections();
      const run = runId(id);
      const ids = Array.from({ length: n }, (_, i) => String(i + 1));
      const t0 = now();
      const out = await v.go(ids, run);
      const ms = now() - t0;
      if (out.length !== n || out.some((x, i) => !x || String(x.id) !== ids[i])) throw new Error(`${v.variant}: wrong results`);
      const st = await serverStats(run);
      await resetRun(run);
      if (rep >= 0) samples.get(v).push({ ms, hits: st.total });
    }
  });
  const batched = client.stats().batched;
  client.close();

  const rows = hitRows(variants, samples);
  const fl = rows[0];
  const dl = rows[1];
  return {
    id,
    title,
    params: { ids: n, latencyMs: latency, maxBatchSize, reps, minimumHits: minHits },
    columns: [
      { key: 'variant', label: 'variant' },
      { key: 'hits', label: 'server hits (median)', digits: 0 },
      { key: 'ms', label: 'time ms (median)', digits: 1 },
      { key: 'vsFetchlane', label: 'time ÷ fetchlane’s', digits: 2 },
    ],
    rows,
    goals: [
      { text: `server hits = ${minHits} (the minimum)`, value: String(fl.hits), pass: fl.hits === minHits, ifMissed: 'The loader split the ids into more batches than maxBatchSize requires (a window that closes early, or the URL length limit).' },
      { text: 'no slower than DataLoader (within 5 %)', value: `${fl.ms.toFixed(1)} ms vs ${dl.ms.toFixed(1)} ms`, pass: fl.ms <= dl.ms * 1.05, ifMissed: 'Same number of requests, so the gap is per-key work: crossing into wasm per load() and matching the response items to keys.' },
    ],
    notes: [`${n} loads of ids 1..${n} in one tick, each request answered after ${latency} ms; fetchlane stats().batched after all reps: ${batched}.`],
  };
}
