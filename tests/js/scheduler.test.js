// Concurrency limits, per-host limits, lanes, cancellation and live scheduler state, checked
// against what the server saw.
import { assert, assertEqual, assertRejects, assertThrows, runId, sleep, stats, statsWhen, test } from './harness.js';
import { client, isError, isKind, origin, other, tracker, url } from './lib.js';

test("scheduler: the server's peak for a run never exceeds concurrency (and reaches it)", async () => {
  const run = runId('peak');
  const c = await client({ concurrency: 4 });
  const all = [];
  for (let i = 0; i < 24; i++) all.push(c.fetch(url('/echo', run, { latency: 60, i })));
  const responses = await Promise.all(all);
  assert(responses.every((r) => r.status === 200), 'every response is a 200');
  const s = await stats(run);
  assertEqual(s.hits['/echo'], 24, 'server hits');
  assertEqual(s.peak, 4, 'server peak');
});

test('scheduler: perHost 2 holds each host to 2, and a full host does not hold up the other', async () => {
  const run = runId('per-host');
  const c = await client({ perHost: 2, concurrency: 10 });
  const all = [];
  // Every request to the first host is queued before any to the second.
  for (let i = 0; i < 8; i++) all.push(c.fetch(url('/echo', run, { latency: 80, i }, origin)));
  for (let i = 0; i < 8; i++) all.push(c.fetch(url('/echo', run, { latency: 80, i }, other)));
  await Promise.all(all);
  const s = await stats(run);
  const port = location.port;
  assertEqual(s.hits['/echo'], 16, 'server hits');
  assertEqual(s.peakByHost[`127.0.0.1:${port}`], 2, 'peak on 127.0.0.1');
  assertEqual(s.peakByHost[`localhost:${port}`], 2, 'peak on localhost');
  assertEqual(s.peak, 4, 'overall peak');
});

test('cancel: a request aborted while queued never reaches the server', async () => {
  const run = runId('abort-queued');
  const c = await client({ concurrency: 1 });
  const first = c.fetch(url('/echo', run, { latency: 300 }));
  const controller = new AbortController();
  const second = c.fetch(url('/status/200', run), { signal: controller.signal });
  await sleep(50);
  controller.abort();
  const t0 = performance.now();
  await assertRejects(second, isKind('abort'));
  assert(performance.now() - t0 < 300, 'the queued request rejects as soon as it is aborted');
  assertEqual((await first).status, 200);
  await sleep(50);
  const s = await stats(run);
  assertEqual(s.hits['/status/200'] ?? 0, 0, 'hits on the aborted path');
  assertEqual(s.hits['/echo'], 1);
});

test("cancel: abort('why') with a non-Error reason rejects with kind abort and cause 'why'", async () => {
  const run = runId('abort-reason');
  const c = await client({ concurrency: 1 });
  const first = c.fetch(url('/echo', run, { latency: 200 }));
  const queued = new AbortController();
  const second = c.fetch(url('/status/200', run), { signal: queued.signal });
  queued.abort('why');
  await assertRejects(second, (e) => {
    isKind('abort')(e);
    assertEqual(e.cause, 'why', 'cause');
  });
  // The same for a request that is already running.
  const running = new AbortController();
  const third = c.fetch(url('/echo', run, { latency: 2000, n: 3 }), { signal: running.signal });
  await first;
  await sleep(100);
  running.abort('because');
  await assertRejects(third, (e) => {
    isKind('abort')(e);
    assertEqual(e.cause, 'because', 'cause of a running request');
  });
  const s = await stats(run);
  assertEqual(s.hits['/status/200'] ?? 0, 0, 'hits on the request aborted while queued');
});

test('cancel: a request whose signal is already aborted rejects at once and is never sent', async () => {
  const run = runId('pre-aborted');
  const c = await client();
  const pre = new AbortController();
  pre.abort('early');
  await assertRejects(c.fetch(url('/status/201', run), { signal: pre.signal }), isKind('abort', { cause: 'early' }));
  await assertRejects(c.json(url('/echo', run), { signal: pre.signal }), isKind('abort'));
  await sleep(100);
  const s = await stats(run);
  assertEqual(s.total, 0, `requests the server saw (${Object.keys(s.hits)})`);
});

test('cancel: aborting a running request rejects quickly with kind abort', async () => {
  const run = runId('abort-running');
  const c = await client();
  const controller = new AbortController();
  const p = c.fetch(url('/echo', run, { latency: 2000 }), { signal: controller.signal });
  await statsWhen(run, (s) => s.total === 1);
  await sleep(100);
  const t0 = performance.now();
  controller.abort();
  await assertRejects(p, isKind('abort'));
  const took = performance.now() - t0;
  assert(took < 700, `rejected ${Math.round(took)} ms after the abort`);
  assertEqual(c.activeCount, 0, 'the slot is free again');
});

test('lanes: queued critical work starts before normal, background last', async () => {
  const run = runId('lanes');
  const c = await client({ concurrency: 1 });
  const first = c.fetch(url('/echo', run, { latency: 200 }));
  const bg = c.fetch(url('/bytes/1', run), { lane: 'background' });
  const normal = c.fetch(url('/bytes/2', run), { lane: 'normal' });
  const critical = c.fetch(url('/bytes/3', run), { lane: 'critical' });
  await Promise.all([first, bg, normal, critical]);
  const s = await stats(run);
  assertEqual(s.arrivals.map((a) => a.path), ['/echo', '/bytes/3', '/bytes/2', '/bytes/1'], 'server arrival order');
});

