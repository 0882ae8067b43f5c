// The persistent cache survives a page reload: Playwright (playwright-core + Debian's Chromium)
// opens a page, caches a response with `persist`, reloads, and a new client is answered from
// the Cache API with no second server hit.
//   node --test tests/e2e/
// FETCHLANE_PKG_DIR=/some/dir serves that directory as /pkg instead of the repo's pkg/ (as tests/js/run.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { root, startServer } from '../../scripts/server.mjs';
import { launchChromium } from './browser.mjs';


/** Runs in the page: a client with `persist`, one request, then its stats and the body. */
async function fetchOnce({ target, name }) {
  const { createClient } = await import('/pkg/index.js');
  const client = await createClient({ cache: { persist: { name } } });
  try {
    const response = await client.fetch(target, { cache: 'no-store' });
    const body = await response.json();
    // Give a background Cache API write time to land before the page goes away.
    const deadline = performance.now() + 3000;
    for (;;) {
      let stored = 0;
      for (const n of (await caches.keys()).filter((k) => k.includes(name))) {
        stored += (await (await caches.open(n)).keys()).filter((r) => r.url.includes('/cache/k')).length;
      }
      if (stored > 0 || performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return { status: response.status, body, stats: client.stats(), cacheNames: await caches.keys() };
  } finally {
    client.close();
  }
}

test('persist: a reloaded page is answered from the Cache API', { timeout: 600_000 }, async () => {
  const statics = [`/=${root}`];
  if (process.env.FETCHLANE_PKG_DIR) statics.push(`/pkg=${process.env.FETCHLANE_PKG_DIR}`);
  const server = await startServer({ statics });
  let browser;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    const run = `reload-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const name = 'reload-test';
    const target = `/cache/k?run=${run}&maxAge=600`;
    await page.goto(`${server.origin}/tests/js/blank.html`);

    const first = await page.evaluate(fetchOnce, { target, name });
    assert.equal(first.status, 200);
    assert.equal(first.stats.cacheHits.persistent, 0, 'first load: not from the Cache API');
    assert.ok(first.cacheNames.some((n) => n.includes(name)), `a Cache API cache named like ${name}: ${first.cacheNames}`);

    await page.reload();
    const second = await page.evaluate(fetchOnce, { target, name });
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, first.body, 'the stored body');
    assert.equal(second.stats.cacheHits.persistent, 1, 'after the reload: cacheHits.persistent');

    const stats = await (await fetch(`${server.origin}/__stats?run=${run}`)).json();
    assert.equal(stats.hits['/cache/k'], 1, 'the server saw one request');
  } finally {
    if (browser) await browser.close();
    await server.stop();
  }
});
