// client.loader: DataLoader-style batching, asserted on what the server saw.
import { assert, assertEqual, assertRejects, assertThrows, runId, sleep, stats, test } from './harness.js';
import { client, FetchlaneError, isError, isKind, origin, url } from './lib.js';

/** A batch URL template on /items (or another path) for `run`, with extra query options. */
const batchUrl = (run, params = {}, path = '/items') => {
  const extra = new URLSearchParams(params).toString();
  return `${path}?ids={keys}&run=${encodeURIComponent(run)}${extra ? '&' + extra : ''}`;
};
const idsOf = (arrival) => new URLSearchParams(arrival.query).get('ids');

test('loader: loads in one tick become one request; values match their keys', async () => {
  const run = runId('loader-tick');
  const c = await client();
  const loader = c.loader({ url: batchUrl(run, { order: 'shuffle' }) });
  const out = await Promise.all(['1', '2', '3', '4'].map((k) => loader.load(k)));
  assertEqual(out.map((o) => o.id), ['1', '2', '3', '4']);
  const s = await stats(run);
  assertEqual(s.hits['/items'], 1, 'server hits');
  assertEqual(idsOf(s.arrivals[0]), '1,2,3,4');
  assertEqual(c.stats().batched, 4, 'stats().batched');
});

test('loader: duplicate keys are one key in the URL and every caller gets the item; 1 and "1" match', async () => {
  const run = runId('loader-dup-keys');
  const c = await client();
  const loader = c.loader({ url: batchUrl(run, { numeric: 1 }), cache: false });
  const [a, b, n] = await Promise.all([loader.load('1'), loader.load('1'), loader.load(1)]);
  assert(a === b && b === n, 'the same item for every caller');
  assertEqual(a.id, 1);
  const s = await stats(run);
  assertEqual(s.hits['/items'], 1);
  assertEqual(idsOf(s.arrivals[0]), '1');
});

test('loader: keys are URL-encoded, the commas stay literal', async () => {
  const run = runId('loader-encode');
  const c = await client();
  const loader = c.loader({ url: batchUrl(run) });
  const out = await Promise.all(['a b', 'x/y', 'é'].map((k) => loader.load(k)));
  assertEqual(out.map((o) => o.id), ['a b', 'x/y', 'é']);
  const s = await stats(run);
  assert(s.arrivals[0].query.includes('ids=a%20b,x%2Fy,%C3%A9'), `raw query: ${s.arrivals[0].query}`);
});

test('loader: windowMs collects loads 20 ms apart into one request; without it they are two', async () => {
  const run = runId('loader-window');
  const c = await client();
  const windowed = c.loader({ url: batchUrl(run, { w: 1 }), windowMs: 100 });
  const p1 = windowed.load('1');
  await sleep(20);
  const p2 = windowed.load('2');
  await sleep(20);
  const p3 = windowed.load('3');
  await Promise.all([p1, p2, p3]);
  const ticked = c.loader({ url: batchUrl(run, { w: 0 }) });
  const q1 = ticked.load('1');
  await sleep(20);
  const q2 = ticked.load('2');
  await Promise.all([q1, q2]);
  const s = await stats(run);
  const windows = s.arrivals.map((a) => new URLSearchParams(a.query).get('w'));
  assertEqual(windows.filter((w) => w === '1').length, 1, 'one request with the window');
  assertEqual(windows.filter((w) => w === '0').length, 2, 'two requests without');
});

test('loader: maxBatchSize 100 splits 250 keys into 3 requests', async () => {
  const run = runId('loader-size');
  const c = await client();
  const loader = c.loader({ url: batchUrl(run), maxBatchSize: 100 });
  const keys = Array.from({ length: 250 }, (_, i) => String(i + 1));
  const out = await Promise.all(keys.map((k) => loader.load(k)));
  assertEqual(out.map((o) => o.id), keys);
  const s = await stats(run);
  assertEqual(s.hits['/items'], 3);
  assertEqual(s.arrivals.map((a) => idsOf(a).split(',').length).sort((x, y) => x - y), [50, 100, 100]);
  assertEqual(c.stats().batched, 250);
});

test('loader: maxUrlLength splits a batch so that every URL fits', async () => {
  const run = runId('loader-url-length');
  const c = await client();
  const template = batchUrl(run);
  const base = new URL(template.replace('{keys}', ''), location.href).href.length;
  // 20 keys of 4 characters: at most 10 per URL (10 × 4 + 9 commas = 49 ≤ 50).
  const max = base + 50;
  const loader = c.loader({ url: template, maxUrlLength: max });
  const keys = Array.from({ length: 20 }, (_, i) => String(1000 + i));
  const out = await Promise.all(keys.map((k) => loader.load(k)));
  assertEqual(out.map((o) => o.id), keys);
  const s = await stats(run);
  assertEqual(s.hits['/items'], 2);
  for (const a of s.arrivals) {
    const length = `${origin}${a.path}?${a.query}`.length;
    assert(length <= max, `URL of ${length} > ${max}`);
  }
});

