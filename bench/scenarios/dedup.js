// 4. De-duplication: N identical GETs issued at once (e.g. N components asking for the same
// resource). Server hits and time until every caller has its body, against plain fetch (with
// the default cache mode Chromium's HTTP cache lock serializes identical URLs; with
// `cache: 'no-store'` they all go out, 6 at a time). The theoretical minimum is 1 hit.
import { hitRows, NotImplemented, now, repeat, resetRun, runId, serverStats, url, warmConnections } from '../lib.js';

export const id = 'dedup';
export const title = 'De-duplication of identical in-flight GETs';

export async function run({ smoke, createClient }) {
  const n = smoke ? 20 : 100;
  const latency = 20;
  const reps = smoke ? 1 : 3;

  // Probe: do two identical concurrent GETs reach the server once?
  {
    const probe = await createClient();
    const run = runId(`${id}-probe`);
    const u = url('/items/1', { latency: 30, run });
    await Promise.all([probe.fetch(u).then((r) => r.text()), probe.fetch(u).then((r) => r.text())]);
    const st = await serverStats(run);
    await resetRun(run);
    const deduped = probe.stats().deduped;
    probe.close();
    if (st.total > 1) throw new NotImplemented(`two identical concurrent GETs reached the server ${st.total} times; stats().deduped = ${deduped}`);
  }

  const client = await createClient();
  const variants = [
    { variant: 'fetchlane (dedupe on by default)', library: 'fetchlane', get: (u) => client.fetch(u).then((r) => r.json()) },
    { variant: 'plain fetch (HTTP cache lock)', library: 'fetch', get: (u) => fetch(u).then((r) => r.json()) },
    { variant: "plain fetch, cache: 'no-store'", library: 'fetch no-store', get: (u) => fetch(u, { cache: 'no-store' }).then((r) => r.json()) },
  ];
  const samples = new Map(variants.map((v) => [v, []]));
  await repeat(reps, async (rep) => {
    for (const v of variants) {
      await warmConnections();
      const run = runId(id);
      const u = url('/items/7', { latency, run });
      const t0 = now();
      const out = await Promise.all(Array.from({ length: n }, () => v.get(u)));
      const ms = now() - t0;
      if (out.length !== n || out.some((x) => !x || x.id !== '7')) throw new Error(`${v.variant}: wrong results`);
      const st = await serverStats(run);
      await resetRun(run);
      if (rep >= 0) samples.get(v).push({ ms, hits: st.total });
    }
  }, { warmup: smoke ? 0 : 1 });
  const deduped = client.stats().deduped;
  client.close();

  const rows = hitRows(variants, samples);
  const fl = rows[0];
  return {
    id,
    title,
    params: { identicalRequests: n, latencyMs: latency, reps, minimumHits: 1 },
    columns: [
      { key: 'variant', label: 'variant' },
      { key: 'hits', label: 'server hits (median)', digits: 0 },
      { key: 'ms', label: 'time ms (median)', digits: 1 },
      { key: 'vsFetchlane', label: 'time ÷ fetchlane’s', digits: 1 },
    ],
    rows,
    goals: [{ text: 'server hits = 1 (the minimum)', value: String(fl.hits), pass: fl.hits === 1, ifMissed: 'Identical in-flight GETs were not all coalesced into one request: some callers joined after the first request had settled, or the dedupe key differs between them.' }],
    notes: [`${n} concurrent GETs of one /items/7?latency=${latency} URL, every body read by its caller; fetchlane stats().deduped after all reps: ${deduped}.`],
  };
}
