// fetchlane inside a service worker (tests/consumers/sw/): a module service worker that answers
// the page's API requests with `client.fetch(event.request)`, a per-host limit of 2 and a
// network-first strategy kept in the Cache API. Driven by Playwright (playwright-core + Debian's
// Chromium); every assertion about traffic is on what the test server saw.
//   1. two tabs fire slow requests through the one worker: the server's peak concurrency over
//      both never passes the worker client's per-host limit;
//   2. a stored answer is served while the server fails (503 from the fault knob) and while it is
//      gone altogether (stopped);
//   3. registering a changed worker script (skipWaiting + clients.claim) loses no request that
//      was in flight or queued in the old worker;
//   4. a worker that calls createClient() at top level, before install, works (also after the
//      browser stopped it and started it again);
//   5. a worker that the browser starts again while the server is down: the package fetches its
//      wasm from the network, so without help it has no client then; a worker that keeps the
//      wasm in the Cache API at install (`init(cached)`) serves its stored answers.
// The worker is a module worker (`type: 'module'`, which Chromium supports): it imports the
// package's ES module entry by URL, as it is published, and never calls init().
//   node --test tests/e2e/service-worker.test.mjs
// FETCHLANE_PKG_DIR=/some/dir uses that package directory instead of the repo's pkg/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { root, startServer } from '../../scripts/server.mjs';
import { PKG, ensurePkg, launchChromium, runIdFor } from './browser.mjs';

const SW_DIR = join(root, 'tests', 'consumers', 'sw');
const PAGE_TIMEOUT = 20_000;
/** The worker client's per-host limit (sw.js `perHost`). */
const PER_HOST = 2;

const newRun = runIdFor('sw');

/** Starts the server and a fresh browser (so a fresh profile without workers), runs `body`, cleans up. */
async function withBrowser(body) {
  await ensurePkg();
  const server = await startServer({ statics: [`/pkg=${PKG}`, `/sw=${SW_DIR}`] });
  let browser;
  try {
    browser = await launchChromium();
    const context = await browser.newContext();
    context.setDefaultTimeout(PAGE_TIMEOUT);
    const problems = [];
    const watch = (target, name) => {
      target.on('pageerror', (e) => problems.push(`${name} pageerror: ${e.message}`));
      target.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && problems.push(`${name} console: ${m.text()}`));
      // Failed loads by URL (the browser's own favicon probe is not the app's; a 502 is what a test asks for).
      target.on('response', (r) => r.status() >= 400 && r.status() !== 502 && !r.url().endsWith('/favicon.ico') && problems.push(`HTTP ${r.status()}: ${r.url()}`));
    };
    context.on('page', (p) => watch(p, 'page'));
    return await body({ server, context, problems });
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
  }
}

/** Opens the worker page in a new tab; `sw` is sw.js's query (registers it), else it waits to be controlled. */
async function openTab(context, server, problems, sw) {
  const page = await context.newPage();
  const url = `${server.origin}/sw/index.html${sw === undefined ? '' : `?sw=${encodeURIComponent(sw)}`}`;
  const response = await page.goto(url);
  assert.equal(response.status(), 200, `GET ${url}`);
  await page.waitForFunction(() => document.body.dataset.status !== 'loading', null, { timeout: PAGE_TIMEOUT }).catch((e) => {
    throw new Error(`${url}: not controlled within ${PAGE_TIMEOUT} ms; browser said: ${problems.join(' | ') || 'nothing'}`, { cause: e });
  });
  const { status, result } = await page.evaluate(() => ({ status: document.body.dataset.status, result: window.__result }));
  assert.equal(status, 'done', `${url}: ${JSON.stringify(result)} ${problems.join(' | ')}`);
  return page;
}

async function serverStats(server, run) {
  return (await fetch(`${server.origin}/__stats?run=${encodeURIComponent(run)}`)).json();
}

async function setFaults(server, config) {
  const r = await fetch(`${server.origin}/__config`, { method: 'POST', body: JSON.stringify(config) });
  assert.equal(r.status, 200);
}

