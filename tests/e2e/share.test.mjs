// Across tabs (`share`): several pages of one browser context act as one client, against the
// real server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { root, startServer } from '../../scripts/server.mjs';
import { PKG, ensurePkg, launchChromium, pageProblems, runIdFor } from './browser.mjs';

const runId = runIdFor('share');

async function withTabs(n, body) {
  await ensurePkg();
  const server = await startServer({ statics: [`/=${root}`, `/pkg=${PKG}`] });
  const browser = await launchChromium();
  try {
    const context = await browser.newContext();
    const tabs = [];
    for (let i = 0; i < n; i++) {
      const p = await context.newPage();
      await p.goto(`${server.origin}/tests/js/blank.html`);
      await p.evaluate(async (options) => {
        const { createClient } = await import('/pkg/index.js');
        window.client = await createClient(options);
      }, { concurrency: 2, perHost: 2, share: { name: 'dash' }, cache: { strategy: 'cache-first', ttlMs: 60000 } });
      tabs.push(p);
    }
    await new Promise((r) => setTimeout(r, 200));
    await body(server, tabs, context);
  } finally {
    await browser.close();
    await server.stop();
  }
}

const stats = async (server, run) => (await fetch(`${server.origin}/__stats?run=${run}`)).json();

test('share: three tabs at concurrency 2 fire 10 slow requests each: the server never sees more than 2 at once, and all 30 answer', { timeout: 120_000 }, async () => {
  await withTabs(3, async (server, tabs) => {
    const run = runId('peak');
    const roles = await Promise.all(tabs.map((t) => t.evaluate(() => window.client.stats().share)));
    assert.equal(roles.filter((r) => r.role === 'leader').length, 1, JSON.stringify(roles));
    assert.ok(roles.every((r) => r.tabs === 3), JSON.stringify(roles));
    const answered = await Promise.all(tabs.map((t, k) => t.evaluate(({ run, k }) =>
      Promise.all(Array.from({ length: 10 }, (_, i) => window.client.json(`/echo?run=${run}&latency=100&k=${k}-${i}`))).then((a) => a.length), { run, k })));
    assert.deepEqual(answered, [10, 10, 10]);
    const s = await stats(server, run);
    assert.equal(s.total, 30);
    assert.ok(s.peak <= 2, `peak ${s.peak}`);
  });
});

test('share: the same GET in three tabs is one server hit; an entry cached by one tab answers another', { timeout: 120_000 }, async () => {
  await withTabs(3, async (server, tabs) => {
    const run = runId('dedupe');
    const url = `/echo?run=${run}&latency=150`;
    const bodies = await Promise.all(tabs.map((t) => t.evaluate((url) => window.client.json(url).then((b) => b.path), url)));
    assert.deepEqual(bodies, ['/echo', '/echo', '/echo']);
    assert.equal((await stats(server, run)).total, 1, 'one server hit');
    const cached = `/cache/s?run=${run}&maxAge=600`;
    await tabs[1].evaluate((u) => window.client.json(u), cached);
    await tabs[2].evaluate((u) => window.client.json(u), cached);
    assert.equal((await stats(server, run)).hits['/cache/s'], 1, 'tab C was answered from the cache tab B filled');
  });
});

