// client.paginate: pages in order through Link rel="next" or opts.next, with prefetch and
// early exit, asserted on what the server saw.
import { assert, assertEqual, assertRejects, assertThrows, runId, sleep, stats, statsWhen, test } from './harness.js';
import { client, isError, isKind, url } from './lib.js';

const pageOf = (arrival) => Number(new URLSearchParams(arrival.query).get('page'));

test('paginate: follows a relative Link rel="next" to the end, pages in order', async () => {
  const run = runId('pages-all');
  const c = await client();
  const pages = [];
  for await (const page of c.paginate(url('/pages', run, { page: 1, total: 5, size: 3 }))) {
    pages.push(page);
  }
  assertEqual(pages.length, 5);
  assertEqual(pages.map((p) => p[0].page), [1, 2, 3, 4, 5]);
  assertEqual(pages.flat().map((i) => i.id).slice(0, 4), ['1-0', '1-1', '1-2', '2-0']);
  const s = await stats(run);
  assertEqual(s.hits['/pages'], 5, 'server hits');
  assertEqual(s.arrivals.map(pageOf), [1, 2, 3, 4, 5]);
});

test('paginate: an absolute Link works too; LaneInit fields apply to every page', async () => {
  const run = runId('pages-absolute');
  const c = await client();
  let n = 0;
  const it = c.paginate(url('/pages', run, { page: 1, total: 3, size: 1, absolute: 1 }), {
    headers: { 'x-fetchlane-test': 'pages' },
    lane: 'critical',
  });
  for await (const page of it) {
    n += 1;
    assertEqual(page[0].page, n);
  }
  assertEqual(n, 3);
  const s = await stats(run);
  assertEqual(s.hits['/pages'], 3);
  for (const a of s.arrivals) assertEqual(a.headers['x-fetchlane-test'], 'pages');
});

test('paginate: prefetch 2 fetches ahead while a slow consumer works', async () => {
  const run = runId('pages-prefetch');
  const c = await client();
  const it = c.paginate(url('/pages', run, { page: 1, total: 6, size: 1, latency: 20 }), { prefetch: 2 })[Symbol.asyncIterator]();
  const first = await it.next();
  assertEqual(first.value[0].page, 1);
  // The consumer "works" on page 1; pages 2 and 3 arrive meanwhile, and not 4.
  const s = await statsWhen(run, (st) => st.hits['/pages'] >= 3, 2000);
  assertEqual(s.arrivals.map(pageOf), [1, 2, 3], 'two pages ahead, no more');
  await sleep(150);
  assertEqual((await stats(run)).hits['/pages'], 3, 'still two ahead while the consumer waits');
  const t0 = performance.now();
  const second = await it.next();
  assertEqual(second.value[0].page, 2);
  assert(performance.now() - t0 < 15, `page 2 was ready when asked (${Math.round(performance.now() - t0)} ms)`);
  const all = [first.value, second.value];
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    all.push(r.value);
  }
  assertEqual(all.map((p) => p[0].page), [1, 2, 3, 4, 5, 6]);
  const end = await stats(run);
  assertEqual(end.hits['/pages'], 6);
});

test('paginate: prefetch 0 fetches a page only when asked', async () => {
  const run = runId('pages-no-prefetch');
  const c = await client();
  const it = c.paginate(url('/pages', run, { page: 1, total: 3, size: 1 }), { prefetch: 0 });
  await sleep(50);
  assertEqual((await stats(run)).hits['/pages'], undefined, 'nothing before the first next()');
  await it.next();
  await sleep(100);
  assertEqual((await stats(run)).hits['/pages'], 1, 'no page ahead');
});

test('paginate: break after page 1 aborts the prefetches; no request after', async () => {
  const run = runId('pages-break');
  const c = await client();
  let seen = 0;
  for await (const page of c.paginate(url('/pages', run, { page: 1, total: 50, size: 1, latency: 60 }), { prefetch: 2 })) {
    seen = page[0].page;
    break;
  }
  assertEqual(seen, 1);
  // Requests the browser had already sent may still land; after that, nothing more.
  await sleep(100);
  const atBreak = (await stats(run)).hits['/pages'];
  assert(atBreak >= 1 && atBreak <= 3, `hits at break: ${atBreak}`);
  await sleep(300);
  const s = await stats(run);
  assertEqual(s.hits['/pages'], atBreak, 'no request after the break');
  assert(s.hits['/pages'] <= 3, `at most 3 hits, saw ${s.hits['/pages']}`);
  assertEqual(c.activeCount + c.pendingCount, 0, 'nothing left running');
});

test('paginate: an error at page 3 surfaces there, after pages 1 and 2', async () => {
  const run = runId('pages-error');
  const c = await client({ retry: 0 });
  const got = [];
  await assertRejects(async () => {
    for await (const page of c.paginate(url('/pages', run, { page: 1, total: 5, size: 1, fail: 3 }))) {
      got.push(page[0].page);
    }
  }, isKind('http', { status: 500 }));
  assertEqual(got, [1, 2]);
  const it = c.paginate(url('/pages', run, { page: 1, total: 5, size: 1, fail: 2, again: 1 }))[Symbol.asyncIterator]();
  assertEqual((await it.next()).value[0].page, 1);
  await assertRejects(it.next(), isKind('http'));
  assertEqual(await it.next(), { done: true, value: undefined }, 'done after the error');
  const s = await stats(run);
  assertEqual(s.arrivals.filter((a) => !a.query.includes('again')).map(pageOf), [1, 2, 3], 'nothing after the failed page');
});

test('paginate: opts.next(body, response) finds the next page (nolink)', async () => {
  const run = runId('pages-next');
  const c = await client();
  const seen = [];
  const it = c.paginate(url('/pages', run, { page: 1, total: 4, size: 2, nolink: 1 }), {
    next: (body, response) => {
      assert(response instanceof Response, 'gets the response');
      return body.next == null ? null : url('/pages', run, { page: body.next, total: 4, size: 2, nolink: 1 });
    },
  });
  for await (const body of it) seen.push(body.items[0].page);
  assertEqual(seen, [1, 2, 3, 4]);
  const s = await stats(run);
  assertEqual(s.hits['/pages'], 4);
});

test('paginate: a next option that throws fails the following page', async () => {
  const run = runId('pages-next-throws');
  const c = await client();
  const it = c.paginate(url('/pages', run, { page: 1, total: 4, size: 1, nolink: 1 }), {
    next: () => {
      throw new Error('no next');
    },
  })[Symbol.asyncIterator]();
  assertEqual((await it.next()).value.items[0].page, 1);
  await assertRejects(it.next(), (e) => {
    isKind('decode')(e);
    assertEqual(e.cause.message, 'no next');
  });
  assertEqual((await it.next()).done, true);
});

test('paginate: bad options throw naming the option', async () => {
  const c = await client();
  assertThrows(() => c.paginate('/pages', { prefetch: -1 }), isError(RangeError, 'opts.prefetch'));
  assertThrows(() => c.paginate('/pages', { next: 'page' }), isError(TypeError, 'opts.next'));
  assertThrows(() => c.paginate('/pages', { lane: 'urgent' }), isError(TypeError, 'opts.lane'));
  assertThrows(() => c.paginate('/pages', { perPage: 5 }), isError(TypeError, 'opts.perPage'));
  assertThrows(() => c.paginate(5), isError(TypeError, 'input'));
});
