// Shared helpers for the in-page scenarios: timing, statistics, unique URLs, server stats, and
// the "feature not implemented yet" detection.

export const ORIGIN = location.origin;

let counter = 0;
/** A process-wide counter; appended as `n=` so that no two requests share a URL. */
export const next = () => ++counter;

/** A fresh `run=` id for the server's accounting. */
export const runId = (name) => `bench-${name}-${Date.now().toString(36)}-${next().toString(36)}`;

/** Absolute URL for `path` with `params`, plus a unique `n=` unless `unique` is false. */
export function url(path, params = {}, unique = true) {
  const u = new URL(path, ORIGIN);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, String(v));
  if (unique) u.searchParams.set('n', String(next()));
  return u.href;
}

/** The server's `/__stats` document for one run (uncounted, never cached). */
export async function serverStats(run) {
  const r = await fetch(`${ORIGIN}/__stats?run=${encodeURIComponent(run)}`, { cache: 'no-store' });
  if (!r.ok) throw new Error(`/__stats answered ${r.status}`);
  return r.json();
}

/** Drops one run's accounting on the server (keeps the server's memory flat across reps). */
export async function resetRun(run) {
  await fetch(`${ORIGIN}/__reset?run=${encodeURIComponent(run)}`, { method: 'POST', cache: 'no-store' });
}

export const now = () => performance.now();
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Full GC when the page was started with --js-flags=--expose-gc; else a no-op. */
export async function collect() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    await sleep(0);
    globalThis.gc();
  }
}

export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Per-variant medians of server hits and time, and each variant's time over fetchlane's (row 0). */
export function hitRows(variants, samples) {
  const rows = variants.map((v) => ({
    variant: v.variant,
    library: v.library,
    hits: median(samples.get(v).map((s) => s.hits)),
    ms: median(samples.get(v).map((s) => s.ms)),
    runs: samples.get(v),
  }));
  for (const r of rows) r.vsFetchlane = r.ms / rows[0].ms;
  return rows;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(xs, p) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const rank = Math.min(v.length, Math.max(1, Math.ceil((p / 100) * v.length)));
  return v[rank - 1];
}

/**
 * Runs `fn` `warmup` times (rep < 0) and then `reps` times; returns the results. With `gc` a
 * full GC runs before each repetition (where the page allows it).
 */
export async function repeat(reps, fn, { warmup = 1, gc = true } = {}) {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const out = [];
  for (let i = 0; i < reps; i++) {
    if (gc) await collect();
    out.push(await fn(i));
  }
  return out;
}

/** Median of `key` over rep results (objects). */
export const med = (results, key) => median(results.map((r) => r[key]));

/**
 * Opens the 6 keep-alive connections to the server before a timed run, so that no variant pays
 * for connection set-up that another one does not.
 */
export async function warmConnections(n = 6) {
  await Promise.all(
    Array.from({ length: n }, () => fetch(url('/status/204', { latency: 5 }), { cache: 'no-store' })),
  );
}

/**
 * Median time of one plain fetch (+ body) of `path` with `params`, alone, over `k` tries: what
 * one request really costs on this machine (server timer slack, browser IPC), for the
 * "calibrated" bounds next to the ideal ones.
 */
export async function roundTrip(path, params = {}, k = 15) {
  const xs = [];
  for (let i = 0; i < k; i++) {
    const t0 = now();
    await (await fetch(url(path, params))).text();
    xs.push(now() - t0);
  }
  return median(xs);
}

/** Thrown by a probe to turn a scenario (or part of one) into `skipped: not implemented yet`. */
export class NotImplemented extends Error {
  constructor(detail) {
    super(`not implemented yet${detail ? ` (${detail})` : ''}`);
    this.detail = detail;
  }
}

/** Does this error say "this feature does not exist yet" rather than "this is broken"? */
export function looksUnimplemented(err) {
  const msg = String(err && err.message ? err.message : err);
  return /not (available|implemented|supported)|yet\b|is not a function/i.test(msg);
}

export const skipped = (id, title, detail) => ({
  id,
  title,
  skipped: 'not implemented yet',
  detail,
  columns: [],
  rows: [],
  goals: [],
  notes: [],
});

/** The client module's `createClient`, loaded once. */
let fetchlane;
export async function loadFetchlane() {
  fetchlane ??= import('/pkg/index.js');
  return fetchlane;
}
