// The outbox across page loads and tabs, in Chromium through Playwright, against the real test
// server, which records every idempotency key it collects (`/collect/{name}`) and can be told
// to be down (`/__faults`).
//   node --test tests/e2e/outbox.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { root, startServer } from '../../scripts/server.mjs';
import { PKG, ensurePkg, launchChromium, pageProblems, runIdFor } from './browser.mjs';

const runId = runIdFor('outbox');

/**
 * Runs in a page: a client and its outbox `name`, kept on `window` so that later evaluations
 * use the same; records the outbox events.
 */
async function openOutbox({ name }) {
  const { createClient } = await import('/pkg/index.js');
  const client = await createClient();
  window.box = client.outbox(name, { retry: { backoffMs: 50, maxBackoffMs: 200 } });
  window.sent = [];
  window.retries = 0;
  client.on('outbox-sent', (e) => window.sent.push(e.idempotencyKey));
  client.on('outbox-retry', () => window.retries++);
}

/** Runs in a page: `n` items to `target`, one after another; resolves to their keys. */
async function sendItems({ target, n, from }) {
  const keys = [];
  for (let i = 0; i < n; i++) {
    const t = await window.box.send(target, { method: 'POST', body: JSON.stringify({ i: from + i }), headers: { 'content-type': 'application/json' } });
    keys.push(t.idempotencyKey);
  }
  return keys;
}

