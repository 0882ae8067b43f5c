// 6. Rate-limited server: /limited/k accepts at most `limit` requests in any sliding `window`
// and answers 429 + Retry-After above it. N requests issued at once. fetchlane with a matching
// client-side `rateLimits` against a bare Promise.all of fetch (every 429 is a failure) and ky
// (its default retry, limit 2, honours Retry-After). The bound is N/limit windows.
import { median, now, repeat, resetRun, runId, serverStats, url, warmConnections } from '../lib.js';

export const id = 'ratelimit';
export const title = 'Rate-limited server (20 requests per second)';

export async function run({ smoke, createClient, peers }) {
  const n = smoke ? 30 : 200;
  const limit = 20;
  const windowMs = 1000;
  const latency = 10;
  const reps = smoke ? 1 : 3;
  const bound = (n / limit) * windowMs;
  const { ky } = peers;

  const variants = [
    {
      variant: 'fetchlane, rateLimits 20/1000 ms',
      library: 'fetchlane',
      go: async (urls) => {
        const client = await createClient({ rateLimits: [{ limit, intervalMs: windowMs }] });
        try {
          const out = await client.allSettled(urls);
          return { failed: out.filter((r) => r.status !== 'fulfilled').length, retried: client.stats().retried };
        } finally {
          client.close();
        }
      },
    },
    {
      variant: 'Promise.all of fetch',
      library: 'fetch',
      go: async (urls) => {
        const out = await Promise.all(urls.map((u) => fetch(u).then(async (r) => (await r.text(), r.ok))));
        return { failed: out.filter((ok) => !ok).length };
      },
    },
    {
      variant: 'ky (default retry: 2, honours Retry-After)',
      library: 'ky',
      go: async (urls) => {
        const out = await Promise.allSettled(urls.map((u) => ky.get(u).json()));
        return { failed: out.filter((r) => r.status !== 'fulfilled').length };
      },
    },
  ];
  const samples = new Map(variants.map((v) => [v, []]));
  await repeat(reps, async (rep) => {
    for (const v of variants) {
      await warmConnections();
      const run = runId(id);
      const urls = Array.from({ length: n }, () => url('/limited/k', { limit, window: windowMs, latency, run }));
      const t0 = now();
      const r = await v.go(urls);
      const ms = now() - t0;
      const st = await serverStats(run);
      await resetRun(run);
      if (rep >= 0) samples.get(v).push({ ms, failed: r.failed, got429: st.statuses['429'] ?? 0, hits: st.total, retried: r.retried });
    }
  }, { warmup: 0 });

  const rows = variants.map((v) => {
    const s = samples.get(v);
    const ms = median(s.map((x) => x.ms));
    return {
      variant: v.variant,
      library: v.library,
      ms,
      boundRatio: bound / ms,
      got429: median(s.map((x) => x.got429)),
      failed: median(s.map((x) => x.failed)),
      hits: median(s.map((x) => x.hits)),
      runs: s,
    };
  });
  const fl = rows[0];
  return {
    id,
    title,
    params: { requests: n, limit, windowMs, latencyMs: latency, reps, boundMs: bound },
    columns: [
      { key: 'variant', label: 'variant' },
      { key: 'ms', label: 'completion ms (median)', digits: 0 },
      { key: 'boundRatio', label: `bound/completion (bound ${bound} ms)`, digits: 3 },
      { key: 'got429', label: '429s from server', digits: 0 },
      { key: 'failed', label: 'failed requests', digits: 0 },
      { key: 'hits', label: 'server hits', digits: 0 },
    ],
    rows,
    goals: [
      { text: 'bound/completion ≥ 0.95', value: fl.boundRatio.toFixed(3), pass: fl.boundRatio >= 0.95, ifMissed: 'The client-side limiter spaced requests wider than the server’s window needs, or a 429 paused the host for the whole Retry-After second (the server rounds up to whole seconds).' },
      { text: '0 failures', value: String(fl.failed), pass: fl.failed === 0, ifMissed: 'Requests ran out of retries on 429: the client-side window and the server’s sliding window disagree at the edges (arrival times differ from start times by the network latency).' },
    ],
    notes: [
      `${n} GETs of /limited/k?limit=${limit}&window=${windowMs} (strict sliding window, per run) issued at once, ${latency} ms latency. ` +
        `A faster-than-bound time for a peer only means it gave up: count its failures. The bound ${bound} ms is N/limit windows; the last window can start at ${bound - windowMs} ms, so a ratio a little above 1 is possible.`,
    ],
  };
}
