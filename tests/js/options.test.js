// createClient options and request inputs.
import { assert, assertEqual, assertRejects, assertThrows, runId, stats, test } from './harness.js';
import { client, createClient, isError, other, url, origin } from './lib.js';

test('options: concurrency 0, -1, 1.5, NaN are RangeErrors naming concurrency', async () => {
  for (const concurrency of [0, -1, 1.5, NaN]) {
    await assertRejects(createClient({ concurrency }), isError(RangeError, 'concurrency'), `concurrency ${concurrency}`);
  }
});

test("options: concurrency 'x' is a TypeError naming concurrency", async () => {
  await assertRejects(createClient({ concurrency: 'x' }), isError(TypeError, 'concurrency'));
});

test('options: concurrency Infinity and 1 are accepted', async () => {
  const a = await client({ concurrency: Infinity });
  assertEqual(a.concurrency, Infinity);
  const b = await client({ concurrency: 1 });
  assertEqual(b.concurrency, 1);
});

test('options: perHost 0 is a RangeError naming perHost', async () => {
  await assertRejects(createClient({ perHost: 0 }), isError(RangeError, 'perHost'));
});

test('options: an unknown option is a TypeError naming it', async () => {
  await assertRejects(createClient({ concurrencyy: 2 }), isError(TypeError, 'concurrencyy'));
});

test('options: an unknown key inside retry is a TypeError naming retry.limt', async () => {
  await assertRejects(createClient({ retry: { limt: 2 } }), isError(TypeError, 'retry.limt'));
});

test('options: rateLimits limit 0, negative, NaN are RangeErrors naming the field', async () => {
  for (const limit of [0, -3, NaN]) {
    await assertRejects(
      createClient({ rateLimits: [{ limit, intervalMs: 1000 }] }),
      isError(RangeError, 'rateLimits', 'limit'),
      `limit ${limit}`,
    );
  }
});

test('options: rateLimits intervalMs 0, negative, NaN are RangeErrors naming intervalMs', async () => {
  for (const intervalMs of [0, -1, NaN]) {
    await assertRejects(
      createClient({ rateLimits: [{ limit: 5, intervalMs }] }),
      isError(RangeError, 'rateLimits', 'intervalMs'),
      `intervalMs ${intervalMs}`,
    );
  }
  // The second rule is named by its index.
  await assertRejects(
    createClient({ rateLimits: [{ limit: 5, intervalMs: 100 }, { limit: 5, intervalMs: 0 }] }),
    isError(RangeError, 'rateLimits[1]', 'intervalMs'),
  );
});

test('options: retry.statusCodes that is not an array of numbers is a TypeError naming statusCodes', async () => {
  await assertRejects(createClient({ retry: { statusCodes: 'x' } }), isError(TypeError, 'statusCodes'));
  await assertRejects(createClient({ retry: { statusCodes: [500, 'a'] } }), isError(TypeError, 'statusCodes'));
});

test('options: createClient without await: the promise says to await', async () => {
  const p = createClient();
  assertThrows(() => p.fetch, (e) => {
    assert(e instanceof TypeError, `expected a TypeError, got ${e && e.name}`);
    assert(/await/.test(e.message), `message should say to await: ${e.message}`);
  });
  assertThrows(() => p.fetch('/echo'), (e) => assert(e instanceof TypeError && /await/.test(e.message), e.message));
  const c = await p;
  c.close();
});

test('input: a number rejects with a TypeError', async () => {
  const c = await client();
  await assertRejects(c.fetch(42), (e) => assert(e instanceof TypeError, `expected a TypeError, got ${e && e.name}: ${e && e.message}`));
  await assertRejects(c.fetch({}), (e) => assert(e instanceof TypeError, `expected a TypeError, got ${e && e.name}`));
});

