// Observability: User Timing measures (`timing`), the `settled` event's `timing`, Resource
// Timing and Server-Timing, `traceparent` (`propagate`), and `stats()` percentiles.
import { assert, assertEqual, assertRejects, runId, sleep, stats, test } from './harness.js';
import { client, isError, origin, other, url } from './lib.js';

/** The measures named `name` whose `url` property contains `run`. */
function measures(name, run) {
  return performance
    .getEntriesByName(name, 'measure')
    .filter((m) => m.detail?.devtools?.properties?.some(([k, v]) => k === 'url' && v.includes(run)));
}

/** The value of property `key` of a measure. */
const prop = (m, key) => m.detail.devtools.properties.find(([k]) => k === key)?.[1];

/** Listens for `settled` events; `byUrl(part)` finds one. */
function settledEvents(c) {
  const seen = [];
  c.on('settled', (e) => seen.push(e));
  return { seen, byUrl: (part) => seen.filter((e) => e.url.includes(part)) };
}

const TRACEPARENT = /^00-([\da-f]{32})-([\da-f]{16})-01$/;

test('timing: a request held 200 ms by the limiter has a queue measure of 200 ± 10 ms, and its network measure starts where it ends', async () => {
  const run = runId('timing-queue');
  // When the transport was called for each URL: the hold as it really was (a browser may fire
  // the limiter's timer late under load), to hold the measure to.
  const sent = new Map();
  const fetch = (request) => (sent.set(request.url, performance.now()), globalThis.fetch(request));
  const c = await client({ timing: true, rateLimits: [{ limit: 1, intervalMs: 200 }], fetch });
  const called = performance.now();
  const held = url('/echo', run, { n: 2 });
  await Promise.all([c.json(url('/echo', run, { n: 1 })), c.json(held)]);
  const [queue] = measures('fetchlane:queue', 'n=2');
  assert(queue !== undefined, 'a queue measure for the held request');
  const hold = sent.get(new URL(held, location.href).href) - called;
  assert(hold >= 199, `the limiter held it ${hold} ms`);
  // 200 ± 10 ms where the timer fires on time; the hold itself where it fires late.
  assert(Math.abs(queue.duration - hold) <= 10, `queue measure ${queue.duration} ms, held ${hold} ms`);
  assertEqual(queue.detail.devtools.dataType, 'track-entry');
  assertEqual(queue.detail.devtools.track, 'fetchlane');
  assertEqual(prop(queue, 'lane'), 'normal');
  const network = measures('fetchlane:network', run).filter((m) => prop(m, 'url').includes('n=2'));
  assertEqual(network.length, 1, 'one network measure');
  assertEqual(network[0].startTime, queue.startTime + queue.duration, 'network starts where the queue ends');
  assertEqual(prop(network[0], 'status'), '200');
  assertEqual(prop(network[0], 'attempt'), '1');
  assertEqual(prop(network[0], 'lane'), 'normal');
});

test('timing: a retried request has a retry-wait measure between its two network measures, on the track it names', async () => {
  const run = runId('timing-retry');
  const c = await client({ timing: { track: 'api' }, retry: { backoffMs: 60, jitter: false } });
  await c.text(url('/flaky/tr', run, { fails: 1 }));
  const network = measures('fetchlane:network', run);
  assertEqual(network.map((m) => [prop(m, 'attempt'), prop(m, 'status')]), [['1', '503'], ['2', '200']]);
  const [wait] = measures('fetchlane:retry-wait', run);
  assert(wait !== undefined, 'a retry-wait measure');
  assertEqual(wait.detail.devtools.track, 'api');
  assertEqual(wait.startTime, network[0].startTime + network[0].duration, 'the wait starts where attempt 1 ended');
  assertEqual(network[1].startTime, wait.startTime + wait.duration, 'attempt 2 starts where the wait ends');
  assert(wait.duration >= 55, `retry wait ${wait.duration} ms`);
});

test('timing: off (the default), requests add no measure at all', async () => {
  const run = runId('timing-off');
  const before = performance.getEntriesByType('measure').length;
  const c = await client({ retry: { backoffMs: 5 }, rateLimits: [{ limit: 1, intervalMs: 30 }] });
  await Promise.all([c.text(url('/flaky/off', run, { fails: 1 })), c.json(url('/echo', run)), c.json(url('/echo', run))]);
  assertEqual(performance.getEntriesByType('measure').length, before);
});

