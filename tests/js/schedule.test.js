// schedule(task): p-limit style work under the same slots as requests.
import { assert, assertEqual, assertRejects, at, runId, sleep, stats, test } from './harness.js';
import { client, isKind, url } from './lib.js';

test('schedule: a task that throws 42 synchronously rejects with exactly 42', async () => {
  const c = await client();
  await assertRejects(
    c.schedule(() => {
      throw 42;
    }),
    (e) => assertEqual(e, 42),
  );
});

test('schedule: a rejected promise with a custom Error rejects with that same object', async () => {
  class Custom extends Error {}
  const mine = new Custom('mine');
  const c = await client();
  await assertRejects(
    c.schedule(async () => {
      await sleep(5);
      throw mine;
    }),
    (e) => assert(e === mine, `expected the very same error, got ${e && e.name}: ${e && e.message}`),
  );
  await assertRejects(c.schedule(() => Promise.reject(mine)), (e) => assert(e === mine, 'same object'));
});

test('schedule: the value passes through (sync, async, objects by identity)', async () => {
  const c = await client();
  const obj = { a: 1 };
  assertEqual(await c.schedule(() => 7), 7);
  assertEqual(await c.schedule(async () => 'x'), 'x');
  assert((await c.schedule(() => obj)) === obj, 'same object');
  assertEqual(await c.schedule(() => undefined), undefined);
  const thenable = { then: (resolve) => resolve('thenable') };
  assertEqual(await c.schedule(() => thenable), 'thenable');
});

test('schedule: tasks and requests share slots', async () => {
  const run = runId('shared-slots');
  const c = await client({ concurrency: 2 });
  const ends = [];
  // Each task is a raw fetch; X-Served-At is when the server answered it (server clock).
  const task = (i) => async () => {
    const r = await fetch(at(url('/echo', run, { latency: 300, task: i })));
    ends.push(Number(r.headers.get('x-served-at')));
    await r.text();
    return i;
  };
  const tasks = [c.schedule(task(0)), c.schedule(task(1))];
  const req = c.fetch(url('/status/200', run));
  assertEqual([c.activeCount, c.pendingCount], [2, 1], 'two tasks run, the request waits');
  assertEqual(await Promise.all(tasks), [0, 1]);
  assertEqual((await req).status, 200);
  const s = await stats(run);
  const arrival = s.arrivals.find((a) => a.path === '/status/200');
  assert(arrival, 'the request reached the server');
  const firstEnd = Math.min(...ends);
  assert(
    arrival.t >= firstEnd,
    `the request arrived at ${arrival.t.toFixed(1)}, before the first task ended at ${firstEnd.toFixed(1)} (server clock)`,
  );
  assertEqual(s.peak, 2, 'server peak');
});

test("schedule: the task's signal is an AbortSignal that aborts with the caller's signal", async () => {
  const c = await client();
  const controller = new AbortController();
  let given = null;
  let abortedAt = null;
  const p = c.schedule(
    (signal) => {
      given = signal;
      return new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          abortedAt = performance.now();
          resolve('saw abort');
        });
      });
    },
    { signal: controller.signal },
  );
  await sleep(30);
  assert(given instanceof AbortSignal, 'the task got an AbortSignal');
  assert(!given.aborted, 'not aborted yet');
  const t0 = performance.now();
  controller.abort(new Error('stop'));
  await p.catch(() => {});
  assert(given.aborted, 'the task signal aborted');
  assert(abortedAt !== null && abortedAt - t0 < 200, 'the task saw the abort at once');
});

test('schedule: a queued task aborted by its signal rejects with kind abort and never runs', async () => {
  const c = await client({ concurrency: 1 });
  const blocker = c.schedule(() => sleep(150));
  const controller = new AbortController();
  let ran = false;
  const p = c.schedule(
    () => {
      ran = true;
    },
    { signal: controller.signal, lane: 'critical' },
  );
  controller.abort();
  await assertRejects(p, isKind('abort'));
  await blocker;
  await c.onIdle();
  assert(!ran, 'the task never ran');
});

test('schedule: a non-function task rejects with a TypeError', async () => {
  const c = await client();
  await assertRejects(c.schedule(42), (e) => assert(e instanceof TypeError, `got ${e && e.name}`));
});

// p-limit's "propagates async execution context properly", rewritten for `client.schedule`;
// then the same for a request's transport, where fetch instrumentation looks for its span.
test(
  "schedule: a queued task runs in its caller's async context (AsyncLocalStorage)",
  async () => {
    const { AsyncLocalStorage } = await import('node:async_hooks');
    const c = await client({ concurrency: 2 });
    const store = new AsyncLocalStorage();
    const seen = [];
    const checkId = async (id) => {
      await Promise.resolve();
      seen.push([id, store.getStore()?.id]);
    };
    const startContext = async (id) => store.run({ id }, () => c.schedule(() => checkId(id)));
    await Promise.all(Array.from({ length: 100 }, async (_, id) => startContext(id)));
    assertEqual(seen.length, 100, 'tasks run');
    for (const [id, got] of seen) assertEqual(got, id, `task ${id} saw the context of task ${got}`);
  },
  { needs: ['process'] },
);

test(
  "schedule: a queued request's transport is called in its caller's async context",
  async () => {
    const { AsyncLocalStorage } = await import('node:async_hooks');
    const store = new AsyncLocalStorage();
    const seen = [];
    const transport = (request) => {
      seen.push([new URL(request.url).searchParams.get('i'), store.getStore()?.i]);
      return fetch(request);
    };
    const c = await client({ concurrency: 1, fetch: transport, cache: false });
    const run = runId('als');
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.run({ i: String(i) }, () => c.fetch(url('/echo', run, { i })))),
    );
    assertEqual(seen.length, 10, 'attempts');
    for (const [i, got] of seen) assertEqual(got, i, `request ${i} was sent from the context of ${got}`);
  },
  { needs: ['process'] },
);
