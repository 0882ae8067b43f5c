// all / allSettled: order, fail-fast with sibling abort, progress, body modes.
import { assert, assertEqual, assertRejects, runId, sleep, stats, statsWhen, test } from './harness.js';
import { client, isKind, url } from './lib.js';

test('all: results come in input order, whatever the completion order', async () => {
  const run = runId('all-order');
  const c = await client({ concurrency: 6 });
  const latencies = [300, 20, 180, 0, 90];
  const out = await c.all(latencies.map((latency, i) => url('/echo', run, { latency, i })));
  assertEqual(out.length, 5);
  out.forEach((body, i) => assert(new URLSearchParams(body.query).get('i') === String(i), `result ${i} has query ${body.query}`));
  const s = await stats(run);
  const order = s.arrivals.filter((a) => a.status !== null).map((a) => new URLSearchParams(a.query).get('i'));
  assertEqual(s.hits['/echo'], 5);
  assert(order.length === 5, 'all answered');
});

test('all: the first failure rejects at once (http 500) and aborts the queued siblings', async () => {
  const run = runId('all-fail');
  const c = await client({ concurrency: 2, retry: 0 });
  const t0 = performance.now();
  const p = c.all([
    url('/echo', run, { latency: 3000 }),
    { input: url('/status/500', run, { latency: 30 }), init: { retry: 0 } },
    url('/bytes/2', run),
    url('/bytes/3', run),
    url('/bytes/4', run),
  ]);
  await assertRejects(p, isKind('http', { status: 500 }));
  const took = performance.now() - t0;
  assert(took < 1500, `rejected after ${Math.round(took)} ms, long before the 3000 ms sibling`);
  await c.onIdle();
  assert(performance.now() - t0 < 2000, 'the slow in-flight sibling was aborted too (the client went idle early)');
  const s = await stats(run);
  for (const n of [2, 3, 4]) assertEqual(s.hits[`/bytes/${n}`] ?? 0, 0, `hits on queued sibling /bytes/${n}`);
  assertEqual(s.hits['/status/500'], 1);
});

test('all: abortOnFailure false keeps the siblings going; they reach the server', async () => {
  const run = runId('all-keep');
  const c = await client({ concurrency: 2, retry: 0 });
  const p = c.all(
    [url('/echo', run, { latency: 200 }), url('/status/500', run), url('/bytes/2', run), url('/bytes/3', run)],
    { abortOnFailure: false },
  );
  await assertRejects(p, isKind('http', { status: 500 }));
  const s = await statsWhen(run, (x) => x.total === 4 && x.inFlight === 0, 4000);
  assertEqual(s.hits['/echo'], 1);
  assertEqual(s.hits['/bytes/2'], 1);
  assertEqual(s.hits['/bytes/3'], 1);
  await c.onIdle();
});

test('allSettled: input order, never rejects, and onProgress counts up with failures', async () => {
  const run = runId('all-settled');
  const c = await client({ concurrency: 4, retry: 0 });
  const progress = [];
  const out = await c.allSettled(
    [
      url('/echo', run, { latency: 150, i: 0 }),
      url('/status/404', run, { latency: 10 }),
      url('/echo', run, { latency: 60, i: 2 }),
      url('/bad-json', run),
    ],
    { onProgress: (p) => progress.push({ ...p }) },
  );
  assertEqual(out.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected']);
  assertEqual(new URLSearchParams(out[0].value.query).get('i'), '0');
  assertEqual(new URLSearchParams(out[2].value.query).get('i'), '2');
  isKind('http', { status: 404 })(out[1].reason);
  isKind('decode')(out[3].reason);
  assert(!('reason' in out[0]) && !('value' in out[1]), 'the shape of Promise.allSettled');
  assertEqual(progress.length, 4, 'onProgress calls');
  assertEqual(progress.map((p) => p.done), [1, 2, 3, 4], 'done');
  assert(progress.every((p) => p.total === 4), 'total');
  assertEqual(progress[3].failed, 2, 'failed at the end');
  // failed never goes down and never exceeds done
  for (let i = 0; i < 4; i++) assert(progress[i].failed <= progress[i].done && (i === 0 || progress[i].failed >= progress[i - 1].failed), 'failed is monotonic');
});

test("allSettled and all: as 'text', as 'response', and RequestLike { input, init }", async () => {
  const run = runId('group-as');
  const c = await client();
  const texts = await c.all([url('/not-json', run), url('/echo', run, { t: 1 })], { as: 'text' });
  assertEqual(typeof texts[0], 'string');
  assertEqual(texts[0], '<html>hello</html>');
  assert(texts[1].startsWith('{'), 'raw JSON text');
  const responses = await c.allSettled([url('/status/201', run), url('/bytes/5', run)], { as: 'response' });
  assert(responses[0].value instanceof Response, 'a Response');
  assertEqual(responses[0].value.status, 201);
  assertEqual((await responses[1].value.arrayBuffer()).byteLength, 5);
  const [posted, got] = await c.all([
    { input: url('/echo', run, { p: 1 }), init: { method: 'POST', body: 'payload', headers: { 'x-fetchlane-test': 'yes' } } },
    { input: new URL(url('/echo', run, { p: 2 }), location.href) },
  ]);
  assertEqual(posted.method, 'POST');
  assertEqual(posted.body, 'payload');
  assertEqual(posted.headers['x-fetchlane-test'], 'yes');
  assertEqual(got.method, 'GET');
});

test('all: an empty list resolves to []', async () => {
  const c = await client();
  assertEqual(await c.all([]), []);
  assertEqual(await c.allSettled([]), []);
});
