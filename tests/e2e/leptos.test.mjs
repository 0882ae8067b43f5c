// A Rust front end: the Leptos (CSR) app in examples/leptos-app uses fetchlane's Rust API
// (fetchlane::Client with `concurrency: 2` and a memory cache; `json`, `all`, `stats`). It is
// built here (cargo build for wasm32 + the wasm-bindgen CLI, by examples/leptos-app/build.mjs;
// its own target/ makes a rebuild take seconds), served by the test server and opened in
// headless Chromium (playwright-core + Debian's Chromium). Every claim about traffic is
// checked at the server (/__stats?run=ID):
//   - the page renders each panel, the `all` group and the 404 as an error;
//   - the server never had more than 2 of the page's requests at once, and had 2;
//   - each endpoint was hit once: the identical /api/user call made at the same time joined
//     the one in flight, and the one made after everything settled came from the cache.
//   node --test tests/e2e/leptos.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../../examples/leptos-app/build.mjs';
import { startServer } from '../../scripts/server.mjs';
import { launchChromium, pageProblems, runIdFor } from './browser.mjs';

const PAGE_TIMEOUT = 20_000;
// A clean build compiles Leptos for wasm32 (minutes on a 2-core machine); a rebuild, seconds.
const BUILD_TIMEOUT = 20 * 60_000;

const newRun = () => runIdFor('leptos')('dashboard');
const log = (...args) => process.env.CONSUMERS_VERBOSE && console.log('#', ...args);

test('Leptos app over the Rust API: limit 2, all, errors, de-dup and cache at the server', { timeout: BUILD_TIMEOUT + 60_000 }, async () => {
  let t = performance.now();
  const dist = build();
  log(`leptos app built in ${Math.round(performance.now() - t)} ms`);

  const server = await startServer({ statics: [`/=${dist}`] });
  let browser;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT);
    const problems = pageProblems(page);
    page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${new URL(r.url()).pathname}`));
    page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));

    const run = newRun();
    t = performance.now();
    const response = await page.goto(`${server.origin}/?run=${run}`);
    assert.equal(response.status(), 200);
    await page.waitForSelector('#app[data-status="done"]', { timeout: PAGE_TIMEOUT }).catch((e) => {
      throw new Error(`no finished dashboard within ${PAGE_TIMEOUT} ms; browser said: ${problems.join(' | ') || 'nothing'}`, { cause: e });
    });
    log(`dashboard done in ${Math.round(performance.now() - t)} ms`);

    const panels = await page.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll('.panel')].map((p) => [p.id, { state: p.dataset.state, text: p.querySelector('.body').textContent }]),
      ),
    );
    log(JSON.stringify(panels, null, 2));
    assert.deepEqual(Object.keys(panels), ['user', 'user-dedupe', 'notifications', 'analytics', 'product', 'missing', 'user-cached']);
    for (const [id, p] of Object.entries(panels)) {
      if (id !== 'missing') assert.equal(p.state, 'ok', `${id}: ${p.text}`);
    }
    assert.match(panels.user.text, /^\S.* <\S+@\S+>$/, 'user: name and email');
    const name = panels.user.text.replace(/ <.*/, '');
    assert.equal(panels['user-dedupe'].text, name, 'the de-duplicated call got the same user');
    assert.equal(panels['user-cached'].text, name, 'the cached call got the same user');
    assert.match(panels.notifications.text, /^\d+ unread of \d+$/);
    assert.match(panels.analytics.text, /^\d+ visitors, \d+ page views \(7d\)$/);
    assert.match(panels.product.text, /^\S.*: 5 reviews, stock in 4 warehouses$/, 'the all() group: product, reviews, inventory');
    assert.equal(panels.missing.state, 'error');
    assert.match(panels.missing.text, /^http 404: .*HTTP 404 .*\/api\/product\/missing\?run=/, 'the 404 is shown as an error');

    const client = await page.$eval('#client-stats', (e) => ({ ...e.dataset }));
    assert.deepEqual(
      { deduped: client.deduped, memoryHits: client.memoryHits, failed: client.failed, started: client.started },
      { deduped: '1', memoryHits: '1', failed: '1', started: '7' },
      `the client's own counters: ${JSON.stringify(client)}`,
    );

    const stats = await (await fetch(`${server.origin}/__stats?run=${encodeURIComponent(run)}`)).json();
    assert.deepEqual(
      stats.hits,
      {
        '/api/user': 1,
        '/api/notifications': 1,
        '/api/analytics': 1,
        '/api/product/7': 1,
        '/api/product/7/reviews': 1,
        '/api/product/7/inventory': 1,
        '/api/product/missing': 1,
      },
      'one hit per endpoint: the same-time /api/user call was de-duplicated, the later one cached, the 404 not retried',
    );
    assert.ok(stats.peak <= 2, `at most 2 at once at the server, saw ${stats.peak}`);
    assert.equal(stats.peak, 2, 'the limit was reached (each answer takes 150 ms)');
    assert.deepEqual(stats.statuses, { 200: 6, 404: 1 });
    assert.deepEqual(problems, ['HTTP 404: /api/product/missing'], 'nothing else failed in the page');
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
  }
});
