// 8. Memory: N requests through one client, in batches. After a warm-up batch and after each
// batch (everything settled, full GC): the wasm linear memory size and the JS heap. The goal
// is flat: no growth with the number of requests served.
//   wasm memory: wasm-bindgen's `--target web` glue keeps the instance in module scope; its
//     default export (the init function) resolves to the instance's exports once loaded, so
//     importing the same /pkg/fetchlane.js module that the entry uses reaches `memory` without
//     any new API. Linear memory never shrinks, so "flat" means "does not grow".
//   JS heap: performance.memory.usedJSHeapSize with --enable-precise-memory-info, after gc()
//     (--js-flags=--expose-gc).
import { collect, now, resetRun, runId, url, warmConnections } from '../lib.js';
import initWasm from '/pkg/fetchlane.js';

export const id = 'memory';
export const title = 'Memory over many requests';

export async function run({ smoke, createClient }) {
  const n = smoke ? 2_000 : 100_000;
  const batch = smoke ? 500 : 5_000;
  const warmup = smoke ? 500 : 5_000;
  const concurrency = 6;
  const wasm = await initWasm();
  const wasmBytes = () => (wasm && wasm.memory ? wasm.memory.buffer.byteLength : NaN);
  const heapBytes = () => (performance.memory ? performance.memory.usedJSHeapSize : NaN);
  const run = runId(id);
  const client = await createClient({ concurrency, perHost: concurrency, retry: 0 });

  let failed = 0;
  const doBatch = async (count) => {
    const statuses = await Promise.all(
      Array.from({ length: count }, () => client.fetch(url('/status/204', { run })).then((r) => r.status, () => 0)),
    );
    failed += statuses.filter((s) => s !== 204).length;
    await client.onIdle();
    await resetRun(run);
  };
  const snapshot = async (done) => {
    await collect();
    return { requests: done, wasm: wasmBytes(), heap: heapBytes() };
  };

  await warmConnections();
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
  const left = { active: client.activeCount, pending: client.pendingCount, stats: client.stats() };
  client.close();

  const first = series[0];
  const last = series[series.length - 1];
  const maxOf = (k) => Math.max(...series.map((s) => s[k]));
  const rows = [
    { variant: 'wasm linear memory', before: first.wasm, after: last.wasm, max: maxOf('wasm'), growth: last.wasm - first.wasm, perRequest: (last.wasm - first.wasm) / n },
    { variant: 'JS heap (usedJSHeapSize)', before: first.heap, after: last.heap, max: maxOf('heap'), growth: last.heap - first.heap, perRequest: (last.heap - first.heap) / n },
  ];
  const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
  return {
    id,
    title,
    params: { requests: n, batch, warmup, concurrency, requestsPerSecond: n / seconds, seconds },
    columns: [
      { key: 'variant', label: 'memory' },
      { key: 'before', label: 'after warm-up', bytes: true },
      { key: 'after', label: `after ${n} requests`, bytes: true },
      { key: 'max', label: 'max seen', bytes: true },
      { key: 'growth', label: 'growth', bytes: true },
      { key: 'perRequest', label: 'growth B/request', digits: 2 },
    ],
    rows,
    series,
    goals: [
      { text: 'wasm memory flat (no growth after warm-up)', value: kib(rows[0].growth), pass: rows[0].growth <= 0 },
      { text: 'JS heap flat (< 1 B per request)', value: `${kib(rows[1].growth)} (${rows[1].perRequest.toFixed(2)} B/request)`, pass: rows[1].perRequest < 1 },
      { text: 'every request succeeded, nothing left queued', value: `${failed} failed, ${left.active} active, ${left.pending} pending`, pass: failed === 0 && left.active === 0 && left.pending === 0 },
    ],
    notes: [
      `${n} GETs of /status/204 (unique URLs) through one client at concurrency ${concurrency}, in batches of ${batch}, after a ${warmup}-request warm-up; ${(n / seconds).toFixed(0)} requests/s.`,
      Number.isNaN(first.wasm) ? 'The wasm memory could not be reached: JS heap only.' : 'Wasm memory read from the glue module’s instance (import of /pkg/fetchlane.js).',
    ],
  };
}
