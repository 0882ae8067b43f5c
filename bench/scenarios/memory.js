// 8. Memory: many requests through one client, in batches. After a warm-up batch and after each
// batch (everything settled, full GC): the wasm linear memory size and the JS heap. The goal
// is flat: no growth with the number of requests served.
//   wasm memory: `stats().wasmMemory`, the byte length of the package's linear memory.
//     Linear memory never shrinks, so "flat" means "does not grow".
//   JS heap: performance.memory.usedJSHeapSize with --enable-precise-memory-info, after gc()
//     (--js-flags=--expose-gc).
import { collect, now, resetRun, runId, sleep, url, warmConnections } from '../lib.js';

export const id = 'memory';
export const title = 'Memory over many requests';

/** Runs `n` requests through `client` in batches; snapshots after the warm-up and each batch. */
async function measure({ client, n, batch, warmup, makeUrl, wasmBytes, heapBytes, run }) {
  let failed = 0;
  const doBatch = async (count) => {
    const statuses = await Promise.all(
      Array.from({ length: count }, () => client.fetch(makeUrl()).then((r) => r.status, () => 0)),
    );
    failed += statuses.filter((s) => s !== 204).length;
    await client.onIdle();
    await resetRun(run);
  };
  const snapshot = async (done) => {
    await collect();
    await sleep(20); // let finalizers that the GC queued run, then collect what they freed
    await collect();
    return { requests: done, wasm: wasmBytes(), heap: heapBytes() };
  };
  const initial = await snapshot(-warmup);
  await doBatch(warmup);
  const series = [await snapshot(0)];
  const t0 = now();
  for (let done = 0; done < n; ) {
    const count = Math.min(batch, n - done);
    await doBatch(count);
    done += count;
    series.push(await snapshot(done));
  }
  const seconds = (now() - t0) / 1000;
  return { initial, series, seconds, failed, active: client.activeCount, pending: client.pendingCount };
}

