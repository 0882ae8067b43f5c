// fetchlane under TanStack Query and SWR in a real React app (tests/consumers/react-app): react,
// react-dom, @tanstack/react-query, swr, vite and @vitejs/plugin-react from the npm registry
// (installed once, reused while the installed versions match package.json), plus the packed
// fetchlane tarball; built with Vite, driven by Playwright (playwright-core + Debian's Chromium).
// Every assertion about traffic is on what the test server saw.
//   TanStack Query (queryFn: ({ signal }) => client.json(url, { signal })):
//     two components with one query key make one server hit; unmounting the last observer
//     aborts the request at the server; an HTTP 500 (retries off) reaches the error boundary
//     as a FetchlaneError of kind 'http'.
//   SWR (useSWR(key, (url) => client.json(url))): one hit for two components; errors reach the
//     boundary as FetchlaneErrors; SWR gives the fetcher no signal, so unmounting does not
//     abort: the server sees the request answered (what SWR allows, shown as it is).
//   node --test tests/e2e/react.test.mjs
// FETCHLANE_PKG_DIR=/some/dir uses that package directory instead of the repo's pkg/.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { root, startServer } from '../../scripts/server.mjs';
import { PKG, ensurePkg, exec, launchChromium, pageProblems, runIdFor } from './browser.mjs';

const APP = join(root, 'tests', 'consumers', 'react-app');
const PAGE_TIMEOUT = 20_000;

const newRun = runIdFor('react');
const log = (...args) => process.env.CONSUMERS_VERBOSE && console.log('#', ...args);

/** Whether node_modules holds exactly the versions package.json pins (then `npm ci` is skipped). */
function installedMatches() {
  const manifest = JSON.parse(readFileSync(join(APP, 'package.json'), 'utf8'));
  const pins = { ...manifest.dependencies, ...manifest.devDependencies };
  return Object.entries(pins).every(([name, version]) => {
    const file = join(APP, 'node_modules', name, 'package.json');
    return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).version === version;
  });
}

let tmp;
let dist;
let server;
let browser;