test('share: the leading tab closes with requests in flight for the others: every request is answered, one new leader', { timeout: 120_000 }, async () => {
  await withTabs(3, async (server, tabs) => {
    const run = runId('failover');
    const roles = await Promise.all(tabs.map((t) => t.evaluate(() => window.client.stats().share.role)));
    const leader = tabs[roles.indexOf('leader')];
    const others = tabs.filter((t) => t !== leader);
    const pending = others.map((t, k) => t.evaluate(({ run, k }) =>
      Promise.allSettled(Array.from({ length: 6 }, (_, i) => window.client.json(`/echo?run=${run}&latency=300&k=${k}-${i}`)))
        .then((r) => r.map((x) => x.status)), { run, k }));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await leader.close();
    // The next tab in the lock's queue leads within 500 ms.
    const elected = await Promise.race(others.map((t) => t.waitForFunction(() => window.client.stats().share.role === 'leader', null, { polling: 10, timeout: 5000 }).then(() => Date.now() - t0)));
    assert.ok(elected < 500, `a new leader after ${elected} ms`);
    const results = await Promise.all(pending);
    assert.deepEqual(results.flat().filter((s) => s !== 'fulfilled'), [], 'every request answered');
    const after = await Promise.all(others.map((t) => t.evaluate(() => window.client.stats().share)));
    assert.equal(after.filter((r) => r.role === 'leader').length, 1, JSON.stringify(after));
    assert.ok(after.every((r) => r.tabs === 2), `the new leader counts the two tabs left: ${JSON.stringify(after)}`);
  });
});

test('share: the leading client closes while its tab stays: a GET it was running for another tab is sent again by the next leader, so is a POST with an idempotency key, a POST without one fails with kind network, and nothing is thrown', { timeout: 120_000 }, async () => {
  await withTabs(2, async (server, tabs) => {
    const run = runId('close');
    const roles = await Promise.all(tabs.map((t) => t.evaluate(() => window.client.stats().share.role)));
    const leader = tabs[roles.indexOf('leader')];
    const follower = tabs[roles.indexOf('follower')];
    const problems = pageProblems(leader);
    const pending = follower.evaluate((run) => Promise.allSettled([
      ...Array.from({ length: 3 }, (_, i) => window.client.json(`/echo?run=${run}&latency=300&i=${i}`)),
      window.client.json(`/echo?run=${run}&latency=300&post=1`, { method: 'POST', body: 'x' }),
      // With an idempotency key the retry rules send a POST again, and so does failover.
      window.client.json(`/echo?run=${run}&latency=300&post=2`, { method: 'POST', body: 'y', headers: { 'Idempotency-Key': `k-${run}` } }),
    ]).then((r) => r.map((x) => x.status === 'fulfilled' ? 'ok' : x.reason.kind)), run);
    await new Promise((r) => setTimeout(r, 100));
    await leader.evaluate(() => window.client.close());
    assert.deepEqual(await pending, ['ok', 'ok', 'ok', 'network', 'ok']);
    assert.deepEqual(await follower.evaluate(() => window.client.stats().share), { role: 'leader', tabs: 1 });
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(problems, [], 'the closed leader answered nothing after its close');
  });
});

test('share: a follower that closes its client while a call waits on the leader gets kind closed at once', { timeout: 120_000 }, async () => {
  await withTabs(2, async (server, tabs) => {
    const run = runId('follower-close');
    const roles = await Promise.all(tabs.map((t) => t.evaluate(() => window.client.stats().share.role)));
    const follower = tabs[roles.indexOf('follower')];
    const kind = await follower.evaluate(async (run) => {
      const waiting = window.client.json(`/echo?run=${run}&latency=2000`).then(() => 'ok', (e) => e.kind);
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      window.client.close();
      return [await waiting, performance.now() - t0 < 500];
    }, run);
    assert.deepEqual(kind, ['closed', true]);
  });
});

