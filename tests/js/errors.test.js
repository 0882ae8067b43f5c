// Every rejection is a FetchlaneError with kind, url, attempts (and status, cause).
import { assert, assertEqual, assertRejects, runId, stats, test } from './harness.js';
import { client, FetchlaneError, isFetchlaneError, isKind, url } from './lib.js';

test('errors: a 404 rejects with kind http, status 404, after exactly 1 attempt', async () => {
  const run = runId('err-404');
  const c = await client();
  const e = await assertRejects(c.fetch(url('/status/404', run)), isKind('http', { status: 404, attempts: 1 }));
  assert(e instanceof Error, 'an Error subclass');
  assertEqual(e.name, 'FetchlaneError');
  assert(typeof e.url === 'string' && e.url.includes('/status/404'), `url: ${e.url}`);
  assert(typeof e.message === 'string' && e.message.length > 0, 'has a message');
  const s = await stats(run);
  assertEqual(s.hits['/status/404'], 1, '404 is not retried');
});

test("errors: a body that is not JSON rejects json() with kind decode", async () => {
  const run = runId('err-decode');
  const c = await client();
  const e = await assertRejects(c.json(url('/bad-json', run)), isKind('decode'));
  assert(e.url.includes('/bad-json'), 'url');
  assertEqual(e.attempts, 1);
  await assertRejects(c.json(url('/not-json', run)), isKind('decode'));
  // text() of the same body is fine
  assertEqual(await c.text(url('/bad-json', run)), '{"oops": ');
});

test('errors: a body that does not decode counts as failed, and its settled event says decode', async () => {
  const run = runId('err-decode-stats');
  const c = await client({ cache: { strategy: 'cache-first' } });
  const settled = [];
  c.on('settled', (e) => settled.push(e));
  // Once through the network (a live response), once from the memory cache (a stored body).
  await assertRejects(c.json(url('/bad-json', run)), isKind('decode'));
  await assertRejects(c.json(url('/bad-json', run)), isKind('decode'));
  assertEqual(await c.text(url('/bad-json', run)), '{"oops": ');
  const s = c.stats();
  assertEqual([s.succeeded, s.failed], [1, 2], 'stats: succeeded, failed');
  assertEqual(settled.map((e) => e.error ?? 'ok'), ['decode', 'decode', 'ok'], 'settled events');
});

test('errors: a network failure rejects with kind network and a cause', async () => {
  const c = await client({ retry: { limit: 1, backoffMs: 10 } });
  const e = await assertRejects(c.fetch('http://127.0.0.1:9/'), isKind('network'));
  assert(e.cause !== undefined, 'has a cause');
  assertEqual(e.attempts, 2, 'attempts (network errors are retried)');
  assert(e.url.startsWith('http://127.0.0.1:9/'), `url: ${e.url}`);
});

test('errors: timeoutMs 200 on a hanging request rejects with kind timeout', async () => {
  const run = runId('err-timeout');
  const c = await client({ timeoutMs: 200, retry: 0 });
  const t0 = performance.now();
  const e = await assertRejects(c.fetch(url('/hang', run)), isKind('timeout'));
  const took = performance.now() - t0;
  assert(took >= 150 && took < 1000, `took ${Math.round(took)} ms`);
  assertEqual(e.attempts, 1);
  // per request, too
  const d = await client({ retry: 0 });
  await assertRejects(d.fetch(url('/hang', run, { n: 2 }), { timeoutMs: 150 }), isKind('timeout'));
});

test('errors: isFetchlaneError is a type guard', async () => {
  assert(!isFetchlaneError(new Error('x')), 'a plain Error');
  assert(!isFetchlaneError(null) && !isFetchlaneError(undefined) && !isFetchlaneError({ kind: 'http' }), 'non-errors');
  assert(Object.getPrototypeOf(FetchlaneError.prototype) === Error.prototype, 'extends Error');
});

test('errors: every kind of rejection from one client is a FetchlaneError', async () => {
  const run = runId('err-every');
  const c = await client({ retry: 0, timeoutMs: 150, concurrency: 1 });
  const controller = new AbortController();
  const pending = [
    c.fetch(url('/status/500', run)),
    c.json(url('/bad-json', run)),
    c.fetch(url('/hang', run)),
    c.fetch(url('/echo', run), { signal: controller.signal }),
    c.fetch('http://127.0.0.1:9/'),
  ];
  controller.abort(); // the fourth is still queued behind the others
  const outcomes = await Promise.allSettled(pending);
  const kinds = [];
  for (const o of outcomes) {
    assertEqual(o.status, 'rejected');
    assert(o.reason instanceof FetchlaneError, `a FetchlaneError, got ${o.reason && o.reason.name}`);
    assert(typeof o.reason.attempts === 'number' && typeof o.reason.url === 'string', 'url and attempts');
    kinds.push(o.reason.kind);
  }
  assertEqual(kinds, ['http', 'decode', 'timeout', 'abort', 'network']);
});