test('input: a URL object and a Request object both work', async () => {
  const run = runId('url-request');
  const c = await client();
  const viaUrl = await c.fetch(new URL(url('/status/200', run), location.href));
  assertEqual(viaUrl.status, 200);
  const viaRequest = await c.fetch(new Request(new URL(url('/echo', run), location.href), { method: 'POST', body: 'hello' }));
  const echoed = await viaRequest.json();
  assertEqual(echoed.method, 'POST');
  assertEqual(echoed.body, 'hello');
  const s = await stats(run);
  assertEqual(s.hits['/status/200'], 1, 'hits on /status/200');
  assertEqual(s.hits['/echo'], 1, 'hits on /echo');
});

test('input: baseUrl resolves relative paths', async () => {
  const run = runId('base-url');
  const c = await client({ baseUrl: `${other}/` });
  const body = await c.json(url('echo', run));
  assertEqual(body.path, '/echo');
  const s = await stats(run);
  assertEqual(s.hits['/echo'], 1);
  assertEqual(s.arrivals[0].host, `localhost:${location.port}`, 'the request went to the baseUrl host');
  // A URL object as baseUrl works too.
  const d = await client({ baseUrl: new URL('/status/', origin) });
  assertEqual((await d.fetch(url('204', run))).status, 204);
});

test('input: baseUrl resolves as new URL(input, baseUrl): a trailing / keeps its path, a leading / is the root (README)', async () => {
  const run = runId('base-url-rules');
  const under = await client({ baseUrl: `${origin}/status/` });
  assertEqual((await under.fetch(url('204', run))).url, `${origin}/status/204?run=${run}`, "'204' under a base with a trailing /");
  assertEqual((await under.json(url('/echo', run))).path, '/echo', "'/echo' goes to the origin's root");
  const noSlash = await client({ baseUrl: `${origin}/status` });
  assertEqual((await noSlash.json(url('echo', run))).path, '/echo', "without the trailing /, the base's last segment is replaced");
  const s = await stats(run);
  assertEqual([s.hits['/status/204'], s.hits['/echo']], [1, 2], 'server hits');
});

test("input: baseUrl 'not a url' is a TypeError naming baseUrl", async () => {
  await assertRejects(createClient({ baseUrl: 'not a url' }), isError(TypeError, 'baseUrl'));
});

test('options: options that are not an object are a TypeError', async () => {
  await assertRejects(createClient(42), (e) => assert(e instanceof TypeError, `got ${e && e.name}: ${e && e.message}`));
});

test('init: a bad lane or an unknown init key rejects with a TypeError naming it', async () => {
  const run = runId('init-keys');
  const c = await client();
  await assertRejects(c.fetch(url('/status/200', run), { lane: 'urgent' }), isError(TypeError, 'lane'));
  await assertRejects(c.fetch(url('/status/200', run), { retyr: 1 }), isError(TypeError, 'retyr'));
  const s = await stats(run);
  assertEqual(s.total, 0, 'nothing was sent');
});

test('options: headers are added to every request; the request’s own header wins', async () => {
  const run = runId('default-headers');
  const c = await client({ headers: { 'x-fetchlane-test': 'default' } });
  const a = await c.json(url('/echo', run, { n: 1 }));
  assertEqual(a.headers['x-fetchlane-test'], 'default');
  const b = await c.json(url('/echo', run, { n: 2 }), { headers: { 'x-fetchlane-test': 'mine' } });
  assertEqual(b.headers['x-fetchlane-test'], 'mine');
});

test('share: a client alone in its page leads (alone without Web Locks); a share without a name is a TypeError naming share.name', async () => {
  await assertRejects(client({ share: {} }), isError(TypeError, 'share.name'));
  await assertRejects(client({ share: { name: 3 } }), isError(TypeError, 'share.name'));
  const c = await client({ share: { name: `solo-${Math.random()}` } });
  const expected = globalThis.navigator?.locks && typeof BroadcastChannel === 'function' ? 'leader' : 'alone';
  for (let i = 0; i < 50 && c.stats().share.role !== expected; i++) await new Promise((r) => setTimeout(r, 10));
  assertEqual(c.stats().share, { role: expected, tabs: 1 });
  const body = await c.json('/echo?run=share-solo');
  assertEqual(body.path, '/echo');
});
