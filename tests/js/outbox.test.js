// The outbox: requests stored in the real IndexedDB and delivered to the real test server,
// which records each idempotency key it collects (`POST /collect/{name}`) and misbehaves on
// request (`/__faults`). Reloads, offline spells and several tabs are Playwright scenarios
// (tests/e2e/outbox.test.mjs).
import { assert, assertEqual, assertRejects, at, defer, runId, sleep, stats, statsWhen, test } from './harness.js';
import { client, isError, isKind } from './lib.js';

const NEEDS = { needs: ['indexedDB'] };

/** A client with an outbox of a name of its own; the database is deleted when the test ends. */
async function outboxOf(run, opts, clientOpts) {
  const c = await client(clientOpts);
  const name = `test-${run}`;
  const box = c.outbox(name, opts);
  defer(() => indexedDB.deleteDatabase(`fetchlane-outbox:${name}`));
  const events = [];
  for (const type of ['outbox-sent', 'outbox-retry', 'outbox-drop']) c.on(type, (e) => events.push(e));
  return { c, box, events };
}

/**
 * Adds fault rules for `run` on the server, taken away when the test ends: while a drop or
 * down rule stands, the server closes every connection after its answer, which would slow
 * every later test.
 */
async function faults(run, rules) {
  defer(() => fetch(at(`/__faults?run=${run}`), { method: 'DELETE' }));
  const r = await fetch(at(`/__faults?run=${run}`), { method: 'POST', body: JSON.stringify(rules) });
  assertEqual(r.status, 200, `fault rules accepted: ${await r.text()}`);
}

/** `n` JSON items sent to `/collect/{bin}`; resolves to their tickets. */
async function sendMany(box, run, bin, n) {
  const tickets = [];
  for (let i = 0; i < n; i++) {
    tickets.push(await box.send(at(`/collect/${bin}?run=${run}`), { method: 'POST', body: JSON.stringify({ i }), headers: { 'content-type': 'application/json' } }));
  }
  return tickets;
}

/** The keys the server collected in `bin`, once `n` have arrived (or the wait ran out). */
async function collected(run, bin, n, timeoutMs = 5000) {
  const s = await statsWhen(run, (x) => (x.collected?.[bin]?.keys.length ?? 0) >= n, timeoutMs);
  return s.collected?.[bin] ?? { keys: [], counts: {}, duplicates: [] };
}

test('outbox: send resolves once stored; delivery is oldest first, each key once, with outbox-sent events', async () => {
  const run = runId('outbox-order');
  const { box, events } = await outboxOf(run);
  const tickets = await sendMany(box, run, 'a', 5);
  assertEqual(new Set(tickets.map((t) => t.idempotencyKey)).size, 5, 'a key of its own each');
  assert(tickets.every((t) => typeof t.id === 'string' && t.id !== ''), 'ids');
  const got = await collected(run, 'a', 5);
  assertEqual(got.keys, tickets.map((t) => t.idempotencyKey), 'in send order');
  assertEqual(got.duplicates, []);
  const s = await stats(run);
  const first = s.collected.a.requests[0];
  assertEqual([first.method, first.body], ['POST', { i: 0 }], 'method and body as sent');
  await box.flush();
  assertEqual(await box.size(), 0);
  await sleep(0);
  assertEqual(events.filter((e) => e.type === 'outbox-sent').map((e) => [e.idempotencyKey, e.status]), tickets.map((t) => [t.idempotencyKey, 200]));
}, NEEDS);

test('outbox: 429 with Retry-After: 2 keeps the item at the head and waits as told', async () => {
  const run = runId('outbox-429');
  const { box, events } = await outboxOf(run, { retry: { backoffMs: 10 } });
  await faults(run, { path: '/collect/b', mode: '429', count: 1, retryAfterSec: 2 });
  const t0 = performance.now();
  const tickets = await sendMany(box, run, 'b', 2);
  const got = await collected(run, 'b', 2, 8000);
  assertEqual(got.keys, tickets.map((t) => t.idempotencyKey), 'nothing skipped, nothing twice');
  assert(performance.now() - t0 >= 1990, 'Retry-After: 2 was honoured');
  const retry = events.find((e) => e.type === 'outbox-retry');
  assertEqual([retry.reason, retry.status, retry.delayMs, retry.idempotencyKey], ['status', 429, 2000, tickets[0].idempotencyKey]);
  const s = await stats(run);
  assertEqual(s.arrivals.filter((a) => a.path === '/collect/b').map((a) => a.headers['idempotency-key']), [tickets[0], tickets[0], tickets[1]].map((t) => t.idempotencyKey), 'the same key on the retry');
}, { ...NEEDS, timeoutMs: 20000 });

