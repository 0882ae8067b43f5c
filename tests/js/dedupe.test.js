// In-flight de-duplication of identical GET requests (default on): one network request,
// every caller its own readable Response.
import { assert, assertEqual, assertRejects, runId, sleep, stats, test } from './harness.js';
import { client, isKind, url } from './lib.js';

test('dedupe: identical GETs in flight share one request; every caller gets its own readable Response', async () => {
  const run = runId('dedupe');
  const c = await client();
  const target = url('/echo', run, { latency: 80 });
  const [a, b, j] = await Promise.all([c.fetch(target), c.fetch(target), c.json(target)]);
  assert(a !== b, 'distinct Response objects');
  assertEqual((await a.json()).path, '/echo');
  assertEqual((await b.json()).path, '/echo');
  assertEqual(j.path, '/echo');
  const s = await stats(run);
  assertEqual(s.hits['/echo'], 1, 'server hits');
  assertEqual(c.stats().deduped, 2, 'stats().deduped');
});

test('dedupe: dedupe false, and POSTs, each send their own request', async () => {
  const run = runId('no-dedupe');
  const c = await client({ dedupe: false });
  const target = url('/echo', run, { latency: 50 });
  await Promise.all([c.fetch(target), c.fetch(target)]);
  const d = await client();
  await Promise.all([d.fetch(target, { method: 'POST', body: '1' }), d.fetch(target, { method: 'POST', body: '1' })]);
  await Promise.all([d.fetch(target, { dedupe: false }), d.fetch(target, { dedupe: false })]);
  const s = await stats(run);
  assertEqual(s.hits['/echo'], 6, 'server hits');
});

test('dedupe: one caller aborting leaves the other untouched', async () => {
  const run = runId('dedupe-abort');
  const c = await client();
  const target = url('/echo', run, { latency: 200 });
  const controller = new AbortController();
  const leaving = c.fetch(target, { signal: controller.signal });
  const staying = c.fetch(target);
  await sleep(50);
  controller.abort();
  await assertRejects(leaving, isKind('abort'));
  const r = await staying;
  assertEqual((await r.json()).path, '/echo');
  const s = await stats(run);
  assertEqual(s.hits['/echo'], 1);
});

// Found from outside: a caller that aborts an in-flight GET and retries it as soon as it sees
// the rejection joined the shared request that was being torn down, and its retry rejected at
// once with "every caller of a shared request aborted". A new caller must never join a dying
// shared request.
test('dedupe: abort an in-flight GET, retry at once on the rejection: the retry gets its own request and succeeds', async () => {
  const run = runId('abort-retry');
  const c = await client();
  const target = url('/echo', run, { latency: 150 });
  const controller = new AbortController();
  const p = c.json(target, { signal: controller.signal });
  await sleep(40);
  controller.abort();
  const started = performance.now();
  let retried;
  try {
    await p;
    throw new Error('the aborted call resolved');
  } catch (error) {
    isKind('abort')(error);
    retried = await c.json(target);
  }
  assertEqual(retried.path, '/echo', 'the retry answers');
  assert(performance.now() - started >= 100, 'the retry waited for its own request (the server latency), not a dying one');
  const s = await stats(run);
  assertEqual(s.hits['/echo'], 2, 'server hits: the aborted request and the retry');
});