test('share: a follower\'s call carries its own client\'s headers to the leader, also a plain GET', { timeout: 60_000 }, async () => {
  await ensurePkg();
  const server = await startServer({ statics: [`/=${root}`, `/pkg=${PKG}`] });
  const browser = await launchChromium();
  try {
    const context = await browser.newContext();
    const name = runId('headers');
    const pages = [];
    for (const headers of [{ 'x-tab': 'leader' }, { 'x-tab': 'follower' }]) {
      const p = await context.newPage();
      await p.goto(`${server.origin}/tests/js/blank.html`);
      await p.evaluate(async ({ name, headers }) => {
        const { createClient } = await import('/pkg/index.js');
        window.client = await createClient({ share: { name }, headers });
      }, { name, headers });
      pages.push(p);
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await pages[1].evaluate(() => window.client.stats().share.role), 'follower');
    const seen = await pages[1].evaluate(() => Promise.all([
      window.client.json('/echo?plain=1'),
      window.client.json('/echo?init=1', { headers: { 'x-call': '1' } }),
    ]).then((r) => r.map((e) => e.headers['x-tab'])));
    assert.deepEqual(seen, ['follower', 'follower']);
    assert.equal(await pages[0].evaluate(() => window.client.stats().started), 2, 'the leader sent them');
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('share: without Web Locks a tab runs alone, with no error', { timeout: 60_000 }, async () => {
  await ensurePkg();
  const server = await startServer({ statics: [`/=${root}`, `/pkg=${PKG}`] });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.origin}/tests/js/blank.html`);
    const share = await page.evaluate(async () => {
      Object.defineProperty(navigator, 'locks', { value: undefined });
      const { createClient } = await import('/pkg/index.js');
      const c = await createClient({ share: { name: 'x' } });
      await c.json('/echo');
      return c.stats().share;
    });
    assert.deepEqual(share, { role: 'alone', tabs: 1 });
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('share: a rate limit of 5 per second holds across three tabs, counted from the server\'s arrival times', { timeout: 120_000 }, async () => {
  await ensurePkg();
  const server = await startServer({ statics: [`/=${root}`, `/pkg=${PKG}`] });
  const browser = await launchChromium();
  try {
    const context = await browser.newContext();
    const run = runId('rate');
    const tabs = [];
    for (let i = 0; i < 3; i++) {
      const p = await context.newPage();
      await p.goto(`${server.origin}/tests/js/blank.html`);
      await p.evaluate(async () => {
        const { createClient } = await import('/pkg/index.js');
        window.client = await createClient({ share: { name: 'rate' }, rateLimits: [{ limit: 5, intervalMs: 1000 }] });
      });
      tabs.push(p);
    }
    await new Promise((r) => setTimeout(r, 200));
    await Promise.all(tabs.map((t, k) => t.evaluate(({ run, k }) => Promise.all(Array.from({ length: 5 }, (_, i) => window.client.json(`/echo?run=${run}&k=${k}-${i}`))), { run, k })));
    const s = await (await fetch(`${server.origin}/__stats?run=${run}`)).json();
    const times = s.arrivals.map((a) => a.t).sort((a, b) => a - b);
    assert.equal(times.length, 15);
    let most = 0;
    for (let i = 0; i < times.length; i++) most = Math.max(most, times.filter((t) => t >= times[i] && t < times[i] + 1000).length);
    assert.ok(most <= 5, `${most} arrivals in one second`);
  } finally {
    await browser.close();
    await server.stop();
  }
});


test('share: with a shared client the outbox still has one deliverer; every key arrives once', { timeout: 120_000 }, async () => {
  await withTabs(2, async (server, tabs) => {
    const run = runId('outbox');
    const keys = await Promise.all(tabs.map((t, k) => t.evaluate(async ({ run, k }) => {
      const box = window.client.outbox(`shared-${run}`, { retry: { backoffMs: 50 } });
      const out = [];
      for (let i = 0; i < 10; i++) out.push((await box.send(`/collect/s?run=${run}`, { method: 'POST', body: JSON.stringify({ k, i }), headers: { 'content-type': 'application/json' } })).idempotencyKey);
      return out;
    }, { run, k })));
    let got = { keys: [] };
    for (let i = 0; i < 100 && got.keys.length < 20; i++) {
      got = (await (await fetch(`${server.origin}/__stats?run=${run}`)).json()).collected?.s ?? { keys: [] };
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual([...got.keys].sort(), keys.flat().sort(), 'every key');
    assert.deepEqual(got.duplicates, [], 'none twice');
  });
});
