// close(): in-flight and queued work is aborted, later calls reject with kind `closed`.
import { assert, assertEqual, assertRejects, runId, sleep, stats, statsWhen, test } from './harness.js';
import { client, isKind, url } from './lib.js';

test('close: in-flight and queued requests reject with kind closed', async () => {
  const run = runId('close-inflight');
  const c = await client({ concurrency: 1 });
  const running = c.fetch(url('/hang', run));
  const queued = c.fetch(url('/status/200', run));
  await statsWhen(run, (s) => s.total === 1);
  const t0 = performance.now();
  c.close();
  await assertRejects(running, isKind('closed'));
  await assertRejects(queued, isKind('closed'));
  assert(performance.now() - t0 < 500, 'they reject at once');
  await sleep(50);
  const s = await stats(run);
  assertEqual(s.hits['/status/200'] ?? 0, 0, 'the queued request never reached the server');
  assertEqual([c.activeCount, c.pendingCount], [0, 0]);
});

test('close: later fetch, json, text, all, schedule reject with kind closed', async () => {
  const run = runId('close-later');
  const c = await client();
  c.close();
  c.close(); // twice is harmless
  await assertRejects(c.fetch(url('/status/200', run)), isKind('closed'));
  await assertRejects(c.json(url('/echo', run)), isKind('closed'));
  await assertRejects(c.text(url('/echo', run)), isKind('closed'));
  await assertRejects(c.all([url('/echo', run)]), isKind('closed'));
  let ran = false;
  await assertRejects(
    c.schedule(() => {
      ran = true;
    }),
    isKind('closed'),
  );
  assert(!ran, 'the task never ran');
  const s = await stats(run);
  assertEqual(s.total, 0, 'nothing reached the server');
});

test('close: a running schedule task sees its signal abort', async () => {
  const c = await client();
  let seen = null;
  const p = c.schedule(
    (signal) =>
      new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          seen = true;
          resolve('stopped');
        });
      }),
  );
  await sleep(20);
  c.close();
  await p.catch(() => {});
  assert(seen !== null, 'the task signal aborted on close');
});