test('live concurrency: raising it starts queued work at once; 0 throws; Infinity works', async () => {
  const run = runId('live-concurrency');
  const c = await client({ concurrency: 1 });
  const all = [];
  for (let i = 0; i < 6; i++) all.push(c.fetch(url('/echo', run, { latency: 150, i })));
  c.concurrency = 3;
  assertEqual(c.concurrency, 3, 'getter');
  await Promise.all(all);
  const s = await stats(run);
  assertEqual(s.peak, 3, 'server peak after raising the limit');
  assertThrows(() => {
    c.concurrency = 0;
  }, isError(RangeError, 'concurrency'));
  assertThrows(() => {
    c.concurrency = 'x';
  }, isError(TypeError, 'concurrency'));
  assertEqual(c.concurrency, 3, 'a refused value leaves the limit alone');
  c.concurrency = Infinity;
  assertEqual(c.concurrency, Infinity);
  const more = [];
  for (let i = 0; i < 5; i++) more.push(c.fetch(url('/status/200', run, { latency: 150, i })));
  await Promise.all(more);
  const s2 = await stats(run);
  assert(s2.peak >= 5, `with Infinity all 5 run together (peak ${s2.peak})`);
});

test('queue: activeCount/pendingCount are right synchronously; clearQueue rejects queued work, which never reaches the server', async () => {
  const run = runId('clear-queue');
  const c = await client({ concurrency: 1 });
  assertEqual([c.activeCount, c.pendingCount], [0, 0], 'idle');
  const first = c.fetch(url('/echo', run, { latency: 250 }));
  assertEqual([c.activeCount, c.pendingCount], [1, 0], 'after the first call');
  const queued = [1, 2, 3].map((n) => c.fetch(url(`/bytes/${n}`, run)));
  assertEqual([c.activeCount, c.pendingCount], [1, 3], 'after three more calls');
  c.clearQueue();
  assertEqual([c.activeCount, c.pendingCount], [1, 0], 'after clearQueue');
  for (const p of queued) await assertRejects(p, isKind('abort'));
  assertEqual((await first).status, 200, 'the running request is untouched');
  await c.onIdle();
  assertEqual([c.activeCount, c.pendingCount], [0, 0], 'idle again');
  const s = await stats(run);
  assertEqual(Object.keys(s.hits), ['/echo'], 'only the running request reached the server');
});

test('queue: onIdle resolves only after everything settles', async () => {
  const run = runId('on-idle');
  const c = await client({ concurrency: 2 });
  await c.onIdle(); // idle at once when there is nothing to do
  const t = tracker();
  for (let i = 0; i < 5; i++) t.track(i, c.fetch(url('/echo', run, { latency: 40 * (i + 1), i })));
  t.track('task', c.schedule(() => sleep(120).then(() => 'done')));
  await c.onIdle();
  await sleep(0); // let the trackers' own callbacks run
  assert(t.allSettled(), 'every request and task had settled when onIdle resolved');
  assertEqual([c.activeCount, c.pendingCount], [0, 0]);
  const s = await stats(run);
  assertEqual(s.hits['/echo'], 5);
});

test('queue: onIdle waits for json() and text() answers to be decoded, and stats count them', async () => {
  const run = runId('on-idle-decode');
  const c = await client({});
  const t = tracker();
  // The slot is free once the body is read; decoding it comes after (Response.json is async).
  t.track('json', c.json(url('/echo', run)));
  t.track('text', c.text(url('/echo', run, { latency: 20 })));
  await c.onIdle();
  await sleep(0);
  assert(t.allSettled(), 'both calls had settled when onIdle resolved');
  assertEqual(c.stats().succeeded, 2, 'stats().succeeded');
});

test('live concurrency: lowering it lets running work finish, then runs one at a time', async () => {
  const run = runId('lower-concurrency');
  const c = await client({ concurrency: 3 });
  const all = [];
  for (let i = 0; i < 6; i++) all.push(c.fetch(url('/echo', run, { latency: 100, i })));
  c.concurrency = 1;
  assertEqual(c.activeCount, 3, 'the running ones keep their slots');
  const responses = await Promise.all(all);
  const end = new Map(responses.map((r, i) => [String(i), Number(r.headers.get('x-served-at'))]));
  const s = await stats(run);
  const arrivals = s.arrivals.map((a) => ({ i: new URLSearchParams(a.query).get('i'), t: a.t })).sort((a, b) => a.t - b.t);
  for (let k = 3; k < arrivals.length; k++) {
    const before = Math.max(...arrivals.slice(0, k).map((a) => end.get(a.i)));
    assert(arrivals[k].t >= before, `request ${arrivals[k].i} arrived at ${arrivals[k].t.toFixed(1)} while an earlier one ran until ${before.toFixed(1)}`);
  }
});

test('lanes: schedule tasks and requests share the lanes', async () => {
  const run = runId('lanes-tasks');
  const c = await client({ concurrency: 1 });
  const order = [];
  c.on('start', (e) => {
    if (e.url.includes('/bytes/2')) order.push('normal request');
  });
  const first = c.fetch(url('/echo', run, { latency: 150 }));
  const normal = c.fetch(url('/bytes/2', run));
  const task = c.schedule(() => order.push('critical task'), { lane: 'critical' });
  const bg = c.schedule(() => order.push('background task'), { lane: 'background' });
  await Promise.all([first, normal, task, bg]);
  assertEqual(order, ['critical task', 'normal request', 'background task']);
});

test('queue: clearQueue rejects queued members of an all group', async () => {
  const run = runId('clear-all');
  const c = await client({ concurrency: 1 });
  const first = c.fetch(url('/echo', run, { latency: 150 }));
  const group = c.all([url('/bytes/1', run), url('/bytes/2', run)]);
  c.clearQueue();
  await assertRejects(group, isKind('abort'));
  await first;
  const s = await stats(run);
  assertEqual(s.total, 1);
});