test('timing: the settled event splits queue, retry wait and network; a dedupe join shares the network time; a memory hit has no network fields', async () => {
  const run = runId('timing-settled');
  const c = await client({ concurrency: 1, retry: { backoffMs: 50, jitter: false }, cache: { strategy: 'cache-first', ttlMs: 60000 } });
  const ev = settledEvents(c);
  const slow = url('/echo', run, { latency: 100, k: 'slow' });
  const flaky = url('/flaky/ts', run, { fails: 1 });
  await Promise.all([c.json(slow), c.json(flaky), c.json(slow)]);
  await c.json(slow);
  await sleep(0);
  const [first, joined, hit] = ev.byUrl('k=slow');
  assertEqual([first.timing.source, joined.timing.source, hit.timing.source], ['network', 'dedupe', 'memory']);
  assertEqual(first.timing.attempts, 1);
  assert(first.timing.networkMs >= 100 && first.timing.networkMs < first.timing.totalMs + 1, `network ${first.timing.networkMs}`);
  assertEqual(first.timing.retryWaitMs, 0);
  assert(first.timing.queuedMs < 10, `queued ${first.timing.queuedMs}`);
  assert(first.timing.bytes > 0, `bytes ${first.timing.bytes}`);
  assertEqual(joined.timing.networkMs, first.timing.networkMs, 'the join reports the shared network time');
  for (const k of ['queuedMs', 'retryWaitMs', 'networkMs', 'bytes', 'resource', 'serverTiming']) assert(!(k in hit.timing), `a memory hit has no ${k}`);
  assert(hit.timing.totalMs >= 0 && hit.timing.totalMs === hit.durationMs, 'totalMs');
  const [retried] = ev.byUrl('/flaky/ts');
  assertEqual(retried.timing.attempts, 2);
  assert(retried.timing.queuedMs >= 95, `the flaky call waited for the slow one: ${retried.timing.queuedMs}`);
  assert(retried.timing.retryWaitMs >= 45, `retry wait ${retried.timing.retryWaitMs}`);
  const { queuedMs, retryWaitMs, networkMs, totalMs } = retried.timing;
  assert(queuedMs + retryWaitMs + networkMs <= totalMs + 1, `the parts ${queuedMs}+${retryWaitMs}+${networkMs} fit in ${totalMs}`);
});

test('timing: a request aborted in the queue reports its whole wait as queue time', async () => {
  const run = runId('timing-abort');
  const c = await client({ concurrency: 1 });
  const ev = settledEvents(c);
  const controller = new AbortController();
  const busy = c.text(url('/echo', run, { latency: 150 }));
  const held = c.text(url('/echo', run, { k: 'held' }), { signal: controller.signal });
  await sleep(60);
  controller.abort();
  await assertRejects(held);
  await busy;
  const [e] = ev.byUrl('k=held');
  assertEqual(e.error, 'abort');
  assert(e.timing.queuedMs >= 55 && !('networkMs' in e.timing), JSON.stringify(e.timing));
});

test('timing: serverTiming is parsed from the Server-Timing header', async () => {
  const run = runId('timing-st');
  const c = await client();
  const ev = settledEvents(c);
  await c.json(url('/echo', run, { latency: 30, serverTiming: 1 }));
  await sleep(0);
  const st = ev.seen[0].timing.serverTiming;
  assertEqual(st.map((m) => [m.name, m.description]), [['wait', 'latency param'], ['app', '']]);
  assert(st[0].duration >= 30, `wait ${st[0].duration}`);
});

test('timing: at least 95 of 100 concurrent requests get their Resource Timing entry', async () => {
  const run = runId('timing-resource');
  performance.clearResourceTimings();
  performance.setResourceTimingBufferSize(1000);
  const c = await client();
  const ev = settledEvents(c);
  await Promise.all(Array.from({ length: 100 }, (_, i) => c.json(url('/echo', run, { i, latency: 10 }), { dedupe: false })));
  await sleep(50);
  let matched = 0;
  for (const e of ev.seen) {
    const r = e.timing.resource;
    if (r !== undefined && r.name === e.url && r.responseEnd >= r.startTime && r.transferSize >= 0) matched++;
  }
  assert(matched >= 95, `${matched} of 100 matched`);
}, { needs: ['document'] });

