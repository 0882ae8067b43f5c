// Quick checks of retries, Retry-After and the total timeout, against what the server saw.
import { assert, assertEqual, assertRejects, runId, sleep, stats, statsWhen, test } from './harness.js';
import { client, isKind, url } from './lib.js';

test('retry: a flaky GET (2 × 503) succeeds on the 3rd attempt', async () => {
  const run = runId('flaky');
  const c = await client({ retry: { backoffMs: 10 } });
  const body = await c.json(url('/flaky/k', run, { fails: 2, status: 503 }));
  assertEqual(body.ok, true);
  assertEqual(body.attempt, 3);
  const s = await stats(run);
  assertEqual(s.hits['/flaky/k'], 3, 'server hits');
  assertEqual(c.stats().retried, 2, 'stats().retried');
  assertEqual(c.stats().succeeded, 1);
});

test('retry: a 400 is tried exactly once', async () => {
  const run = runId('no-retry-400');
  const c = await client({ retry: { backoffMs: 10 } });
  await assertRejects(c.fetch(url('/status/400', run)), isKind('http', { status: 400, attempts: 1 }));
  const s = await stats(run);
  assertEqual(s.hits['/status/400'], 1);
});

test('retry: a POST is tried exactly once (not idempotent)', async () => {
  const run = runId('no-retry-post');
  const c = await client({ retry: { backoffMs: 10 } });
  await assertRejects(
    c.fetch(url('/flaky/p', run, { fails: 1 }), { method: 'POST', body: 'x' }),
    isKind('http', { status: 503, attempts: 1 }),
  );
  const s = await stats(run);
  assertEqual(s.hits['/flaky/p'], 1);
});

test('retry: a 429 with Retry-After 120 s rejects at once with kind rate-limit', async () => {
  const run = runId('retry-after-too-long');
  const c = await client({ retry: { backoffMs: 10 } });
  const t0 = performance.now();
  await assertRejects(c.fetch(url('/status/429', run, { retryAfter: 120 })), isKind('rate-limit', { attempts: 1 }));
  assert(performance.now() - t0 < 1000, 'without waiting');
  const s = await stats(run);
  assertEqual(s.hits['/status/429'], 1);
});

test('timeout: totalTimeoutMs 300 bounds every attempt and backoff together', async () => {
  const run = runId('total-timeout');
  const c = await client({ totalTimeoutMs: 300, timeoutMs: 100, retry: { limit: 10, backoffMs: 10 } });
  const t0 = performance.now();
  await assertRejects(c.fetch(url('/hang', run)), isKind('timeout'));
  const took = performance.now() - t0;
  assert(took >= 250 && took < 1300, `took ${Math.round(took)} ms`);
  const s = await stats(run);
  assert(s.hits['/hang'] >= 2, `per-attempt timeouts were retried (${s.hits['/hang']} attempts)`);
});

test('retry: a 503 that never recovers rejects after limit + 1 attempts', async () => {
  const run = runId('retry-exhausted');
  const c = await client({ retry: { limit: 2, backoffMs: 10 } });
  await assertRejects(c.fetch(url('/status/503', run)), isKind('http', { status: 503, attempts: 3 }));
  const s = await stats(run);
  assertEqual(s.hits['/status/503'], 3);
});

test('retry: aborting during the backoff rejects at once with kind abort', async () => {
  const run = runId('abort-backoff');
  const c = await client({ retry: { limit: 3, backoffMs: 3000, jitter: false } });
  const controller = new AbortController();
  const p = c.fetch(url('/flaky/b', run, { fails: 5 }), { signal: controller.signal });
  await statsWhen(run, (s) => s.statuses['503'] === 1);
  await sleep(50);
  const t0 = performance.now();
  controller.abort();
  await assertRejects(p, isKind('abort'));
  assert(performance.now() - t0 < 500, 'without waiting for the backoff');
  const s = await stats(run);
  assertEqual(s.hits['/flaky/b'], 1, 'no further attempt');
});

test('timeout: a per-attempt timeout is retried (attempts and server hits agree)', async () => {
  const run = runId('timeout-retried');
  const c = await client({ timeoutMs: 100, retry: { limit: 1, backoffMs: 10 } });
  await assertRejects(c.fetch(url('/hang', run)), isKind('timeout', { attempts: 2 }));
  const s = await stats(run);
  assertEqual(s.hits['/hang'], 2);
});

test('events: retry fires with the attempt number, the delay and the reason', async () => {
  const run = runId('retry-event');
  const c = await client({ retry: { backoffMs: 20, jitter: false } });
  const retries = [];
  c.on('retry', (e) => retries.push(e));
  await c.json(url('/flaky/e', run, { fails: 2, status: 503 }));
  assertEqual(retries.length, 2);
  assertEqual(retries.map((e) => e.attempt).join(','), '1,2', 'attempts');
  assertEqual(retries.map((e) => e.delayMs).join(','), '20,40', 'backoff without jitter');
  assertEqual(retries[0].reason, 'status');
  assertEqual(retries[0].type, 'retry');
  assert(retries[0].url.includes('/flaky/e'), 'url');
});

test('rate-limited: a 429 with Retry-After pauses the host, fires the event and counts', async () => {
  const run = runId('rate-event');
  const c = await client();
  const seen = [];
  c.on('rate-limited', (e) => seen.push(e));
  const t0 = performance.now();
  const body = await c.json(url('/storm/s', run, { count: 1, retryAfter: 1 }));
  assert(performance.now() - t0 >= 950, 'waited for Retry-After');
  assertEqual(body.ok, true);
  assertEqual(seen.length, 1);
  assertEqual(seen[0].delayMs, 1000);
  assertEqual(c.stats().rateLimited, 1);
  assertEqual(c.stats().retried, 1);
});