test('outbox: a connection cut mid-delivery keeps the item at the head; nothing is skipped', async () => {
  const run = runId('outbox-drop-conn');
  const { box, events } = await outboxOf(run, { retry: { backoffMs: 30, jitter: false } });
  await faults(run, { path: '/collect/c', mode: 'drop', count: 1 });
  const tickets = await sendMany(box, run, 'c', 3);
  const got = await collected(run, 'c', 3);
  assertEqual(got.keys, tickets.map((t) => t.idempotencyKey));
  const retry = events.find((e) => e.type === 'outbox-retry');
  assertEqual([retry.reason, retry.idempotencyKey, retry.delayMs], ['network', tickets[0].idempotencyKey, 30]);
}, NEEDS);

test('outbox: another 4xx drops the item with an outbox-drop event; the rest goes on', async () => {
  const run = runId('outbox-4xx');
  const { box, events } = await outboxOf(run);
  await faults(run, { path: '/collect/d', mode: 400, count: 1 });
  const tickets = await sendMany(box, run, 'd', 3);
  const got = await collected(run, 'd', 2);
  assertEqual(got.keys, tickets.slice(1).map((t) => t.idempotencyKey));
  const drop = events.find((e) => e.type === 'outbox-drop');
  assertEqual([drop.reason, drop.status, drop.idempotencyKey, drop.outbox], ['status', 400, tickets[0].idempotencyKey, `test-${run}`]);
}, NEEDS);

test('outbox: items older than maxAgeMs are dropped as expired, never sent', async () => {
  const run = runId('outbox-expiry');
  const { box, events } = await outboxOf(run, { maxAgeMs: 150, retry: { backoffMs: 100, jitter: false, factor: 1 } });
  await faults(run, { mode: 'down', forMs: 400 });
  const tickets = await sendMany(box, run, 'e', 2);
  await sleep(700);
  const expired = events.filter((e) => e.type === 'outbox-drop');
  assertEqual(expired.map((e) => [e.reason, e.idempotencyKey]), tickets.map((t) => ['expired', t.idempotencyKey]));
  assertEqual((await stats(run)).collected?.e, undefined, 'nothing collected');
  assertEqual(await box.size(), 0);
}, NEEDS);

test('outbox: a ReadableStream or a FormData with files is a TypeError, and nothing is stored', async () => {
  const run = runId('outbox-bodies');
  const { box } = await outboxOf(run);
  await faults(run, { mode: 'down' });
  const target = at(`/collect/f?run=${run}`);
  const stream = new ReadableStream({ start: (c) => c.close() });
  await assertRejects(box.send(target, { method: 'POST', body: stream, duplex: 'half' }), isError(TypeError, 'ReadableStream'));
  const withFile = new FormData();
  withFile.append('file', new Blob(['x']), 'x.txt');
  await assertRejects(box.send(target, { method: 'POST', body: withFile }), isError(TypeError, 'FormData with files'));
  assertEqual(await box.size(), 0, 'nothing half-stored');
  const fields = new FormData();
  fields.append('a', '1');
  await box.send(target, { method: 'POST', body: fields });
  await box.send(target, { method: 'PUT', body: new Blob(['blob']) });
  await box.send(target, { method: 'POST', body: new TextEncoder().encode('bytes').buffer });
  await assertRejects(box.send(42), isError(TypeError, 'outbox.send(input)'));
  assertEqual(await box.size(), 3, 'strings, blobs and buffers are stored');
}, NEEDS);

test('outbox: flush() delivers now and reports; clear() empties; while the server is down flush() ends at the first failure', async () => {
  const run = runId('outbox-flush');
  const { box } = await outboxOf(run, { retry: { backoffMs: 60000, jitter: false } });
  await faults(run, { mode: 'down' });
  await sendMany(box, run, 'g', 3);
  const down = await box.flush();
  assertEqual(down, { delivered: 0, dropped: 0, remaining: 3 });
  await fetch(at(`/__faults?run=${run}`), { method: 'DELETE' });
  // The backoff is a minute long: only flush() makes it go now.
  assertEqual(await box.flush(), { delivered: 3, dropped: 0, remaining: 0 });
  await faults(run, { mode: 'down' });
  await sendMany(box, run, 'h', 2);
  assertEqual(await box.clear(), 2);
  assertEqual(await box.size(), 0);
}, NEEDS);

