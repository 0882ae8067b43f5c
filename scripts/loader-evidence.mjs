#!/usr/bin/env node
// Evidence for the loader (issue 5): 100 user lookups issued in one tick through
// client.loader (maxBatchSize 100 and 25) against 100 separate client.json('/users/ID')
// calls at concurrency 6, all with 30 ms server latency, in headless Chromium.
//   node scripts/build.mjs && node scripts/loader-evidence.mjs
// Prints server hits (from /__stats) and wall time per variant (median of 5 runs).
import { freePort, root, startServer } from './server.mjs';

/** Starts the API server (serving the repo root), runs `fn` in a page of it, returns its result. */
async function runInChromium(fn) {
  const server = await startServer({ port: await freePort(0), statics: [`/=${root}`] });
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-quic'] });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.origin}/tests/js/blank.html`);
    return await page.evaluate(fn);
  } finally {
    await browser.close();
    await server.stop();
  }
}

const rows = await runInChromium(async () => {
  const { createClient } = await import('/pkg/index.js');
  const N = 100;
  const latency = 30;
  const reps = 5;
  const ids = Array.from({ length: N }, (_, i) => String(i + 1));
  const runId = (v) => `evidence-${v}-${Math.random().toString(36).slice(2, 10)}`;
  const hits = async (run, path) => (await (await fetch(`/__stats?run=${run}`, { cache: 'no-store' })).json()).hits[path] ?? 0;
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const variants = [
    {
      name: 'loader, maxBatchSize 100',
      path: '/users',
      go: (client, run) => {
        const loader = client.loader({ url: `/users?ids={keys}&latency=${latency}&run=${run}`, maxBatchSize: 100 });
        return Promise.all(ids.map((k) => loader.load(k)));
      },
    },
    {
      name: 'loader, maxBatchSize 25',
      path: '/users',
      go: (client, run) => {
        const loader = client.loader({ url: `/users?ids={keys}&latency=${latency}&run=${run}`, maxBatchSize: 25 });
        return Promise.all(ids.map((k) => loader.load(k)));
      },
    },
    {
      name: '100 × client.json(/users/ID), concurrency 6',
      path: null,
      go: (client, run) => Promise.all(ids.map((k) => client.json(`/users/${k}?latency=${latency}&run=${run}`))),
    },
  ];
  const out = [];
  for (const v of variants) {
    const times = [];
    let serverHits = 0;
    for (let r = 0; r < reps; r += 1) {
      const client = await createClient({ concurrency: 6 });
      const run = runId(r);
      const t0 = performance.now();
      const values = await v.go(client, run);
      times.push(performance.now() - t0);
      if (values.length !== N || values.some((x, i) => String(x.id) !== ids[i])) throw new Error(`${v.name}: wrong results`);
      if (v.path) serverHits = await hits(run, v.path);
      else {
        const s = await (await fetch(`/__stats?run=${run}`, { cache: 'no-store' })).json();
        serverHits = Object.entries(s.hits).filter(([p]) => p.startsWith('/users/')).reduce((n, [, h]) => n + h, 0);
      }
      client.close();
    }
    out.push({ variant: v.name, serverHits, medianMs: Math.round(median(times)), allMs: times.map((t) => Math.round(t)) });
  }
  return out;
});
console.log('loader evidence (Chromium, 100 ids, 30 ms server latency, median of 5):');
for (const r of rows) console.log(`  ${r.variant.padEnd(48)} server hits ${String(r.serverHits).padStart(3)}   ${String(r.medianMs).padStart(5)} ms   (runs: ${r.allMs.join(', ')})`);