test('propagate: traceparent goes to the listed origin only, a new span per attempt and one trace, and no preflight elsewhere', async () => {
  const run = runId('trace');
  const c = await client({ propagate: [origin], retry: { backoffMs: 5 } });
  await c.text(url('/flaky/tp', run, { fails: 1 }, origin));
  await c.text(url('/echo', run, { k: 'other' }, other));
  const s = await stats(run);
  const sent = s.arrivals.filter((a) => a.path === '/flaky/tp').map((a) => TRACEPARENT.exec(a.headers.traceparent ?? ''));
  assertEqual(sent.length, 2);
  assert(sent[0] && sent[1], `traceparent headers: ${JSON.stringify(s.arrivals.map((a) => a.headers.traceparent))}`);
  assertEqual(sent[0][1], sent[1][1], 'one trace id');
  assert(sent[0][2] !== sent[1][2], 'a new span id per attempt');
  const elsewhere = s.arrivals.find((a) => a.path === '/echo');
  assertEqual(elsewhere.headers.traceparent, undefined, 'not sent to an origin not listed');
  assertEqual(s.preflights, 0, 'no preflight');
});

test('propagate: the parent comes from LaneInit.traceparent, else options.traceparent(); the settled timing names the trace', async () => {
  const run = runId('trace-parent');
  const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  let asked = 0;
  const c = await client({ propagate: [/^http:\/\/127\.0\.0\.1:\d+$/, origin], traceparent: () => (asked++, '00-11111111111111111111111111111111-2222222222222222-00') });
  const ev = settledEvents(c);
  await c.text(url('/echo', run, { k: 'lane' }), { traceparent: parent });
  await c.text(url('/echo', run, { k: 'option' }));
  await sleep(0);
  const s = await stats(run);
  const header = (k) => s.arrivals.find((a) => a.query.includes(`k=${k}`)).headers.traceparent;
  assertEqual(TRACEPARENT.exec(header('lane'))?.[1], '0af7651916cd43dd8448eb211c80319c');
  assert(!header('lane').includes('b7ad6b7169203331'), 'a span of its own, not the parent');
  assert(/^00-1{32}-[\da-f]{16}-00$/.test(header('option')), `the option's trace and flags: ${header('option')}`);
  assertEqual(asked, 1, 'traceparent() asked once, for the call without its own');
  assertEqual(ev.byUrl('k=lane')[0].timing.traceId, '0af7651916cd43dd8448eb211c80319c');
});

test('propagate: bad values are TypeErrors that name the option', async () => {
  await assertRejects(client({ propagate: ['not a url'] }), isError(TypeError, 'propagate[0]'));
  await assertRejects(client({ propagate: origin }), isError(TypeError, 'propagate'));
  await assertRejects(client({ timing: 'yes' }), isError(TypeError, 'timing'));
  await assertRejects(client({ timing: { track: 3 } }), isError(TypeError, 'timing.track'));
  const c = await client({ propagate: [origin], traceparent: () => 'nonsense' });
  await assertRejects(c.text(url('/echo', runId('trace-bad'))), isError(TypeError, 'traceparent'));
  await assertRejects(c.text(url('/echo', runId('trace-bad')), { traceparent: '00-0-0-01' }), isError(TypeError, 'traceparent'));
});

test('stats: latency and queueWait percentiles, overall and per host; memory hits are not in them', async () => {
  const run = runId('percentiles');
  const c = await client({ concurrency: 2, cache: { strategy: 'cache-first', ttlMs: 60000 } });
  const empty = c.stats();
  assertEqual(empty.latency.count, 0);
  assert(Number.isNaN(empty.latency.p50), 'no samples: NaN');
  await Promise.all(Array.from({ length: 8 }, (_, i) => c.json(url('/echo', run, { i, latency: 40 }))));
  await c.json(url('/echo', run, { i: 0, latency: 40 }));
  const s = c.stats();
  assertEqual(s.latency.count, 8, 'eight network answers, the memory hit aside');
  assertEqual(s.queueWait.count, 8);
  assert(s.latency.p50 >= 40 && s.latency.p50 <= s.latency.p95 && s.latency.p95 <= s.latency.p99, JSON.stringify(s.latency));
  // Two at a time: the last pair waited for three pairs before it.
  assert(s.queueWait.p99 >= 100, JSON.stringify(s.queueWait));
  assertEqual(s.queueWait.p50 <= s.queueWait.p99, true);
  const host = s.hosts[location.host];
  assertEqual(host.latency, s.latency, 'one host: the same as overall');
  assertEqual(host.queueWait, s.queueWait);
});