test('loader: a missing key rejects alone (kind missing); extra and repeated items are ignored', async () => {
  const run = runId('loader-missing');
  const c = await client();
  const loader = c.loader({ url: batchUrl(run, { missing: '2,5', extra: 99, dup: 1, order: 'reverse' }) });
  const settled = await Promise.allSettled(['1', '2', '3', '4', '5', '6'].map((k) => loader.load(k)));
  assertEqual(settled.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  for (const r of settled.filter((r) => r.status === 'rejected')) isKind('missing')(r.reason);
  assert(settled[1].reason.message.includes('"2"'), `names the key: ${settled[1].reason.message}`);
  assertEqual(settled[0].value.id, '1');
  const s = await stats(run);
  assertEqual(s.hits['/items'], 1);
  assertEqual(c.stats().batched, 4, 'only the keys served count');
});

test('loader: loadMany gives values and errors in place, never rejects', async () => {
  const run = runId('loader-load-many');
  const c = await client();
  const loader = c.loader({ url: batchUrl(run, { missing: '2' }) });
  const out = await loader.loadMany(['1', '2', '3']);
  assertEqual(out.length, 3);
  assertEqual(out[0].id, '1');
  assert(out[1] instanceof FetchlaneError, 'error in place');
  assertEqual(out[1].kind, 'missing');
  assertEqual(out[2].id, '3');
  const s = await stats(run);
  assertEqual(s.hits['/items'], 1);
  await assertRejects(loader.loadMany('1'), isError(TypeError, 'loadMany'));
});

test('loader: select pulls items out of an envelope; key may be a function; numeric ids match string keys', async () => {
  const run = runId('loader-select');
  const c = await client();
  const loader = c.loader({
    url: batchUrl(run, { envelope: 1, numeric: 1, order: 'shuffle' }),
    select: (body) => body.data,
    key: (item) => item.id * 1,
  });
  const out = await Promise.all(['3', '1', '2'].map((k) => loader.load(k)));
  assertEqual(out.map((o) => o.id), [3, 1, 2]);
  const users = c.loader({ url: batchUrl(run, {}, '/users'), key: 'id' });
  assertEqual((await users.load(7)).id, '7');
});

test('loader: a body that is not an array rejects every key with kind decode; so does bad JSON', async () => {
  const run = runId('loader-decode');
  const c = await client();
  const loader = c.loader({ url: batchUrl(run, { envelope: 1 }) });
  const errors = await Promise.allSettled([loader.load('1'), loader.load('2')]);
  for (const r of errors) {
    assertEqual(r.status, 'rejected');
    isKind('decode')(r.reason);
    assert(r.reason.message.includes('expected an array of items, found an object'), r.reason.message);
  }
  const bad = c.loader({ url: () => url('/bad-json', run) });
  const both = await Promise.allSettled([bad.load('1'), bad.load('2')]);
  for (const r of both) isKind('decode')(r.reason);
  const s = await stats(run);
  assertEqual(s.hits['/items'], 1);
  assertEqual(s.hits['/bad-json'], 1);
});

test('loader: a failed batch rejects every key with its error; failed keys are not memoised', async () => {
  const run = runId('loader-fail');
  const c = await client({ retry: 0 });
  let calls = 0;
  const loader = c.loader({
    url: (keys) => {
      calls += 1;
      return url('/status/500', run, { ids: keys.join(','), call: calls });
    },
  });
  const out = await Promise.allSettled([loader.load('1'), loader.load('2')]);
  for (const r of out) isKind('http', { status: 500 })(r.reason);
  await assertRejects(loader.load('1'), isKind('http'));
  const s = await stats(run);
  assertEqual(s.hits['/status/500'], 2, 'the second load tried again');
});

test('loader: a batch that fails once is retried through the pipeline and then serves every key', async () => {
  const run = runId('loader-retry');
  const c = await client({ retry: { backoffMs: 10 } });
  const loader = c.loader({
    url: (keys) => url('/flaky/batch', run, { fails: 1, ids: keys.join(',') }),
    // /flaky answers { ok, attempt }: make items of the keys it was asked for.
    select: (body) => (body.ok ? ['a', 'b'].map((id) => ({ id, attempt: body.attempt })) : body),
  });
  const [a, b] = await Promise.all([loader.load('a'), loader.load('b')]);
  assertEqual([a.id, b.id, a.attempt], ['a', 'b', 2]);
  const s = await stats(run);
  assertEqual(s.hits['/flaky/batch'], 2, 'one failure, one retry');
  assertEqual(c.stats().retried, 1);
});

test('loader: cache memoises per key (no new request); cache false asks again', async () => {
  const run = runId('loader-cache');
  const c = await client();
  const loader = c.loader({ url: batchUrl(run, { m: 1 }) });
  const first = await loader.load('1');
  const again = await loader.load('1');
  assert(first === again, 'the same value');
  const [x, y] = await Promise.all([loader.load('1'), loader.load('2')]);
  assert(x === first && y.id === '2');
  const noCache = c.loader({ url: batchUrl(run, { m: 0 }), cache: false });
  await noCache.load('1');
  await noCache.load('1');
  const s = await stats(run);
  const by = (m) => s.arrivals.filter((a) => new URLSearchParams(a.query).get('m') === m);
  assertEqual(by('1').length, 2, 'memoised: the second batch asked only for 2');
  assertEqual(idsOf(by('1')[1]), '2');
  assertEqual(by('0').length, 2, 'without cache');
});

test('loader: prime, clear and clearAll', async () => {
  const run = runId('loader-prime');
  const c = await client();
  const loader = c.loader({ url: batchUrl(run) });
  loader.prime('7', { id: '7', primed: true });
  assertEqual((await loader.load('7')).primed, true);
  loader.prime('7', { id: '7', primed: 'twice' });
  assertEqual((await loader.load('7')).primed, true, 'prime does not overwrite');
  assertEqual((await stats(run)).hits['/items'], undefined, 'no request for a primed key');
  loader.clear('7');
  assertEqual((await loader.load('7')).primed, undefined);
  await loader.load('8');
  loader.clearAll();
  await Promise.all([loader.load('7'), loader.load('8')]);
  const s = await stats(run);
  assertEqual(s.hits['/items'], 3);
  assertEqual(idsOf(s.arrivals[2]), '7,8');
});

test('loader: relative URLs resolve against baseUrl; the loader passes lane and headers on', async () => {
  const run = runId('loader-base');
  const c = await client({ baseUrl: `${origin}/` });
  const loader = c.loader({ url: `items?ids={keys}&run=${run}`, headers: { 'x-fetchlane-test': 'loader' }, lane: 'critical' });
  assertEqual((await loader.load('5')).id, '5');
  const s = await stats(run);
  assertEqual(s.hits['/items'], 1);
  assertEqual(s.arrivals[0].headers['x-fetchlane-test'], 'loader');
});

test('loader: bad options throw a TypeError or RangeError naming the option', async () => {
  const c = await client();
  assertThrows(() => c.loader(), isError(TypeError, 'opts'));
  assertThrows(() => c.loader({}), isError(TypeError, 'opts.url'));
  assertThrows(() => c.loader({ url: '/items?ids=1' }), isError(TypeError, 'opts.url', '{keys}'));
  assertThrows(() => c.loader({ url: 5 }), isError(TypeError, 'opts.url'));
  assertThrows(() => c.loader({ url: '/i?ids={keys}', maxBatchSize: 0 }), isError(RangeError, 'opts.maxBatchSize'));
  assertThrows(() => c.loader({ url: '/i?ids={keys}', maxUrlLength: 1.5 }), isError(RangeError, 'opts.maxUrlLength'));
  assertThrows(() => c.loader({ url: '/i?ids={keys}', windowMs: -1 }), isError(RangeError, 'opts.windowMs'));
  assertThrows(() => c.loader({ url: '/i?ids={keys}', key: 5 }), isError(TypeError, 'opts.key'));
  assertThrows(() => c.loader({ url: '/i?ids={keys}', select: 'data' }), isError(TypeError, 'opts.select'));
  assertThrows(() => c.loader({ url: '/i?ids={keys}', cache: 'yes' }), isError(TypeError, 'opts.cache'));
  assertThrows(() => c.loader({ url: '/i?ids={keys}', lane: 'urgent' }), isError(TypeError, 'opts.lane'));
  assertThrows(() => c.loader({ url: '/i?ids={keys}', batchSize: 5 }), isError(TypeError, 'opts.batchSize'));
  const loader = c.loader({ url: '/i?ids={keys}' });
  await assertRejects(loader.load(undefined), isError(TypeError, 'load'));
});

test('loader: a url function that throws rejects its keys; nothing hangs after close', async () => {
  const run = runId('loader-throw');
  const c = await client();
  const loader = c.loader({
    url: () => {
      throw new Error('boom');
    },
  });
  await assertRejects(loader.load('1'), (e) => {
    assert(e instanceof FetchlaneError);
    assertEqual(e.cause.message, 'boom');
  });
  const other = c.loader({ url: batchUrl(run, { latency: 200 }) });
  const pending = other.load('1');
  await sleep(30);
  c.close();
  await assertRejects(pending, isKind('closed'));
  await assertRejects(other.load('2'), isKind('closed'));
});
