// on(type, fn), onEvent, and stats().
import { assert, assertEqual, assertRejects, assertThrows, quietRejections, runId, sleep, test } from './harness.js';
import { client, isError, url } from './lib.js';

test("events: queued, start and settled fire with url, id and lane", async () => {
  const run = runId('events');
  const c = await client();
  const seen = [];
  for (const type of ['queued', 'start', 'settled']) c.on(type, (e) => seen.push({ type, ...e }));
  const target = url('/echo', run, { latency: 20 });
  await c.fetch(target, { lane: 'critical' });
  await sleep(0);
  assertEqual(seen.map((e) => e.type), ['queued', 'start', 'settled'], 'event order');
  const ids = new Set(seen.map((e) => e.id));
  assertEqual(ids.size, 1, 'one id for the request');
  for (const e of seen) {
    assert(typeof e.id === 'number', 'id is a number');
    assert(typeof e.url === 'string' && e.url.includes('/echo') && e.url.includes(run), `url: ${e.url}`);
    assertEqual(e.lane, 'critical', `lane of ${e.type}`);
  }
  // a second request gets another id, default lane normal
  seen.length = 0;
  await c.fetch(url('/status/200', run));
  await sleep(0);
  assertEqual(seen.length, 3);
  assert(!ids.has(seen[0].id), 'a new id');
  assertEqual(seen[0].lane, 'normal');
});

test('events: the function returned by on() unsubscribes', async () => {
  const run = runId('events-off');
  const c = await client();
  let calls = 0;
  const off = c.on('settled', () => calls++);
  assertEqual(typeof off, 'function');
  await c.fetch(url('/status/200', run, { n: 1 }));
  await sleep(0);
  assertEqual(calls, 1);
  off();
  off(); // twice is harmless
  await c.fetch(url('/status/200', run, { n: 2 }));
  await sleep(0);
  assertEqual(calls, 1, 'no calls after unsubscribing');
});

test('events: the onEvent option gets every event', async () => {
  const run = runId('events-all');
  const types = [];
  const c = await client({ onEvent: (e) => types.push(e.type), retry: { backoffMs: 5 } });
  await c.fetch(url('/flaky/ev', run, { fails: 1 }));
  await sleep(0);
  for (const t of ['queued', 'start', 'retry', 'settled']) assert(types.includes(t), `saw ${t} in ${types}`);
});

test("events: on('bogus') and a non-function listener throw TypeErrors", async () => {
  const c = await client();
  assertThrows(() => c.on('bogus', () => {}), isError(TypeError, 'bogus'));
  assertThrows(() => c.on('settled', 42), (e) => assert(e instanceof TypeError, `got ${e && e.name}`));
});

test('stats: every counter is there; started, succeeded, failed count right', async () => {
  const run = runId('stats');
  const c = await client({ retry: 0 });
  const s0 = c.stats();
  for (const key of ['started', 'succeeded', 'failed', 'retried', 'deduped', 'batched', 'cacheMisses', 'rateLimited', 'bytes']) {
    assertEqual(typeof s0[key], 'number', key);
  }
  assertEqual(typeof s0.cacheHits, 'object', 'cacheHits');
  assertEqual(typeof s0.cacheHits.memory, 'number', 'cacheHits.memory');
  assertEqual(typeof s0.cacheHits.persistent, 'number', 'cacheHits.persistent');
  assertEqual([s0.started, s0.succeeded, s0.failed], [0, 0, 0], 'fresh');
  await c.fetch(url('/status/200', run));
  await c.json(url('/echo', run));
  await assertRejects(c.fetch(url('/status/404', run)));
  await assertRejects(c.fetch(url('/status/503', run)));
  const s = c.stats();
  assertEqual([s.started, s.succeeded, s.failed, s.retried], [4, 2, 2, 0], 'started, succeeded, failed, retried');
  assert(s.bytes > 0, 'bytes counted');
  assert(s !== c.stats(), 'a snapshot each call');
});

test('events: a listener that throws does not break the request', async () => {
  const run = runId('events-throw');
  const c = await client();
  const loud = quietRejections();
  try {
    c.on('start', () => {
      throw new Error('listener boom');
    });
    const r = await c.fetch(url('/status/200', run));
    assertEqual(r.status, 200);
    await sleep(10);
  } finally {
    loud();
  }
});

test('events: settled carries the error kind of a failed request', async () => {
  const run = runId('events-settled-error');
  const c = await client({ retry: 0 });
  const settled = [];
  c.on('settled', (e) => settled.push(e));
  await assertRejects(c.fetch(url('/status/404', run)));
  await sleep(0);
  assertEqual(settled.length, 1);
  assertEqual(settled[0].error, 'http');
});

test('events: a settled answer carries its attempts and last status, for json() and through the cache too', async () => {
  const run = runId('settled-status');
  const c = await client({ cache: { strategy: 'cache-first', ttlMs: 60000 } });
  const settled = [];
  c.on('settled', (e) => settled.push(e));
  await c.json(url('/echo', run, { n: 1 }));
  await Promise.all([c.json(url('/echo', run, { n: 2, latency: 30 })), c.text(url('/echo', run, { n: 2, latency: 30 }))]);
  await c.json(url('/echo', run, { n: 1 }));
  assertEqual(
    settled.map((e) => [e.source, e.attempt, e.status]),
    [['network', 1, 200], ['network', 1, 200], ['dedupe', 1, 200], ['memory', 0, undefined]],
    'source, attempt and status of each',
  );
});

test('events: a json() answer read from the live Response (no cache) settles later, and its event still names it', async () => {
  const run = runId('settled-url');
  const c = await client();
  const settled = [];
  c.on('settled', (e) => settled.push(e));
  const target = url('/echo', run);
  await c.json(target, { lane: 'critical' });
  assertEqual(settled.map((e) => [e.url, e.method, e.lane]), [[new URL(target, location.href).href, 'GET', 'critical']]);
});

test('stats: bytes counts answers without Content-Length, read by json() or through the cache', async () => {
  const run = runId('bytes-chunked');
  const c = await client({});
  const items = await c.json(url('/chunked', run, { items: 200 }));
  const size = new TextEncoder().encode(JSON.stringify(items)).length;
  assertEqual(c.stats().bytes, size, 'a live answer decoded by json()');
  const cached = await client({ cache: { strategy: 'cache-first' } });
  const text = await cached.text(url('/chunked', run, { items: 50 }));
  assertEqual(cached.stats().bytes, new TextEncoder().encode(text).length, 'a body read for the cache');
});

test('events: a request aborted in flight reports one attempt, with dedupe on or off', async () => {
  const run = runId('abort-attempts');
  for (const dedupe of [true, false]) {
    const c = await client({ dedupe });
    const settled = [];
    c.on('settled', (e) => settled.push(e));
    const controller = new AbortController();
    const pending = c.fetch(url('/hang', run, { dedupe }), { signal: controller.signal });
    await sleep(50);
    controller.abort();
    const error = await assertRejects(pending);
    assertEqual([error.kind, error.attempts], ['abort', 1], `the error, dedupe ${dedupe}`);
    assertEqual([settled[0].error, settled[0].attempt], ['abort', 1], `the settled event, dedupe ${dedupe}`);
  }
});
