// 12. Across tabs: N tabs poll the same dashboard (three endpoints) on the same schedule, each
// with its own client, then with `share` (one tab runs every request). Server hits and p95
// latency per call. The "tabs" are N clients in the bench page: Web Locks and BroadcastChannel
// treat them as they treat tabs (the lock is queued, messages cross between channel objects),
// though they share one event loop.
import { NotImplemented, now, percentile, repeat, resetRun, runId, serverStats, url, warmConnections } from '../lib.js';

export const id = 'share';
export const title = 'Across tabs: N tabs polling one dashboard, with and without share';

const ENDPOINTS = ['/api/user', '/api/notifications', '/api/analytics'];

export async function run({ smoke, createClient }) {
  const tabs = 3;
  const rounds = smoke ? 3 : 12;
  const everyMs = 250;
  const reps = smoke ? 1 : 3;
  if (!globalThis.navigator?.locks || typeof BroadcastChannel !== 'function') throw new NotImplemented('no Web Locks or BroadcastChannel in this browser');
  {
    const probe = await createClient({ share: { name: 'bench-probe' } }).catch(() => null);
    if (probe === null || probe.stats().share === undefined) throw new NotImplemented('createClient does not take `share`');
    probe.close();
  }
  const variants = [
    { variant: `${tabs} tabs, a client each`, share: false },
    { variant: `${tabs} tabs, share`, share: true },
  ];
  const samples = new Map(variants.map((v) => [v, []]));
  await repeat(reps, async (rep) => {
    for (const v of variants) {
      await warmConnections();
      const name = `bench-share-${Math.random()}`;
      const clients = [];
      for (let i = 0; i < tabs; i++) clients.push(await createClient(v.share ? { share: { name } } : {}));
      // The lock is granted asynchronously: let the first tab take it before the polls.
      await new Promise((r) => setTimeout(r, 50));
      const run = runId(id);
      const latencies = [];
      const t0 = now();
      for (let round = 0; round < rounds; round++) {
        const started = now();
        await Promise.all(
          clients.flatMap((c) =>
            ENDPOINTS.map((path) => {
              const t = now();
              return c.json(url(path, { run, round }, false)).then(() => latencies.push(now() - t));
            }),
          ),
        );
        const wait = everyMs - (now() - started);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const ms = now() - t0;
      for (const c of clients) c.close();
      const st = await serverStats(run);
      await resetRun(run);
      if (rep >= 0) samples.get(v).push({ hits: st.total, p95: percentile(latencies, 95), calls: latencies.length, ms });
    }
  }, { warmup: smoke ? 0 : 1 });

  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const rows = variants.map((v) => {
    const s = samples.get(v);
    return { variant: v.variant, calls: s[0].calls, hits: median(s.map((x) => x.hits)), p95: median(s.map((x) => x.p95)), runs: s };
  });
  return {
    id,
    title,
    losses: [],
    params: { tabs, rounds, everyMs, endpoints: ENDPOINTS.length, reps },
    columns: [
      { key: 'variant', label: 'variant' },
      { key: 'calls', label: 'calls', digits: 0 },
      { key: 'hits', label: 'server hits (median)', digits: 0 },
      { key: 'p95', label: 'p95 ms per call (median)', digits: 1 },
    ],
    rows,
    goals: [
      {
        text: `with share, the server sees one poll of the dashboard per round, not ${tabs}`,
        value: `${rows[1].hits} hits against ${rows[0].hits} (${rounds} rounds × ${ENDPOINTS.length} endpoints = ${rounds * ENDPOINTS.length})`,
        pass: rows[1].hits <= rounds * ENDPOINTS.length,
        ifMissed:
          'Some polls did not meet in flight: the leading tab runs its own poll at once, while a follower\'s reaches it a BroadcastChannel hop later; a fast answer can be back before the other tabs\' polls arrive, and those go out again.',
      },
    ],
    notes: [
      `${tabs} clients in the bench page stand for ${tabs} tabs (Web Locks queue their lock requests and BroadcastChannel carries messages between them as between tabs); every ${everyMs} ms each polls ${ENDPOINTS.join(', ')}, ${rounds} times.`,
      'Without share each tab has its own limits and sends its own polls; with share one tab runs them all, and identical polls in flight become one request.',
    ],
  };
}