test('outbox: one per name and client; bad names and options are errors that name them; a closed client has none', async () => {
  const run = runId('outbox-options');
  const { c, box } = await outboxOf(run);
  assert(c.outbox(`test-${run}`) === box, 'the same outbox for the same name');
  await assertRejects(async () => c.outbox(''), isError(TypeError, 'outbox(name)'));
  await assertRejects(async () => c.outbox('x', { maxAgeMs: -1 }), isError(RangeError, 'opts.maxAgeMs'));
  await assertRejects(async () => c.outbox('x', { retry: { factor: 0.5 } }), isError(RangeError, 'opts.retry.factor'));
  await assertRejects(async () => c.outbox('x', { batchSize: 3 }), isError(TypeError, 'batchSize'));
  await assertRejects(client({ background: { whenHidden: 'stop' } }), isError(TypeError, 'background.whenHidden'));
  await assertRejects(client({ background: { whenOnline: 'pause' } }), isError(TypeError, 'background.whenOnline'));
  c.close();
  await assertRejects(async () => c.outbox('y'), isKind('closed'));
  await assertRejects(box.send(at(`/collect/x?run=${run}`), { method: 'POST', body: '{}' }), isError(TypeError, 'closed client'));
}, NEEDS);

test('outbox: a spell of 503s (a second here, minutes in life) and then 200s loses nothing and sends nothing twice', async () => {
  const run = runId('outbox-503-spell');
  const { box, events } = await outboxOf(run, { retry: { backoffMs: 20, maxBackoffMs: 100 } });
  await faults(run, { path: '/collect/s', mode: '503', forMs: 1000 });
  const tickets = await sendMany(box, run, 's', 10);
  const got = await collected(run, 's', 10, 8000);
  assertEqual(got.keys, tickets.map((t) => t.idempotencyKey), 'all, in order');
  assertEqual(got.duplicates, []);
  const retries = events.filter((e) => e.type === 'outbox-retry');
  assert(retries.length >= 5 && retries.every((e) => e.idempotencyKey === tickets[0].idempotencyKey && e.status === 503), `${retries.length} retries, all of the head item`);
  assert(retries.every((e) => e.delayMs <= 100), 'the backoff stays under maxBackoffMs');
}, NEEDS);

test('outbox: batch sends JSON items for one URL as one array request (maxItems, maxBytes, maxWaitMs), one key per item, gzip over compressOver', async () => {
  const run = runId('outbox-batch');
  const { box, events } = await outboxOf(run, { batch: { maxItems: 3, maxBytes: 40, maxWaitMs: 150 } }, { compressOver: 20 });
  await faults(run, { mode: 'down' });
  const tickets = await sendMany(box, run, 'j', 7);
  // Not JSON: goes alone.
  const text = await box.send(at(`/collect/j?run=${run}`), { method: 'POST', body: 'plain' });
  await fetch(at(`/__faults?run=${run}`), { method: 'DELETE' });
  await box.flush();
  const got = await collected(run, 'j', 8);
  assertEqual(got.keys, [...tickets, text].map((t) => t.idempotencyKey), 'every key once, in order');
  const requests = got.requests;
  // {"i":0} is 7 bytes: three make 23 with the commas; maxBytes 40 keeps that, maxItems caps it at 3.
  assertEqual(requests.map((r) => [r.batch, r.items]), [[true, 3], [true, 3], [true, 1], [false, 1]]);
  assertEqual(requests[0].body, [{ i: 0 }, { i: 1 }, { i: 2 }]);
  assertEqual(requests[0].contentEncoding, 'gzip', 'a batch over compressOver is compressed');
  assertEqual(events.filter((e) => e.type === 'outbox-sent').length, 8, 'an event per item');
}, NEEDS);

test('outbox: a batch short of maxItems waits maxWaitMs for more; a failed batch is retried whole', async () => {
  const run = runId('outbox-batch-wait');
  const { box } = await outboxOf(run, { batch: { maxItems: 10, maxWaitMs: 300 }, retry: { backoffMs: 20, jitter: false } });
  await faults(run, { path: '/collect/w', mode: '503', count: 1 });
  const t0 = performance.now();
  const tickets = await sendMany(box, run, 'w', 2);
  const got = await collected(run, 'w', 2, 4000);
  assert(performance.now() - t0 >= 280, 'it waited for more items first');
  assertEqual(got.keys, tickets.map((t) => t.idempotencyKey));
  const s = await stats(run);
  assertEqual(s.arrivals.filter((a) => a.path === '/collect/w').map((a) => a.headers['idempotency-key']), [0, 1].map(() => tickets.map((t) => t.idempotencyKey).join(', ')), 'the same batch twice: once refused, once delivered');
}, NEEDS);
