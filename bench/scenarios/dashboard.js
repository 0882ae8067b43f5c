// 3. Dashboard: the 8 requests a dashboard makes on load, with mixed latencies. Time until all
// data has arrived (bodies decoded), for fetchlane's `all`, a bare `Promise.all` of fetch and
// the sequential awaits that such code often starts as. The bound is the slowest endpoint
// (everything in parallel); with 6 connections in input order it is the same here.
import { median, now, repeat, roundTrip, resetRun, runId, serverStats, url, warmConnections } from '../lib.js';

export const id = 'dashboard';
export const title = 'Dashboard load (8 endpoints, mixed latencies)';

const ENDPOINTS = [
  ['/api/user', 60],
  ['/api/notifications', 120],
  ['/api/analytics', 250],
  ['/api/product/42', 80],
  ['/api/product/42/reviews', 180],
  ['/api/product/42/recommendations', 140],
  ['/api/product/42/inventory', 40],
  ['/users/7', 100],
];

/** Makespan of list scheduling in input order on `slots` connections. */
function listSchedule(latencies, slots) {
  const free = new Array(slots).fill(0);
  let end = 0;
  for (const l of latencies) {
    free.sort((a, b) => a - b);
    free[0] += l;
    end = Math.max(end, free[0]);
  }
  return end;
}

export async function run({ smoke, createClient }) {
  const reps = smoke ? 1 : 9;
  const latencies = ENDPOINTS.map(([, l]) => l);
  const bound = Math.max(...latencies);
  const bound6 = listSchedule(latencies, 6);
  const sum = latencies.reduce((a, b) => a + b, 0);
  const client = await createClient();

  const variants = [
    { variant: 'fetchlane: client.all', library: 'fetchlane', go: (urls) => client.all(urls) },
    {
      variant: 'Promise.all of fetch',
      library: 'Promise.all',
      go: (urls) => Promise.all(urls.map((u) => fetch(u).then((r) => r.json()))),
    },
    {
      variant: 'sequential awaits',
      library: 'sequential',
      go: async (urls) => {
        const out = [];
        for (const u of urls) out.push(await (await fetch(u)).json());
        return out;
      },
    },
  ];
  await warmConnections();
  const slowest = ENDPOINTS.find(([, l]) => l === bound);
  const calibrated = await roundTrip(slowest[0], { latency: slowest[1] }, smoke ? 3 : 9);
  const samples = new Map(variants.map((v) => [v, []]));
  await repeat(reps, async (rep) => {
    for (const v of variants) {
      await warmConnections();
      const run = runId(id);
      const urls = ENDPOINTS.map(([p, latency]) => url(p, { latency, run }));
      const t0 = now();
      const out = await v.go(urls);
      const ms = now() - t0;
      if (out.length !== ENDPOINTS.length || out.some((x) => x == null)) throw new Error(`${v.variant}: wrong results`);
      const st = await serverStats(run);
      await resetRun(run);
      if (st.total !== ENDPOINTS.length) throw new Error(`${v.variant}: ${st.total} requests reached the server`);
      if (rep >= 0) samples.get(v).push(ms);
    }
  });
  client.close();

  const rows = variants.map((v) => ({ variant: v.variant, library: v.library, ms: median(samples.get(v)), runs: samples.get(v) }));
  const fl = rows[0];
  for (const r of rows) {
    r.boundRatio = bound / r.ms;
    r.calibratedRatio = calibrated / r.ms;
    r.vsFetchlane = r.ms / fl.ms;
  }
  const pa = rows[1];
  return {
    id,
    title,
    params: { endpoints: ENDPOINTS.map(([p, l]) => `${p} ${l} ms`), reps, boundMs: bound, bound6Ms: bound6, sequentialSumMs: sum, calibratedBoundMs: calibrated },
    columns: [
      { key: 'variant', label: 'variant' },
      { key: 'ms', label: 'all data ms (median)', digits: 0 },
      { key: 'boundRatio', label: `bound/time (bound ${bound} ms)`, digits: 3 },
      { key: 'calibratedRatio', label: `calibrated bound/time (${calibrated.toFixed(0)} ms)`, digits: 3 },
      { key: 'vsFetchlane', label: 'time ÷ fetchlane’s', digits: 2 },
    ],
    rows,
    goals: [
      {
        text: 'bound/time ≥ 0.97',
        value: `${fl.boundRatio.toFixed(3)} (calibrated ${fl.calibratedRatio.toFixed(3)}; Promise.all ${pa.boundRatio.toFixed(3)})`,
        pass: fl.boundRatio >= 0.97,
        ifMissed: `The slowest endpoint alone takes ${calibrated.toFixed(0)} ms here, not ${bound} ms (server timer slack and the browser's per-request cost); compare the calibrated ratio and Promise.all.`,
      },
      { text: 'no slower than Promise.all (within 2 %)', value: `${fl.ms.toFixed(0)} ms vs ${pa.ms.toFixed(0)} ms`, pass: fl.ms <= pa.ms * 1.02, ifMissed: 'With 8 requests and 6 connections both start the same requests at once; a steady gap is fetchlane’s per-request cost (wasm crossing, body decoding in the pipeline).' },
    ],
    notes: [
      `Latencies ${latencies.join(', ')} ms: slowest ${bound} ms (also the 6-connection list-schedule bound, ${bound6} ms); sequential sum ${sum} ms.`,
      `Calibrated bound: the slowest endpoint fetched alone with plain fetch, median ${calibrated.toFixed(1)} ms.`,
    ],
  };
}