/** The server's record of `bin` for `run`, once `n` distinct keys came (or `ms` passed). */
async function collectedWhen(server, run, bin, n, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const s = await (await fetch(`${server.origin}/__stats?run=${run}`)).json();
    const c = s.collected?.[bin] ?? { keys: [], duplicates: [] };
    if (new Set(c.keys).size >= n || Date.now() > end) return c;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const faults = (server, run, rules) =>
  fetch(`${server.origin}/__faults?run=${run}`, rules === null ? { method: 'DELETE' } : { method: 'POST', body: JSON.stringify(rules) });

/** A server serving the repo (and the package under test) and a Chromium; cleaned up after. */
async function withBrowser(body) {
  await ensurePkg();
  const server = await startServer({ statics: [`/=${root}`, `/pkg=${PKG}`] });
  const browser = await launchChromium();
  try {
    await body(server, browser);
  } finally {
    await browser.close();
    await server.stop();
  }
}

test('outbox: 200 items sent offline survive the page; the next page delivers each key once, in send order', { timeout: 120_000 }, async () => {
  await withBrowser(async (server, browser) => {
    const run = runId('offline');
    const name = `e2e-${run}`;
    const target = `${server.origin}/collect/o?run=${run}`;
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = pageProblems(page);
    await page.goto(`${server.origin}/tests/js/blank.html`);
    await page.evaluate(openOutbox, { name });
    await context.setOffline(true);
    const keys = await page.evaluate(sendItems, { target, n: 200, from: 0 });
    assert.equal(await page.evaluate(() => window.box.size()), 200, 'all stored while offline');
    // The tab goes away while offline (as a crash or a closed tab would), with nothing sent.
    await page.close();
    let s = await (await fetch(`${server.origin}/__stats?run=${run}`)).json();
    assert.deepEqual(s.collected ?? {}, {}, 'nothing reached the server while offline');

    await context.setOffline(false);
    const next = await context.newPage();
    await next.goto(`${server.origin}/tests/js/blank.html`);
    await next.evaluate(openOutbox, { name });
    const got = await collectedWhen(server, run, 'o', 200);
    assert.deepEqual(got.keys, keys, 'each key once, in send order');
    assert.deepEqual(got.duplicates, []);
    assert.equal(await next.evaluate(() => window.box.size()), 0, 'nothing left');
    assert.deepEqual(problems, []);
  });
});

test('outbox: with two tabs one delivers; when it closes the other takes over; no key twice', { timeout: 120_000 }, async () => {
  await withBrowser(async (server, browser) => {
    const run = runId('tabs');
    const name = `e2e-${run}`;
    const target = `${server.origin}/collect/t?run=${run}`;
    const context = await browser.newContext();
    const [a, b] = [await context.newPage(), await context.newPage()];
    for (const p of [a, b]) await p.goto(`${server.origin}/tests/js/blank.html`);
    await a.evaluate(openOutbox, { name });
    await b.evaluate(openOutbox, { name });
    // Both tabs append while both are up: the first one (it holds the lock) delivers all.
    const first = [...(await b.evaluate(sendItems, { target, n: 10, from: 0 })), ...(await a.evaluate(sendItems, { target, n: 10, from: 10 }))];
    const got = await collectedWhen(server, run, 't', 20);
    assert.deepEqual([...got.keys].sort(), [...first].sort(), 'every key');
    assert.deepEqual(got.duplicates, [], 'none twice');
    assert.equal((await a.evaluate(() => window.sent)).length, 20, 'tab A delivered them all');
    assert.deepEqual(await b.evaluate(() => window.sent), [], 'tab B only stored');

    // The server goes down; B stores 30 more; A, still the deliverer, gets nowhere (and, failing,
    // sends nothing with keepalive as it goes); A closes.
    await faults(server, run, { mode: 'down' });
    const more = await b.evaluate(sendItems, { target, n: 30, from: 20 });
    await a.waitForFunction(() => window.retries > 0);
    await a.close();
    await faults(server, run, null);
    const all = await collectedWhen(server, run, 't', 50);
    assert.deepEqual(all.keys.slice(20), more, 'B delivered the rest, in order');
    assert.deepEqual(all.duplicates, [], 'none twice');
    assert.equal((await b.evaluate(() => window.sent)).length, 30, 'tab B took over');
  });
});

test('outbox: a page that sends and closes at once: its items arrive through keepalive or on the next load', { timeout: 120_000 }, async () => {
  await withBrowser(async (server, browser) => {
    const run = runId('pagehide');
    const name = `e2e-${run}`;
    // Slow answers keep the loop on the first item while the page goes away.
    const target = `${server.origin}/collect/p?run=${run}&latency=1500`;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/tests/js/blank.html`);
    await page.evaluate(openOutbox, { name });
    const keys = await page.evaluate(sendItems, { target, n: 5, from: 0 });
    await page.close({ runBeforeUnload: true });
    const early = await collectedWhen(server, run, 'p', 4, 4000);
    // What keepalive did not deliver, the next page does.
    const next = await context.newPage();
    await next.goto(`${server.origin}/tests/js/blank.html`);
    await next.evaluate(openOutbox, { name });
    const got = await collectedWhen(server, run, 'p', 5);
    assert.deepEqual([...new Set(got.keys)].sort(), [...keys].sort(), `every item arrived (${early.keys.length} through keepalive as the page closed)`);
    assert.ok(early.keys.length >= 4, `keepalive sent the queued items as the page closed: ${early.keys.length}`);
  });
});

test('background: offline, background-lane requests and tasks wait (counted as queued) and go once online; whenOffline run sends them; an abort settles a waiting one', { timeout: 120_000 }, async () => {
  await withBrowser(async (server, browser) => {
    const run = runId('background');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/tests/js/blank.html`);
    await page.evaluate(async () => {
      const { createClient } = await import('/pkg/index.js');
      window.paused = await createClient();
      window.running = await createClient({ background: { whenOffline: 'run' } });
    });
    await context.setOffline(true);
    const waiting = await page.evaluate((run) => {
      const c = window.paused;
      const outcome = (p) => p.then((v) => ({ ok: true, v }), (e) => ({ ok: false, kind: e.kind }));
      window.request = outcome(c.json(`/echo?run=${run}&k=bg`, { lane: 'background' }));
      window.task = outcome(c.schedule(() => 'task ran', { lane: 'background' }));
      const controller = new AbortController();
      window.aborted = outcome(c.json(`/echo?run=${run}&k=aborted`, { lane: 'background', signal: controller.signal }));
      controller.abort();
      window.sentOffline = outcome(window.running.json(`/echo?run=${run}&k=run`, { lane: 'background', retry: false }));
      return { pending: c.pendingCount, active: c.activeCount, onLine: navigator.onLine };
    }, run);
    assert.deepEqual(waiting, { pending: 2, active: 0, onLine: false }, 'the request and the task wait, counted as queued');
    assert.deepEqual(await page.evaluate(() => window.aborted), { ok: false, kind: 'abort' }, 'an abort settles a waiting call at once');
    assert.deepEqual(await page.evaluate(() => window.sentOffline), { ok: false, kind: 'network' }, 'whenOffline: run sends it, and it fails offline');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await page.evaluate(() => window.paused.pendingCount), 2, 'still waiting while offline');
    await context.setOffline(false);
    const done = await page.evaluate(async () => ({ request: await window.request, task: await window.task, pending: window.paused.pendingCount }));
    assert.equal(done.request.ok, true, JSON.stringify(done.request));
    assert.deepEqual(done.task, { ok: true, v: 'task ran' });
    assert.equal(done.pending, 0);
    const s = await (await fetch(`${server.origin}/__stats?run=${run}`)).json();
    assert.deepEqual(s.arrivals.map((a) => new URLSearchParams(a.query).get('k')), ['bg'], 'the server saw the waiting request once, after the spell');
  });
});
