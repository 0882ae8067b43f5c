// De-duplication at scale (dedupe.test.js has the two-caller cases): 50 identical GETs,
// aborting some or all of the waiters, and dedupe: false. `cache: 'no-store'` keeps the
// browser's HTTP cache (which serializes identical concurrent GETs) out of the way.
import { assert, assertEqual, assertRejects, at, runId, sleep, stats, statsWhen, test } from './harness.js';
import { client, isKind, url } from './lib.js';
import { get, until } from './cache-helpers.js';

const N = 50;

test('dedupe: 50 identical concurrent GETs send one request; all 50 bodies are readable', async () => {
  const run = runId('dedupe-50');
  const c = await client();
  const settled = [];
  c.on('settled', (e) => settled.push(e.source));
  const target = url('/echo', run, { latency: 150 });
  const responses = await Promise.all(Array.from({ length: N }, () => get(c, target)));
  assertEqual(new Set(responses).size, N, 'distinct Response objects');
  const bodies = await Promise.all(responses.map((r) => r.json()));
  for (const b of bodies) assertEqual(b.path, '/echo');
  assertEqual((await stats(run)).hits['/echo'], 1, 'server hits');
  assertEqual(c.stats().deduped, N - 1, 'stats().deduped');
  await sleep(0);
  assertEqual(settled.filter((s) => s === 'network').length, 1, 'one settled from the network');
  assertEqual(settled.filter((s) => s === 'dedupe').length, N - 1, 'the rest settled from dedupe');
});

test('dedupe: 50 identical GETs with a cache-first client: one request, 50 bodies', async () => {
  const run = runId('dedupe-50-cache');
  const c = await client({ cache: {} });
  const target = url('/cache/d50', run, { latency: 150 });
  const bodies = await Promise.all(Array.from({ length: N }, () => get(c, target).then((r) => r.json())));
  for (const b of bodies) assertEqual(b.key, 'd50');
  assertEqual((await stats(run)).hits['/cache/d50'], 1, 'server hits');
});

test('dedupe: one of 50 waiters aborting rejects alone; the other 49 get their body', async () => {
  const run = runId('dedupe-50-abort-one');
  const c = await client();
  const target = url('/echo', run, { latency: 300 });
  const controller = new AbortController();
  const leaving = get(c, target, { signal: controller.signal });
  const staying = Array.from({ length: N - 1 }, () => get(c, target));
  await sleep(60);
  controller.abort();
  await assertRejects(leaving, isKind('abort'));
  const bodies = await Promise.all(staying.map((p) => p.then((r) => r.json())));
  assertEqual(bodies.length, N - 1);
  for (const b of bodies) assertEqual(b.path, '/echo');
  const s = await stats(run);
  assertEqual(s.hits['/echo'], 1, 'server hits');
  assertEqual(s.arrivals[0].status, 200, 'the shared request completed');
});

test('dedupe: when every waiter aborts, all reject with abort and the shared request is aborted', async () => {
  const run = runId('dedupe-abort-all');
  // Control: can this server see a plain fetch being aborted? (the arrival keeps status null)
  const controlRun = runId('dedupe-abort-control');
  const ac = new AbortController();
  const plain = fetch(at(url('/status/200', controlRun, { latency: 1000 })), { cache: 'no-store', signal: ac.signal });
  await statsWhen(controlRun, (s) => s.total >= 1, 2000);
  ac.abort();
  await plain.catch(() => {});

  const c = await client();
  const target = url('/status/200', run, { latency: 1000 });
  const controllers = Array.from({ length: N }, () => new AbortController());
  const waiters = controllers.map((ctl) => get(c, target, { signal: ctl.signal }));
  await statsWhen(run, (s) => s.total >= 1, 2000);
  assertEqual(c.activeCount, 1, 'one request in flight');
  const t0 = performance.now();
  for (const ctl of controllers) ctl.abort();
  for (const w of waiters) await assertRejects(w, isKind('abort'));
  const idle = await until(() => c.activeCount === 0, 500, 5);
  assert(idle, `activeCount back to 0 promptly (is ${c.activeCount})`);
  assert(performance.now() - t0 < 500, 'the waiters rejected promptly');
  await c.onIdle();

  await sleep(1200); // past the server's latency: a request still running would now be answered
  const control = await stats(controlRun);
  const s = await stats(run);
  assertEqual(s.hits['/status/200'], 1, 'one request was sent');
  if (control.arrivals[0].status === null) {
    assertEqual(s.arrivals[0].status, null, 'the server saw the shared request go away (a plain aborted fetch does)');
  }
});

test('dedupe: dedupe false sends all 50 requests', async () => {
  const run = runId('dedupe-50-off');
  const c = await client({ concurrency: Infinity, perHost: 50 });
  const target = url('/echo', run, { latency: 20 });
  const bodies = await Promise.all(Array.from({ length: N }, () => get(c, target, { dedupe: false }).then((r) => r.json())));
  assertEqual(bodies.length, N);
  assertEqual((await stats(run)).hits['/echo'], N, 'server hits');
  assertEqual(c.stats().deduped, 0);
  const d = await client({ dedupe: false });
  await Promise.all(Array.from({ length: 10 }, () => get(d, url('/echo', run, { d: 1 }))));
  assertEqual((await stats(run)).hits['/echo'], N + 10, 'client-wide dedupe: false');
});
