#!/usr/bin/env node
// node scripts/profile-hit.mjs: where a memory-cache hit spends its time (README "How it is
// built"). In headless Chromium against the local API server: the mean of 3000 hits
// (`client.fetch(url)` + `text()`, 300 URLs) against the bench's baselines, then Chrome's CPU
// profile of the hits, the functions by inclusive share. Needs `npm run build` first.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, root, startServer } from './server.mjs';

if (!existsSync(join(root, 'pkg/index.js'))) {
  console.error('profile-hit: pkg/ is not built; run `npm run build` first');
  process.exit(2);
}
const { chromium } = await import('playwright-core');
const server = await startServer({ port: await freePort(0), statics: [`/=${root}`] });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-quic'] });
try {
  const page = await browser.newPage();
  await page.goto(`${server.origin}/tests/js/blank.html`);
  const means = await page.evaluate(async () => {
    const { createClient } = await import('/pkg/index.js');
    const c = await createClient({ cache: { strategy: 'cache-first', ttlMs: 600000, maxEntries: 1000 } });
    const urls = Array.from({ length: 300 }, (_, i) => `${location.origin}/cache/m${i}?maxAge=600&run=profile-hit`);
    for (const u of urls) await (await c.fetch(u)).text();
    const stored = await (await c.fetch(urls[0])).text();
    const mean = async (fn, rounds = 10) => {
      for (let i = 0; i < 300; i++) await fn(i);
      const t = performance.now();
      for (let k = 0; k < rounds; k++) for (let i = 0; i < 300; i++) await fn(i);
      return ((performance.now() - t) * 1000) / (rounds * 300);
    };
    window.__hits = async () => {
      for (let k = 0; k < 40; k++) for (let i = 0; i < 300; i++) await (await c.fetch(urls[i])).text();
    };
    return {
      'baseline: Map lookup + new Response(body).text()': await mean(() => new Response(stored, { headers: { 'content-type': 'application/json' } }).text()),
      'fetchlane: client.text (no Response)': await mean((i) => c.text(urls[i])),
      'fetchlane: client.fetch + text()': await mean(async (i) => (await c.fetch(urls[i])).text()),
    };
  });
  for (const [k, v] of Object.entries(means)) console.log(`${k}: ${v.toFixed(1)} µs mean`);

  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 25 });
  await cdp.send('Profiler.start');
  await page.evaluate(() => window.__hits());
  const { profile } = await cdp.send('Profiler.stop');
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop()}`.trim();
  const inclusive = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(byId.get(cur));
      if (!seen.has(k)) inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
      seen.add(k);
    }
  });
  console.log('\nshare of the hits (inclusive), top 20:');
  for (const [k, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`);
} finally {
  await browser.close();
  await server.stop();
}