export async function run({ smoke, createClient }) {
  const concurrency = 6;
  // A client that stays open for the whole run, only to read the package's memory size.
  const probe = await createClient();
  const wasmBytes = () => probe.stats().wasmMemory ?? NaN;
  const heapBytes = () => (performance.memory ? performance.memory.usedJSHeapSize : NaN);
  const run = runId(id);
  const parts = [
    {
      name: 'in-page transport',
      n: smoke ? 2_000 : 100_000,
      batch: smoke ? 500 : 10_000,
      warmup: smoke ? 500 : 10_000,
      options: { fetch: () => Promise.resolve(new Response(null, { status: 204 })) },
      makeUrl: () => url('/status/204', { run }),
    },
    {
      name: 'real network',
      n: smoke ? 300 : 2_000,
      batch: smoke ? 100 : 500,
      warmup: smoke ? 100 : 500,
      options: {},
      makeUrl: () => url('/status/204', { run }),
    },
  ];
  await warmConnections();
  const rows = [];
  const goals = [];
  const params = { concurrency };
  const series = {};
  const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
  for (const part of parts) {
    const client = await createClient({ concurrency, perHost: concurrency, retry: 0, ...part.options });
    const m = await measure({ client, ...part, wasmBytes, heapBytes, run });
    client.close();
    const first = m.series[0];
    const last = m.series[m.series.length - 1];
    const maxOf = (k) => Math.max(...m.series.map((s) => s[k]));
    const mid = m.series[Math.floor((m.series.length - 1) / 2)];
    const wasmRow = { variant: `${part.name}: wasm linear memory`, before: first.wasm, after: last.wasm, max: maxOf('wasm'), growth: last.wasm - first.wasm, perRequest: (last.wasm - first.wasm) / part.n };
    const heapRow = { variant: `${part.name}: JS heap (usedJSHeapSize)`, before: first.heap, after: last.heap, max: maxOf('heap'), growth: last.heap - first.heap, perRequest: (last.heap - first.heap) / part.n };
    wasmRow.secondHalf = last.wasm - mid.wasm;
    heapRow.secondHalf = last.heap - mid.heap;
    // The first batch grows the wasm heap to hold a whole batch queued at once: per queued request.
    wasmRow.perQueued = (first.wasm - m.initial.wasm) / part.warmup;
    rows.push(wasmRow, heapRow);
    series[part.name] = m.series;
    params[`${part.name} requests`] = part.n;
    params[`${part.name} requests/s`] = Math.round(part.n / m.seconds);
    goals.push(
      {
        text: `${part.name}: wasm memory flat (no growth over the second half of the run)`,
        value: `${kib(wasmRow.secondHalf)} in the second half, ${kib(wasmRow.growth)} in all after warm-up`,
        pass: wasmRow.secondHalf <= 0,
        ifMissed: 'Linear memory never shrinks, but it should stop growing once the allocator has the blocks a batch needs; growth late in the run means something is kept per request.',
      },
      {
        text: `${part.name}: JS heap flat (growth < 1 B per request)`,
        value: `${kib(heapRow.growth)} (${heapRow.perRequest.toFixed(2)} B/request)`,
        pass: heapRow.perRequest < 1,
        ifMissed: 'JS objects kept per request (closures, listeners, Response clones) that the GC cannot free.',
      },
      { text: `${part.name}: every request succeeded, nothing left queued`, value: `${m.failed} failed, ${m.active} active, ${m.pending} pending`, pass: m.failed === 0 && m.active === 0 && m.pending === 0 },
    );
  }
  await resetRun(run);
  const [a, b] = parts;
  const perQueued = rows[0].perQueued;
  const losses = [];
  if (perQueued > 1024)
    losses.push(
      `A deep queue is expensive in wasm memory: ${a.warmup} requests queued at once grew the linear memory by ${((perQueued * a.warmup) / 2 ** 20).toFixed(1)} MiB (${perQueued.toFixed(0)} B per queued request), and linear memory never shrinks, so the page keeps that high-water mark. A JS scheduler keeps a closure per queued task. What would change it: a smaller per-request record while queued (keep the input and init as one JS handle until the request starts), or admitting requests into wasm only as slots free up.`,
    );
  probe.close();
  return {
    id,
    title,
    params,
    columns: [
      { key: 'variant', label: 'memory' },
      { key: 'before', label: 'after warm-up', bytes: true },
      { key: 'after', label: 'after all requests', bytes: true },
      { key: 'max', label: 'max seen', bytes: true },
      { key: 'growth', label: 'growth', bytes: true },
      { key: 'perRequest', label: 'growth B/request', digits: 2 },
      { key: 'secondHalf', label: 'growth, 2nd half', bytes: true },
      { key: 'perQueued', label: 'wasm B per queued request (warm-up batch)', digits: 0 },
    ],
    rows,
    series,
    goals,
    losses,
    notes: [
      `${a.n} requests through one client at concurrency ${concurrency} with the \`fetch\` option set to an in-page transport that answers 204 at once: the whole fetchlane pipeline (queue, slots, attempt, classification, stats, events) without the browser's network stack, which on this machine serves only a few hundred requests per second. Batches of ${a.batch} after a ${a.warmup}-request warm-up.`,
      `Then ${b.n} real GETs of /status/204 (unique URLs) through a second client, batches of ${b.batch} after a ${b.warmup}-request warm-up.`,
      'wasm B per queued request: how much the first (warm-up) batch, queued all at once, grew the linear memory, divided by its size — the cost of a deep queue.',
      'Snapshots after each batch has settled, after gc() twice around a short pause (so that finalizers queued by the first collection have run).',
      Number.isNaN(wasmBytes()) ? 'The wasm memory could not be reached: JS heap only.' : 'Wasm memory read from `stats().wasmMemory`.',
    ],
  };
}
