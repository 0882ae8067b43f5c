// Consumers in a real browser: the packed npm package (npm pack ./pkg) used the ways apps use
// it, driven by Playwright (playwright-core + Debian's Chromium):
//   1. a Vite app (tests/consumers/vite-app) that installs the tarball and is built with vite;
//   2. a plain page with <script type="module"> and an import map, no bundler;
//   3. a module Web Worker (fetch, allSettled, the Cache API store);
//   4. the mistakes a consumer makes (not awaiting createClient, a wrong option type, a wrong
//      wasm URL), in a fresh page.
//   node --test tests/e2e/consumers.test.mjs
// FETCHLANE_PKG_DIR=/some/dir uses that package directory instead of the repo's pkg/.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { root, startServer } from '../../scripts/server.mjs';
import { PKG, ensurePkg, exec, launchChromium, pageProblems, runIdFor } from './browser.mjs';

const CONSUMERS = join(root, 'tests', 'consumers');
const VITE_APP = join(CONSUMERS, 'vite-app');
const PAGE_TIMEOUT = 20_000;

const newRun = runIdFor('consumer');
const log = (...args) => process.env.CONSUMERS_VERBOSE && console.log('#', ...args);

/** Starts the test server and a browser, runs `body`, and always cleans both up. */
async function withBrowser(statics, body) {
  const server = await startServer({ statics });
  let browser;
  try {
    browser = await launchChromium();
    const context = await browser.newContext();
    context.setDefaultTimeout(PAGE_TIMEOUT);
    const page = await context.newPage();
    const problems = pageProblems(page);
    // Failed loads by URL (the browser's own favicon probe is not the app's).
    page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && problems.push(`HTTP ${r.status()}: ${r.url()}`));
    page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
    return await body({ server, page, problems });
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
  }
}

/** Opens `url`, waits until the page reports (body[data-status] leaves `loading`), returns what it reported. */
async function report(page, url, problems) {
  const response = await page.goto(url);
  assert.equal(response.status(), 200, `GET ${url}`);
  await page.waitForFunction(() => document.body.dataset.status !== 'loading', null, { timeout: PAGE_TIMEOUT }).catch((e) => {
    throw new Error(`${url}: no result within ${PAGE_TIMEOUT} ms; browser said: ${problems.join(' | ') || 'nothing'}`, { cause: e });
  });
  return page.evaluate(() => ({ status: document.body.dataset.status, result: window.__result }));
}

async function serverStats(server, run) {
  return (await fetch(`${server.origin}/__stats?run=${encodeURIComponent(run)}`)).json();
}

const PLAIN_STATICS = () => [`/pkg=${PKG}`, `/consumers=${join(CONSUMERS, 'plain')}`];

