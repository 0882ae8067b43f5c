// Field selection (`LaneInit.fields`): the URL, coalescing the calls of one tick, reuse of a
// response whose fields cover a caller's, `project`, and the bad inputs, against what the
// server saw (each arrival's query) and answered (`fields=` returns only those fields).
import { assert, assertEqual, assertRejects, runId, sleep, stats, test } from './harness.js';
import { client, isError, isKind, url } from './lib.js';

/** The `fields=` of every arrival at `path` in `run`. */
async function fieldsSeen(run, path) {
  const s = await stats(run);
  return s.arrivals.filter((a) => a.path === path).map((a) => new URLSearchParams(a.query).get('fields'));
}

test('fields: three calls in one tick for one URL go out as one request for the union', async () => {
  const run = runId('fields-union');
  const c = await client({});
  const product = url('/api/product/42', run);
  const [a, b, d] = await Promise.all([
    c.json(product, { fields: ['price', 'name'] }),
    c.json(product, { fields: ['stock', 'price'] }),
    c.json(product, { fields: ['name'] }),
  ]);
  assertEqual(await fieldsSeen(run, '/api/product/42'), ['name,price,stock'], 'one request, the union, sorted');
  for (const [body, names] of [[a, ['name', 'price']], [b, ['price', 'stock']], [d, ['name']]]) {
    for (const n of names) assert(n in body, `${n} in ${JSON.stringify(body)}`);
  }
});

test('fields: project trims each caller to its own fields', async () => {
  const run = runId('fields-project');
  const c = await client({ fields: { project: true } });
  const product = url('/api/product/42', run);
  const [a, b] = await Promise.all([c.json(product, { fields: ['name'] }), c.json(product, { fields: ['price', 'stock'] })]);
  assertEqual(Object.keys(a), ['name'], 'first caller');
  assertEqual(Object.keys(b).sort(), ['price', 'stock'], 'second caller');
  assertEqual(await fieldsSeen(run, '/api/product/42'), ['name,price,stock'], 'one request');
});

test('fields: a cached response whose fields cover a call answers it; one that does not, does not', async () => {
  const run = runId('fields-cache');
  const c = await client({ cache: { strategy: 'cache-first', ttlMs: 60000 } });
  const product = url('/api/product/42', run);
  await c.json(product, { fields: ['name', 'price'] });
  const name = await c.json(product, { fields: ['name'] });
  assert('name' in name, 'name answered');
  assertEqual(await fieldsSeen(run, '/api/product/42'), ['name,price'], '0 requests for name');
  assertEqual(c.stats().cacheHits.memory, 1, 'a memory hit');
  const stock = await c.json(product, { fields: ['stock'] });
  assert('stock' in stock, 'stock answered');
  assertEqual(await fieldsSeen(run, '/api/product/42'), ['name,price', 'stock'], '1 request for stock');
});

test('fields: a request in flight whose fields cover a later call answers it too', async () => {
  const run = runId('fields-inflight');
  const c = await client({});
  const slow = url('/api/product/42', run, { latency: 200 });
  const wide = c.json(slow, { fields: ['name', 'price', 'stock'] });
  await sleep(30);
  const narrow = await c.json(slow, { fields: ['price'] });
  assert('price' in narrow, 'price answered');
  await wide;
  assertEqual(await fieldsSeen(run, '/api/product/42'), ['name,price,stock'], 'one request');
  assertEqual(c.stats().deduped, 1, 'joined the one in flight');
});

test('fields: the order and repeats of names never change the URL; the param can be renamed', async () => {
  const run = runId('fields-order');
  const c = await client({ fields: { param: 'select' } });
  const product = url('/api/product/42', run);
  await c.json(product, { fields: ['price', 'name', 'price'] });
  const s = await stats(run);
  assertEqual(new URLSearchParams(s.arrivals[0].query).get('select'), 'name,price', 'sorted, unique, under `select`');
});

test('fields: clearQueue right after a call rejects it with kind abort, and nothing is sent', async () => {
  const run = runId('fields-clear');
  const c = await client({});
  const p = c.json(url('/api/product/42', run), { fields: ['name'] });
  c.clearQueue();
  await assertRejects(p, isKind('abort'));
  await sleep(50);
  assertEqual((await stats(run)).total, 0, 'no request');
});

test('fields: bad input is a TypeError naming it', async () => {
  const c = await client({});
  const u = url('/api/product/42', runId('fields-bad'));
  await assertRejects(c.json(u, { fields: [] }), isError(TypeError, 'init.fields'));
  await assertRejects(c.json(u, { fields: ['a,b'] }), isError(TypeError, 'init.fields[0]'));
  await assertRejects(c.json(u, { fields: [''] }), isError(TypeError, 'init.fields[0]'));
  await assertRejects(c.json(u, { fields: 'name' }), isError(TypeError, 'init.fields'));
  await assertRejects(c.fetch(u, { method: 'POST', fields: ['name'] }), isError(TypeError, 'fields', 'POST'));
  const { createClient } = await import('./lib.js');
  await assertRejects(createClient({ fields: { param: 3 } }), isError(TypeError, 'fields.param'));
  await assertRejects(createClient({ fields: 'name' }), isError(TypeError, 'fields'));
});

test('fields: two loaders with other fields, 100 ids in one tick: ⌈100 / maxBatchSize⌉ requests for the union', async () => {
  const run = runId('fields-loader');
  const c = await client({});
  const names = c.loader({ url: url('/items', run, { ids: '{keys}' }).replace('%7Bkeys%7D', '{keys}'), fields: ['name'], maxBatchSize: 40 });
  const prices = c.loader({ url: url('/items', run, { ids: '{keys}' }).replace('%7Bkeys%7D', '{keys}'), fields: ['price'], maxBatchSize: 40 });
  const ids = Array.from({ length: 100 }, (_, i) => String(i + 1));
  const [a, b] = await Promise.all([Promise.all(ids.map((id) => names.load(id))), Promise.all(ids.map((id) => prices.load(id)))]);
  assert(a.every((item, i) => item.id === ids[i] && 'name' in item), 'every name item, matched by id');
  assert(b.every((item, i) => item.id === ids[i] && 'price' in item), 'every price item, matched by id');
  const seen = await fieldsSeen(run, '/items');
  assertEqual(seen, ['id,name,price', 'id,name,price', 'id,name,price'], `⌈100 / 40⌉ = 3 requests, each for the union`);
});

test('fields: onIdle and pendingCount count a call held to the end of the tick', async () => {
  const run = runId('fields-idle');
  const c = await client({});
  const p = c.json(url('/api/product/42', run, { latency: 30 }), { fields: ['name'] });
  assertEqual(c.pendingCount, 1, 'held, so pending');
  let settled = false;
  p.then(() => (settled = true));
  await c.onIdle();
  await sleep(0);
  assert(settled, 'settled when onIdle resolved');
});
