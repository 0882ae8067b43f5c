// 1. Scheduler overhead: N no-op tasks queued at once, time until the last one settles, in µs
// per task. fetchlane's `schedule` at concurrency 6 and Infinity against p-limit, p-queue and a
// bare `Promise.all` (the floor: one promise per task, no scheduler).
import { collect, median, now, repeat } from '../lib.js';

export const id = 'overhead';
export const title = 'Scheduler overhead (no-op tasks)';

const noop = () => undefined;

export async function run({ smoke, createClient, peers }) {
  const tasks = smoke ? 200 : 10_000;
  const reps = smoke ? 1 : 7;
  const { pLimit, PQueue } = peers;

  /** Times one batch of `tasks` no-ops through `enqueue`. */
  const batch = async (enqueue) => {
    const t0 = now();
    const all = new Array(tasks);
    for (let i = 0; i < tasks; i++) all[i] = enqueue(noop);
    await Promise.all(all);
    return now() - t0;
  };

  const variants = [];
  for (const concurrency of [6, Infinity]) {
    const label = concurrency === Infinity ? '∞' : String(concurrency);
    variants.push({
      variant: `fetchlane schedule, concurrency ${label}`,
      library: 'fetchlane',
      concurrency: label,
      make: async () => {
        const client = await createClient({ concurrency });
        return { enqueue: (t) => client.schedule(t), done: () => client.close() };
      },
    });
    variants.push({
      variant: `p-limit, concurrency ${label}`,
      library: 'p-limit',
      concurrency: label,
      make: async () => {
        const limit = pLimit(concurrency);
        return { enqueue: (t) => limit(t) };
      },
    });
    variants.push({
      variant: `p-queue, concurrency ${label}`,
      library: 'p-queue',
      concurrency: label,
      make: async () => {
        const queue = new PQueue({ concurrency });
        return { enqueue: (t) => queue.add(t) };
      },
    });
  }
  variants.push({
    variant: 'Promise.all (no scheduler)',
    library: 'plain',
    concurrency: '∞',
    make: async () => ({ enqueue: (t) => Promise.resolve().then(t) }),
  });

  // Interleave the variants rep by rep, so that a slow moment of the machine hits all of them.
  // Steady state: no forced GC between batches (garbage is collected whenever V8 decides).
  const times = new Map(variants.map((v) => [v, []]));
  const afterGc = new Map(variants.map((v) => [v, []]));
  const made = new Map();
  for (const v of variants) made.set(v, await v.make());
  await repeat(reps, async (rep) => {
    for (const v of variants) {
      const ms = await batch(made.get(v).enqueue);
      if (rep >= 0) times.get(v).push(ms);
    }
  }, { gc: false });
  // The same batch right after a full GC: work that a library defers to the collector
  // (e.g. FinalizationRegistry callbacks of wasm-bindgen closures) is paid here.
  if (typeof globalThis.gc === 'function') {
    await repeat(reps, async (rep) => {
      for (const v of variants) {
        await collect();
        const ms = await batch(made.get(v).enqueue);
        if (rep >= 0) afterGc.get(v).push(ms);
      }
    }, { warmup: 0, gc: false });
  }
  for (const v of variants) made.get(v).done?.();

  const rows = variants.map((v) => {
    const ms = median(times.get(v));
    const gcMs = median(afterGc.get(v));
    return { variant: v.variant, library: v.library, concurrency: v.concurrency, ms, usPerTask: (ms * 1000) / tasks, usAfterGc: (gcMs * 1000) / tasks, runs: times.get(v), runsAfterGc: afterGc.get(v) };
  });
  const find = (lib, c) => rows.find((r) => r.library === lib && r.concurrency === c);
  for (const r of rows) {
    const pq = find('p-queue', r.concurrency) ?? find('p-queue', '∞');
    r.vsPQueue = r.usPerTask / pq.usPerTask;
  }
  const goals = ['6', '∞'].map((c) => {
    const fl = find('fetchlane', c);
    const pq = find('p-queue', c);
    return {
      text: `overhead ≤ p-queue (concurrency ${c})`,
      value: `${fl.usPerTask.toFixed(2)} µs vs ${pq.usPerTask.toFixed(2)} µs (×${(fl.usPerTask / pq.usPerTask).toFixed(2)})`,
      pass: fl.usPerTask <= pq.usPerTask,
      ifMissed:
        'Per task fetchlane crosses into wasm and back, creates an AbortSignal and bridges a Rust future to a Promise (wasm-bindgen closures tracked by a FinalizationRegistry), where p-queue only queues a closure. A JS-side fast path for `schedule` when a slot is free, or fewer closures per task, would change it.',
    };
  });
  const losses = [];
  for (const c of ['6', '∞']) {
    const fl = find('fetchlane', c);
    const pl = find('p-limit', c);
    if (fl.usPerTask > pl.usPerTask * 1.1)
      losses.push(
        `Against p-limit (concurrency ${c}): ${fl.usPerTask.toFixed(2)} µs per task vs ${pl.usPerTask.toFixed(2)} µs (×${(fl.usPerTask / pl.usPerTask).toFixed(1)}). p-limit is a counter and a linked queue of closures; fetchlane's per-task wasm crossing, AbortSignal and future-to-Promise bridge cost more. It matters for thousands of tiny tasks, not next to a request that takes milliseconds.`,
      );
  }
  return {
    id,
    title,
    losses,
    params: { tasks, reps },
    columns: [
      { key: 'variant', label: 'variant' },
      { key: 'usPerTask', label: 'µs per task (median)', digits: 2 },
      { key: 'ms', label: `ms per ${tasks} tasks`, digits: 1 },
      { key: 'vsPQueue', label: '× p-queue (same concurrency; lower is better)', digits: 2 },
      { key: 'usAfterGc', label: 'µs per task, batch right after a full GC', digits: 2 },
    ],
    rows,
    goals,
    notes: [
      'Each batch queues all tasks synchronously and awaits them all; variants are interleaved within each repetition; one warm-up batch per variant is discarded; no forced GC in the main column.',
      'Last column: the same batch timed right after gc() — it also pays for what the previous batch left to the garbage collector.',
    ],
  };
}