before(async () => {
  await ensurePkg();
  tmp = mkdtempSync(join(tmpdir(), 'fetchlane-react-'));
  let t = performance.now();
  const { stdout } = await exec('npm', ['pack', PKG, '--pack-destination', tmp, '--json'], { cwd: root, timeout: 60_000 });
  const tarball = join(tmp, JSON.parse(stdout)[0].filename);
  log(`npm pack ${Math.round(performance.now() - t)} ms`);

  t = performance.now();
  if (!installedMatches()) await exec('npm', ['ci', '--no-audit', '--no-fund'], { cwd: APP, timeout: 180_000 });
  log(`react, TanStack Query, SWR, vite ready ${Math.round(performance.now() - t)} ms`);

  // The tarball, as a consumer installs it; --no-save leaves package.json and the lock alone.
  t = performance.now();
  await exec('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--offline', tarball], { cwd: APP, timeout: 60_000 });
  assert.ok(existsSync(join(APP, 'node_modules', 'fetchlane', 'fetchlane_bg.wasm')), 'installed from the tarball');
  assert.ok(installedMatches(), 'installing the tarball kept the pinned versions');
  log(`npm install tarball ${Math.round(performance.now() - t)} ms`);

  t = performance.now();
  dist = join(tmp, 'dist');
  const vite = join(APP, 'node_modules', 'vite', 'bin', 'vite.js');
  await exec('node', [vite, 'build', '--logLevel', 'warn', '--outDir', dist, '--emptyOutDir'], { cwd: APP, timeout: 120_000, maxBuffer: 16 << 20 }).catch((e) => {
    throw new Error(`vite build failed:\n${e.stdout}\n${e.stderr}`, { cause: e });
  });
  assert.ok(readdirSync(join(dist, 'assets')).some((f) => f.endsWith('.wasm')), 'vite emitted the wasm');
  log(`vite build ${Math.round(performance.now() - t)} ms`);

  server = await startServer({ statics: [`/=${dist}`] });
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (server) await server.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Opens the app on `scenario` in a fresh context; resolves to the page and its problems. */
async function open(scenario, run) {
  const context = await browser.newContext();
  context.setDefaultTimeout(PAGE_TIMEOUT);
  const page = await context.newPage();
  const problems = pageProblems(page);
  const response = await page.goto(`${server.origin}/?scenario=${scenario}&run=${run}`);
  assert.equal(response.status(), 200);
  await page.waitForFunction(() => document.body.dataset.status !== 'loading', null, { timeout: PAGE_TIMEOUT });
  const status = await page.evaluate(() => document.body.dataset.status);
  assert.equal(status, 'ready', `${scenario}: ${await page.textContent('#error')} ${problems.join(' | ')}`);
  return { page, problems, close: () => context.close() };
}

async function serverStats(run) {
  return (await fetch(`${server.origin}/__stats?run=${encodeURIComponent(run)}`)).json();
}

/** Polls the server's view of `run` until `check` holds (bounded, generous). */
async function untilServer(what, run, check, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await serverStats(run);
    if (check(stats)) return stats;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(stats)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The items' states by name, once none is loading. */
async function settledItems(page) {
  await page.waitForFunction(() => document.querySelectorAll('.item[data-state="loading"]').length === 0 && document.querySelector('[data-state]'));
  return page.evaluate(() =>
    Object.fromEntries([...document.querySelectorAll('[data-name]')].map((e) => [e.dataset.name, { state: e.dataset.state, text: e.textContent }])),
  );
}

async function dedupe(library) {
  const run = newRun(`${library}-dedupe`);
  const { page, problems, close } = await open(`${library}-dedupe`, run);
  try {
    const items = await settledItems(page);
    assert.equal(items.first?.state, 'ok', JSON.stringify(items));
    assert.equal(items.second?.state, 'ok', JSON.stringify(items));
    assert.equal(JSON.parse(items.first.text).id, 'shared');
    assert.equal(items.first.text, items.second.text);
    const stats = await serverStats(run);
    assert.deepEqual(stats.hits, { '/items/shared': 1 }, 'one server hit for two components');
    const client = await page.evaluate(() => window.app.stats());
    assert.equal(client.started, 1, `${library} called the fetcher once (not fetchlane's own dedupe)`);
    assert.equal(client.deduped, 0);
    assert.deepEqual(problems, []);
  } finally {
    await close();
  }
}

async function httpError(library) {
  const run = newRun(`${library}-error`);
  const { page, problems, close } = await open(`${library}-error`, run);
  try {
    await page.waitForSelector('.boundary[data-state="error"]');
    const seen = JSON.parse(await page.getAttribute('.boundary', 'data-error'));
    assert.deepEqual(seen, { instance: true, guard: true, name: 'FetchlaneError', kind: 'http', status: 500, attempts: 1 });
    const stats = await serverStats(run);
    assert.deepEqual(stats.hits, { '/status/500': 1 }, 'retries off in both layers: one hit');
    // React logs what a boundary caught; that log is expected here, nothing else is.
    assert.deepEqual(problems.filter((p) => !/FetchlaneError|error boundary|above error/i.test(p)), []);
  } finally {
    await close();
  }
}

test('TanStack Query: two components with one query key make one server hit', { timeout: 180_000 }, () => dedupe('tanstack'));

test('TanStack Query: unmounting the last observer aborts the request at the server', { timeout: 60_000 }, async () => {
  const run = newRun('tanstack-abort');
  const { page, problems, close } = await open('tanstack-abort', run);
  try {
    await untilServer('the request at the server', run, (s) => s.inFlight === 1);
    await page.evaluate(() => window.app.hide());
    await page.waitForSelector('.hidden');
    const stats = await untilServer('the abort at the server', run, (s) => s.inFlight === 0);
    assert.equal(stats.aborted, 1, 'the server saw the client go away');
    assert.deepEqual(stats.hits, { '/hang': 1 });
    const client = await page.evaluate(() => window.app.stats());
    assert.deepEqual({ started: client.started, failed: client.failed }, { started: 1, failed: 1 }, 'fetchlane settled it as failed (kind abort)');
    assert.equal(await page.evaluate(() => window.app.client.activeCount), 0);
    assert.deepEqual(problems, []);
  } finally {
    await close();
  }
});

test('TanStack Query: an HTTP 500 reaches the error boundary as a FetchlaneError (kind http)', { timeout: 60_000 }, () => httpError('tanstack'));

test('SWR: two components with one key make one server hit', { timeout: 60_000 }, () => dedupe('swr'));

test('SWR: no signal reaches the fetcher, so unmounting does not abort; the request is answered', { timeout: 60_000 }, async () => {
  const run = newRun('swr-abort');
  const { page, problems, close } = await open('swr-abort', run);
  try {
    // The request takes 4 s at the server (main.jsx); the component goes while it runs.
    await untilServer('the request at the server', run, (s) => s.total === 1);
    await page.evaluate(() => window.app.hide());
    await page.waitForSelector('.hidden');
    const during = await serverStats(run);
    assert.equal(during.inFlight, 1, 'unmounted while the request ran');
    const stats = await untilServer('the answer', run, (s) => s.inFlight === 0, 20_000);
    assert.equal(stats.aborted, 0, 'SWR gave fetchlane no way to know');
    assert.deepEqual(stats.statuses, { 200: 1 });
    // (Not onIdle: it can resolve before a json() call's body is decoded and counted.)
    await page.waitForFunction(() => window.app.stats().succeeded === 1);
    assert.equal(await page.evaluate(() => window.app.stats().failed), 0);
    assert.deepEqual(problems, []);
  } finally {
    await close();
  }
});

test('SWR: an HTTP 500 reaches the error boundary as a FetchlaneError (kind http)', { timeout: 60_000 }, () => httpError('swr'));