/** Polls `probe` until it returns a truthy value (bounded, generous). */
async function until(what, probe, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops every service worker of the browser (the browser does this to idle workers at will). */
async function stopWorkers(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
}

/**
 * Whether the worker's Cache API store holds an entry for `url` (seen from the page).
 * @param {import('playwright-core').Page} page
 * @param {string} url
 */
function storedBySw(page, url) {
  return page.evaluate(async (u) => {
    for (const name of (await caches.keys()).filter((n) => n.includes('sw-demo'))) {
      if ((await (await caches.open(name)).keys()).some((r) => r.url.endsWith(u))) return true;
    }
    return false;
  }, url);
}

test('service worker: two tabs share the worker client, and the server never sees more than its per-host limit', { timeout: 90_000 }, async () => {
  await withBrowser(async ({ server, context, problems }) => {
    const run = newRun('tabs');
    const first = await openTab(context, server, problems, `v=1&perHost=${PER_HOST}`);
    const second = await openTab(context, server, problems);

    // Six slow requests from each tab, all at once (distinct URLs: nothing is deduplicated).
    const fire = (page, tab) =>
      page.evaluate(
        ({ tab, run }) => Promise.all(Array.from({ length: 6 }, (_, i) => window.sw.get(`/items/${tab}${i}?latency=400&run=${run}`))),
        { tab, run },
      );
    const [a, b] = await Promise.all([fire(first, 'a'), fire(second, 'b')]);
    for (const [i, r] of [...a, ...b].entries()) {
      assert.equal(r.status, 200, `request ${i}: ${JSON.stringify(r)}`);
      assert.equal(r.version, '1', 'answered by the worker');
    }
    assert.deepEqual(a.map((r) => r.body.id), ['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    assert.deepEqual(b.map((r) => r.body.id), ['b0', 'b1', 'b2', 'b3', 'b4', 'b5']);

    const stats = await serverStats(server, run);
    assert.equal(stats.total, 12, 'every request reached the server once');
    assert.ok(stats.peak <= PER_HOST, `server peak ${stats.peak} ≤ perHost ${PER_HOST}`);
    assert.equal(stats.peak, PER_HOST, 'and the worker did use its two slots');
    for (const [host, peak] of Object.entries(stats.peakByHost)) assert.ok(peak <= PER_HOST, `${host}: ${peak}`);
    assert.equal(stats.aborted, 0);

    const worker = await first.evaluate(() => window.sw.workerStats());
    assert.equal(worker.stats.started, 12, 'one worker client served both tabs');
    assert.equal(worker.stats.succeeded, 12);
    assert.deepEqual(problems, []);
  });
});

test('service worker: a stored answer is served while the server fails and while it is down', { timeout: 90_000 }, async () => {
  await withBrowser(async ({ server, context, problems }) => {
    const run = newRun('down');
    const page = await openTab(context, server, problems, `v=1&perHost=${PER_HOST}`);
    const url = `/api/user?run=${run}`;

    const fresh = await page.evaluate((u) => window.sw.get(u), url);
    assert.equal(fresh.status, 200, JSON.stringify(fresh));
    assert.equal(typeof fresh.body.name, 'string');
    // The Cache API write may land after the answer; wait for it (bounded).
    await until('the Cache API entry', () => storedBySw(page, url));

    // The server answers 503 (the fault knob): network-first falls back to the stored body.
    await setFaults(server, { errorRate: 1 });
    const failing = await page.evaluate((u) => window.sw.get(u), url);
    assert.equal(failing.status, 200, JSON.stringify(failing));
    assert.deepEqual(failing.body, fresh.body, 'the stored body while the server answers 503');
    const stats = await serverStats(server, run);
    assert.deepEqual(stats.arrivals.map((a) => a.status), [200, 503], 'the worker did ask the server');
    await setFaults(server, { errorRate: 0 });

    // The server is gone: the stored answer still comes back; an URL never stored fails as kind `network`.
    await server.stop();
    const down = await page.evaluate((u) => window.sw.get(u), url);
    assert.equal(down.status, 200, JSON.stringify(down));
    assert.deepEqual(down.body, fresh.body, 'the stored body while the server is down');
    assert.equal(down.version, '1');
    const never = await page.evaluate((u) => window.sw.get(u), `/api/analytics?run=${run}`);
    assert.equal(never.status, 502, JSON.stringify(never));
    assert.equal(never.body.kind, 'network', 'fetchlane said why');
    assert.deepEqual(problems, []);
  });
});

test('service worker: an update (skipWaiting, clients.claim) loses no request in flight', { timeout: 90_000 }, async () => {
  await withBrowser(async ({ server, context, problems }) => {
    const run = newRun('update');
    const page = await openTab(context, server, problems, `v=1&perHost=${PER_HOST}`);

    // Six slow requests: two reach the server, four wait in the old worker's queue.
    await page.evaluate((run) => {
      window.pending = Promise.all(Array.from({ length: 6 }, (_, i) => window.sw.get(`/items/u${i}?latency=1000&run=${run}`)));
    }, run);
    const before = await until('the first requests at the server', async () => {
      const stats = await serverStats(server, run);
      return stats.inFlight === PER_HOST && stats;
    });
    assert.equal(before.total, PER_HOST, 'the rest wait in the old worker');

    // A changed script: installed, skips waiting, claims the page.
    const update = await page.evaluate((n) => window.sw.register(`v=2&perHost=${n}`), PER_HOST);
    assert.match(update.controller, /sw\.js\?v=2/);
    const after = await page.evaluate((run) => window.sw.get(`/items/after?run=${run}`), run);
    assert.equal(after.status, 200);
    assert.equal(after.version, '2', 'the new worker answers new requests');

    const results = await page.evaluate(() => window.pending);
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 200, `request ${i} started before the update: ${JSON.stringify(r)}`);
      assert.equal(r.body.id, `u${i}`);
      assert.equal(r.version, '1', 'answered by the worker that took it');
    }
    // The new worker was installed while the old one still had requests to answer. (Chromium
    // then activates it only once the old worker's fetch events have settled.)
    const lastDone = Math.max(...results.map((r) => r.doneAt));
    assert.ok(update.installedAt < lastDone, `installed at ${update.installedAt}, the old requests done at ${lastDone}`);

    const stats = await serverStats(server, run);
    assert.equal(stats.total, 7);
    assert.deepEqual(stats.statuses, { 200: 7 });
    assert.equal(stats.aborted, 0, 'nothing was cut off');
    assert.deepEqual(problems, []);
  });
});

test('service worker: createClient() at top level, before install finishes, still works', { timeout: 90_000 }, async () => {
  await withBrowser(async ({ server, context, problems }) => {
    const run = newRun('toplevel');
    const page = await openTab(context, server, problems, `v=1&perHost=${PER_HOST}&mode=toplevel`);
    const fire = () =>
      page.evaluate((run) => Promise.all(['/api/user', '/api/notifications', '/items/t1'].map((p) => window.sw.get(`${p}?run=${run}`))), run);

    const results = await fire();
    for (const r of results) {
      assert.equal(r.status, 200, JSON.stringify(r));
      assert.equal(r.version, '1');
    }
    const worker = await page.evaluate(() => window.sw.workerStats());
    assert.equal(worker.mode, 'toplevel');
    assert.equal(worker.stats.started, 3);

    // The browser stops idle workers; the next fetch event evaluates the script again.
    await stopWorkers(context, page);
    const again = await fire();
    for (const r of again) assert.equal(r.status, 200, JSON.stringify(r));
    const restarted = await page.evaluate(() => window.sw.workerStats());
    assert.equal(restarted.stats.started, 3, 'a new client after the restart (its counters start again)');

    const stats = await serverStats(server, run);
    assert.equal(stats.total, 6, 'network-first: every request asked the server');
    assert.deepEqual(stats.statuses, { 200: 6 });
    assert.deepEqual(problems, []);
  });
});

/** Stores an answer, stops the server and the worker, and asks again: what the restarted worker said. */
async function askAfterOfflineRestart(query) {
  return withBrowser(async ({ server, context, problems }) => {
    const run = newRun('restart');
    const page = await openTab(context, server, problems, query);
    const url = `/api/user?run=${run}`;
    const fresh = await page.evaluate((u) => window.sw.get(u), url);
    assert.equal(fresh.status, 200, JSON.stringify(fresh));
    await until('the Cache API entry', () => storedBySw(page, url));
    await server.stop();
    await stopWorkers(context, page);
    return { fresh, restarted: await page.evaluate((u) => window.sw.get(u), url) };
  });
}

test('service worker: started again while the server is down, it needs its wasm kept in the Cache API', { timeout: 90_000 }, async () => {
  // The package alone: the restarted worker cannot fetch the wasm, so it has no client.
  const plain = await askAfterOfflineRestart(`v=1&perHost=${PER_HOST}`);
  assert.equal(plain.restarted.status, 502, JSON.stringify(plain.restarted));
  assert.match(plain.restarted.body.error, /could not load the wasm module/);

  // The wasm kept at install and given to init(): the stored answer comes back.
  const kept = await askAfterOfflineRestart(`v=1&perHost=${PER_HOST}&precache`);
  assert.equal(kept.restarted.status, 200, JSON.stringify(kept.restarted));
  assert.deepEqual(kept.restarted.body, kept.fresh.body);
});
