// 9. Adaptive concurrency: a server with a capacity. /api/capacity counts its requests in flight
// per run (n, this one included): above `refuse` it answers 429 + Retry-After: 1 at once, else it
// takes base × max(1, n / knee) ms. N GETs (unique URLs, no cache) through fetchlane with a fixed
// perHost of 1, 2, 4 and 6 (concurrency 6) against `adaptive: true` (perHost 6, so the limit moves
// between 1 and 6). Every variant uses the default retry (2 retries; a 429 pauses the host for its
// Retry-After second). One run per variant: the fixed perHost 6 variant alone takes tens of seconds.
import { median, now, ORIGIN, resetRun, runId, serverStats, url, warmConnections } from '../lib.js';

export const id = 'adaptive';
export const title = 'Adaptive concurrency';

export async function run({ smoke, createClient }) {
  const n = smoke ? 12 : 200;
  const knee = 2;
  const refuse = 5;
  const base = 20;
  const concurrency = 6;
  const host = new URL(ORIGIN).host;

  const variants = [
    ...[1, 2, 4, 6].map((perHost) => ({ variant: `fixed perHost ${perHost}`, options: { concurrency, perHost } })),
    { variant: 'adaptive: true (perHost 6)', options: { concurrency, perHost: 6, adaptive: true }, adaptive: true },
  ];

  const rows = [];
  for (const v of variants) {
    await warmConnections();
    const run = runId(id);
    const urls = Array.from({ length: n }, () => url('/api/capacity', { knee, refuse, base, run }));
    const client = await createClient(v.options);
    const limits = [];
    const off = client.on('limit', (e) => {
      if (e.host === host) limits.push({ t: e.time, limit: e.limit, reason: e.reason });
    });
    let out;
    let ms;
    let finalLimit;
    try {
      const t0 = now();
      out = await client.allSettled(urls);
      ms = now() - t0;
      const hosts = client.stats().hosts ?? {};
      finalLimit = (hosts[host] ?? Object.values(hosts)[0])?.limit;
    } finally {
      off();
      client.close();
    }
    if (out.length !== n) throw new Error(`${v.variant}: ${out.length} of ${n} requests settled`);
    const st = await serverStats(run);
    await resetRun(run);
    const ls = limits.map((e) => e.limit);
    const reasons = {};
    for (const e of limits) reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
    rows.push({
      variant: v.variant,
      library: 'fetchlane',
      ms,
      got429: st.statuses?.['429'] ?? 0,
      failed: out.filter((r) => r.status !== 'fulfilled').length,
      hits: st.total,
      peak: st.capacityPeak,
      limitEvents: v.adaptive ? limits.length : undefined,
      limitMedian: v.adaptive && ls.length ? median(ls) : undefined,
      limitRange: v.adaptive && ls.length ? `${Math.min(...ls)}–${Math.max(...ls)}` : v.adaptive ? 'no events' : undefined,
      finalLimit,
      reasons: v.adaptive ? reasons : undefined,
      limits: v.adaptive ? limits : undefined,
    });
  }
  const fixed = rows.filter((r) => r.variant.startsWith('fixed'));
  const best = fixed.reduce((a, b) => (b.ms < a.ms ? b : a));
  for (const r of rows) r.vsBest = r.ms / best.ms;
  const ad = rows[rows.length - 1];

  return {
    id,
    title,
    params: { requests: n, knee, refuse, baseMs: base, concurrency, runs: 1 },
    columns: [
      { key: 'variant', label: 'variant' },
      { key: 'ms', label: 'total ms', digits: 0 },
      { key: 'vsBest', label: `÷ best fixed (${best.variant.replace('fixed ', '')})`, digits: 2 },
      { key: 'got429', label: '429s from server', digits: 0 },
      { key: 'failed', label: 'failed requests', digits: 0 },
      { key: 'hits', label: 'server hits', digits: 0 },
      { key: 'peak', label: 'server peak in flight', digits: 0 },
      { key: 'limitEvents', label: 'limit events', digits: 0 },
      { key: 'limitMedian', label: 'limit (median of events)', digits: 1 },
      { key: 'limitRange', label: 'limit range' },
      { key: 'finalLimit', label: 'final stats() limit', digits: 0 },
    ],
    rows,
    // The test (tests/js/adaptive.test.js) asserts what adaptive does; how long it takes
    // against the best fixed limit moves with the machine's load, so it is this goal.
    goals: [
      {
        text: 'adaptive within 1.25× of the best fixed limit, with ≤ 5 % 429s',
        value: `${Math.round(ad.ms)} ms against ${Math.round(best.ms)} ms (${best.variant}; ×${ad.vsBest.toFixed(2)}), ${ad.got429} 429s of ${n}`,
        pass: ad.vsBest <= 1.25 && ad.got429 <= 0.05 * n,
        ifMissed: 'Each 429 the adaptive limit draws while probing above the refusal threshold pauses the host for a second (Retry-After: 1).',
      },
    ],
    notes: [
      `${n} GETs of /api/capacity?knee=${knee}&refuse=${refuse}&base=${base} issued at once (unique URLs, cache off, default retry), each variant with its own run id. ` +
        `The server answers in ${base} ms × max(1, n/${knee}) with n of its requests in flight (n ≤ ${knee}: ${base} ms; ${refuse}: ${(base * refuse) / knee} ms) and 429 + Retry-After: 1 when n > ${refuse}, so the throughput is flat from ${knee} to ${refuse} in flight (${((1000 * knee) / base).toFixed(0)} requests/s) and any 429 costs the host a 1 s pause.`,
      '429s, hits and peak come from the server (`/__stats`: `statuses["429"]`, `total`, `capacityPeak`; the peak counts a refused arrival). "failed" = requests that still failed after the default 2 retries. ' +
        'Limit columns: the `limit` events for the host (the adaptive limit starts at min(4, max) = 4 without an event) and `stats().hosts[host].limit` after the run (`perHost` for the fixed variants).',
      `Adaptive limit changes by reason: ${Object.entries(ad.reasons ?? {}).map(([k, c]) => `${k} ${c}`).join(', ') || 'none'}.`,
      'One run per variant (no repetitions, no warm-up), so the times carry single-run noise.',
    ],
  };
}
