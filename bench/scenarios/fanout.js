// 2. Fan-out: N requests, each answered after `latency` ms, at concurrency 6. The makespan is
// compared with the bound ⌈N/6⌉·latency (6 requests always in flight, no gap between them) and
// with p-limit / p-queue wrapping plain fetch, and with a bare Promise.all of fetch (which
// Chromium itself queues at 6 connections per host).
import { median, now, repeat, roundTrip, resetRun, runId, serverStats, url, warmConnections } from '../lib.js';

export const id = 'fanout';
export const title = 'Fan-out at concurrency 6';

export async function run({ smoke, createClient, peers }) {
  const n = smoke ? 30 : 300;
  const latency = 20;
  const concurrency = 6;
  const reps = smoke ? 1 : 5;
  const bound = Math.ceil(n / concurrency) * latency;
  const { pLimit, PQueue } = peers;
  const client = await createClient({ concurrency, perHost: concurrency, retry: 0 });
  const getJson = (u) => fetch(u).then((r) => r.json());

  const variants = [
    {
      variant: 'fetchlane: Promise.all of client.json',
      library: 'fetchlane',
      go: (urls) => Promise.all(urls.map((u) => client.json(u))),
    },
    {
      variant: 'fetchlane: client.all',
      library: 'fetchlane all',
      go: (urls) => client.all(urls),
    },
    {
      variant: 'p-limit(6) + fetch',
      library: 'p-limit',
      go: (urls) => {
        const limit = pLimit(concurrency);
        return Promise.all(urls.map((u) => limit(() => getJson(u))));
      },
    },
    {
      variant: 'p-queue(6) + fetch',
      library: 'p-queue',
      go: (urls) => {
        const queue = new PQueue({ concurrency });
        return Promise.all(urls.map((u) => queue.add(() => getJson(u))));
      },
    },
    {
      variant: 'Promise.all of fetch (browser queue)',
      library: 'plain',
      go: (urls) => Promise.all(urls.map(getJson)),
    },
  ];

  await warmConnections();
  const rtt = await roundTrip('/items/1', { latency }, smoke ? 5 : 21);
  const calibrated = Math.ceil(n / concurrency) * rtt;
  const samples = new Map(variants.map((v) => [v, []]));
  await repeat(reps, async (rep) => {
    for (const v of variants) {
      await warmConnections();
      const run = runId(id);
      const urls = Array.from({ length: n }, (_, i) => url(`/items/${i + 1}`, { latency, run }));
      const t0 = now();
      const out = await v.go(urls);
      const ms = now() - t0;
      if (out.length !== n || out.some((x) => x == null || x.id == null)) throw new Error(`${v.variant}: wrong results`);
      const st = await serverStats(run);
      await resetRun(run);
      if (rep >= 0) samples.get(v).push({ ms, peak: st.peak, hits: st.total });
    }
  });
  client.close();

  const rows = variants.map((v) => {
    const s = samples.get(v);
    const ms = median(s.map((x) => x.ms));
    return {
      variant: v.variant,
      library: v.library,
      ms,
      boundRatio: bound / ms,
      calibratedRatio: calibrated / ms,
      peak: Math.max(...s.map((x) => x.peak)),
      hits: median(s.map((x) => x.hits)),
      runs: s.map((x) => x.ms),
    };
  });
  const fl = rows.find((r) => r.library === 'fetchlane');
  for (const r of rows) r.vsFetchlane = r.ms / fl.ms;
  const pl = rows.find((r) => r.library === 'p-limit');
  return {
    id,
    title,
    params: { requests: n, latencyMs: latency, concurrency, reps, boundMs: bound, singleRoundTripMs: rtt, calibratedBoundMs: calibrated },
    columns: [
      { key: 'variant', label: 'variant' },
      { key: 'ms', label: 'makespan ms (median)', digits: 0 },
      { key: 'boundRatio', label: `bound/makespan (bound ${bound} ms)`, digits: 3 },
      { key: 'calibratedRatio', label: `calibrated bound/makespan (${calibrated.toFixed(0)} ms)`, digits: 3 },
      { key: 'vsFetchlane', label: 'makespan ÷ fetchlane’s', digits: 3 },
      { key: 'peak', label: 'peak in flight at server', digits: 0 },
    ],
    rows,
    goals: [
      {
        text: 'bound/makespan ≥ 0.97',
        value: `${fl.boundRatio.toFixed(3)} (calibrated ${fl.calibratedRatio.toFixed(3)}; best peer ${Math.max(...rows.slice(2).map((r) => r.boundRatio)).toFixed(3)})`,
        pass: fl.boundRatio >= 0.97,
        ifMissed: (() => {
          const best = Math.max(...rows.slice(2).map((r) => r.boundRatio));
          const why = `The ideal bound counts only the server's ${latency} ms; here one request alone takes ${rtt.toFixed(1)} ms (server timer slack plus the browser's per-request cost, with browser, server and driver sharing 2 cores), so no variant reaches it on this machine.`;
          return fl.boundRatio >= best * 0.99
            ? `${why} fetchlane is level with or ahead of the best peer; what would change the number is a machine with less per-request overhead, not the library.`
            : `${why} fetchlane also trails the best peer by ${((1 - fl.boundRatio / best) * 100).toFixed(1)} %: each completion makes a wasm round trip and a few promise hops before the next request starts; starting the next queued request synchronously from the completion would close that.`;
        })(),
      },
      {
        text: 'makespan ≤ p-limit’s',
        value: `${fl.ms.toFixed(0)} ms vs ${pl.ms.toFixed(0)} ms`,
        pass: fl.ms <= pl.ms,
        ifMissed: 'A gap of a few per cent is within run-to-run noise on this shared 2-core machine; a steady gap would be the time between one response settling and the next request starting (a wasm round trip and promise hops per completion).',
      },
    ],
    notes: [
      `${n} GETs of /items/:id?latency=${latency} (small JSON bodies, each decoded), unique URLs, keep-alive connections opened before each timed run.`,
      `Calibrated bound: ⌈${n}/${concurrency}⌉ × ${rtt.toFixed(1)} ms, the median time of one such request made alone with plain fetch (the ideal bound assumes it takes exactly ${latency} ms).`,
    ],
  };
}