test('consumer: a Vite app built from the npm pack tarball', { timeout: 180_000 }, async () => {
  await ensurePkg();
  const tmp = mkdtempSync(join(tmpdir(), 'fetchlane-vite-'));
  try {
    let t = performance.now();
    const { stdout } = await exec('npm', ['pack', PKG, '--pack-destination', tmp, '--json'], { cwd: root, timeout: 60_000 });
    const [packed] = JSON.parse(stdout);
    const tarball = join(tmp, packed.filename);
    const files = packed.files.map((f) => f.path);
    for (const f of ['package.json', 'index.js', 'index.d.ts', 'fetchlane_bg.wasm']) {
      assert.ok(files.includes(f), `the tarball holds ${f}: ${files.join(', ')}`);
    }
    log(`npm pack ${Math.round(performance.now() - t)} ms`);

    // vite itself: installed once into tests/consumers/vite-app/node_modules and reused.
    t = performance.now();
    const viteBin = join(VITE_APP, 'node_modules', 'vite', 'bin', 'vite.js');
    if (!existsSync(viteBin)) {
      const lock = existsSync(join(VITE_APP, 'package-lock.json'));
      await exec('npm', [lock ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: VITE_APP, timeout: 120_000 });
    }
    log(`vite ready ${Math.round(performance.now() - t)} ms`);

    // The app in a temp copy, with only the tarball installed into it (as a consumer would).
    t = performance.now();
    const app = join(tmp, 'app');
    cpSync(join(VITE_APP, 'index.html'), join(app, 'index.html'));
    cpSync(join(VITE_APP, 'src'), join(app, 'src'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, type: 'module' }));
    await exec('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], { cwd: app, timeout: 60_000 });
    assert.ok(existsSync(join(app, 'node_modules', 'fetchlane', 'fetchlane_bg.wasm')), 'installed from the tarball');
    log(`npm install tarball ${Math.round(performance.now() - t)} ms`);

    t = performance.now();
    await exec('node', [viteBin, 'build', '--logLevel', 'warn'], { cwd: app, timeout: 90_000, maxBuffer: 16 << 20 }).catch((e) => {
      throw new Error(`vite build failed:\n${e.stdout}\n${e.stderr}`, { cause: e });
    });
    const dist = join(app, 'dist');
    const assets = readdirSync(join(dist, 'assets'));
    assert.ok(assets.some((f) => f.endsWith('.wasm')), `vite emitted the wasm as an asset: ${assets.join(', ')}`);
    log(`vite build ${Math.round(performance.now() - t)} ms`);

    await withBrowser([`/=${dist}`], async ({ server, page, problems }) => {
      const run = newRun('vite');
      const { status } = await report(page, `${server.origin}/?run=${run}`, problems);
      const error = await page.textContent('#error');
      assert.equal(status, 'done', `the app finished: ${error} ${problems.join(' | ')}`);
      const panels = await page.evaluate(() =>
        Object.fromEntries(
          [...document.querySelectorAll('.panel')].map((p) => [p.id, { state: p.dataset.state, text: p.querySelector('.body').textContent }]),
        ),
      );
      assert.deepEqual(Object.keys(panels), ['user', 'notifications', 'analytics']);
      for (const [id, p] of Object.entries(panels)) assert.equal(p.state, 'ok', `${id}: ${p.text}`);
      assert.match(panels.user.text, /^\S.* <\S+@\S+>$/, 'user: name and email');
      assert.match(panels.notifications.text, /^\d+ unread of \d+$/);
      assert.match(panels.analytics.text, /^\d+ visitors, \d+ page views \(\w+\)$/);
      const stats = await serverStats(server, run);
      assert.deepEqual(stats.hits, { '/api/user': 1, '/api/notifications': 1, '/api/analytics': 1 }, 'the server saw the 3 calls');
      assert.deepEqual(problems, []);
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('consumer: a plain <script type="module"> page, no bundler', { timeout: 60_000 }, async () => {
  await ensurePkg();
  await withBrowser(PLAIN_STATICS(), async ({ server, page, problems }) => {
    const run = newRun('plain');
    const { status, result } = await report(page, `${server.origin}/consumers/index.html?run=${run}`, problems);
    assert.equal(status, 'done', JSON.stringify(result));
    assert.equal(result.fetch.status, 200);
    assert.equal(typeof result.fetch.name, 'string');
    assert.equal(typeof result.json, 'number', 'notifications.unread');
    assert.equal(result.all.user, result.fetch.name);
    assert.equal(typeof result.all.visitors, 'number');
    assert.deepEqual(result.http, { instance: true, guard: true, kind: 'http', status: 404 });
    assert.equal(result.stats.failed, 1);
    const stats = await serverStats(server, run);
    assert.equal(stats.hits['/api/notifications'], 1);
    assert.equal(stats.hits['/api/analytics'], 1);
    assert.ok(stats.hits['/api/user'] >= 1 && stats.hits['/api/user'] <= 2, `user hits: ${stats.hits['/api/user']}`);
    assert.equal(stats.hits['/status/404'], 1, 'a 404 is not retried');
    assert.deepEqual(problems.filter((p) => !p.includes('/status/404')), []);
  });
});

test('consumer: a module Web Worker (fetch, allSettled, Cache API store)', { timeout: 60_000 }, async () => {
  await ensurePkg();
  await withBrowser(PLAIN_STATICS(), async ({ server, page, problems }) => {
    const run = newRun('worker');
    const { status, result } = await report(page, `${server.origin}/consumers/worker.html?run=${run}&name=worker`, problems);
    assert.equal(status, 'done', JSON.stringify(result));
    assert.equal(result.scope, true, 'ran inside a worker');
    assert.equal(result.fetch.status, 200);
    assert.equal(typeof result.fetch.name, 'string');
    assert.deepEqual(result.allSettled.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
    assert.ok(result.allSettled[0].keys.includes('unread'), 'notifications body');
    assert.ok(result.allSettled[1].keys.includes('totals'), 'analytics body');
    assert.deepEqual(result.allSettled[2], { status: 'rejected', fetchlane: true, kind: 'http', httpStatus: 404 });
    assert.equal(result.first.stats.cacheHits.persistent, 0, 'first client: from the network');
    assert.equal(result.second.status, 200);
    assert.deepEqual(result.second.body, result.first.body, 'the stored body');
    assert.equal(result.second.stats.cacheHits.persistent, 1, 'second client: cacheHits.persistent');
    assert.ok(result.cacheNames.some((n) => n.includes('worker')), `a Cache API cache named like "worker": ${result.cacheNames}`);
    const stats = await serverStats(server, run);
    assert.deepEqual(
      stats.hits,
      { '/api/user': 1, '/api/notifications': 1, '/api/analytics': 1, '/status/404': 1, '/cache/k': 1 },
      'server hits (the second client never reached the server)',
    );
  });
});

test('consumer: the mistakes a consumer makes get clear errors', { timeout: 60_000 }, async () => {
  await ensurePkg();
  await withBrowser(PLAIN_STATICS(), async ({ server, page, problems }) => {
    const { status, result } = await report(page, `${server.origin}/consumers/errors.html`, problems);
    assert.equal(status, 'done', JSON.stringify(result));

    // init('/nope.wasm') in a fresh page: an Error that says how to fix it.
    assert.equal(typeof result.wrongUrl, 'object', `init('/nope.wasm') rejects: ${JSON.stringify(result.wrongUrl)}`);
    assert.equal(result.wrongUrl.isError, true);
    assert.match(result.wrongUrl.message, /nope\.wasm/, 'names the URL it tried');
    assert.match(result.wrongUrl.message, /fetchlane_bg\.wasm/, 'says which file to serve');
    assert.match(result.wrongUrl.message, /init\(/, 'says to pass the URL to init');
    assert.equal(result.recovered, true, 'a later createClient() loads the wasm from the default place');

    // createClient().fetch without await.
    assert.equal(typeof result.notAwaited, 'object', `createClient().fetch throws: ${JSON.stringify(result.notAwaited)}`);
    assert.equal(result.notAwaited.isTypeError, true, JSON.stringify(result.notAwaited));
    assert.match(result.notAwaited.message, /await/);

    // createClient({ concurrency: 'x' }) from plain JS.
    assert.equal(typeof result.badOption, 'object', `createClient({ concurrency: 'x' }) rejects: ${JSON.stringify(result.badOption)}`);
    assert.equal(result.badOption.isTypeError, true, JSON.stringify(result.badOption));
    assert.match(result.badOption.message, /concurrency/);
  });
});
