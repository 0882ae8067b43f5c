// 11. What observability costs per request: `timing` off and on (User Timing measures), with
// and without a `settled` listener (which builds each event's `timing` object). The transport
// answers from memory (the `fetch` option), so the numbers are the pipeline's own work, not
// the network's noise.
import { median, repeat, url } from '../lib.js';

export const id = 'timing';
export const title = 'Observability overhead (`timing`, settled timings)';

export async function run({ smoke, createClient }) {
  const requests = smoke ? 100 : 2000;
  const reps = smoke ? 1 : 7;
  const body = '{"ok":true}';
  const fetch = () => Promise.resolve(new Response(body, { headers: { 'content-type': 'application/json', 'content-length': String(body.length) } }));
  const urls = Array.from({ length: requests }, (_, i) => url('/bench/timing', { i }, false));

  const variants = [
    { variant: 'timing off, no listener', timing: false, listen: false },
    { variant: 'timing off, a settled listener', timing: false, listen: true },
    { variant: 'timing on, no listener', timing: true, listen: false },
    { variant: 'timing on, a settled listener', timing: true, listen: true },
  ];
  const times = new Map(variants.map((v) => [v, []]));
  const clients = new Map();
  for (const v of variants) {
    const client = await createClient({ fetch, timing: v.timing, concurrency: 6 });
    let seen = 0;
    if (v.listen) client.on('settled', (e) => (seen += e.timing.networkMs >= 0 ? 1 : 0));
    clients.set(v, client);
  }
  await repeat(reps, async (rep) => {
    for (const v of variants) {
      const client = clients.get(v);
      const t0 = performance.now();
      await Promise.all(urls.map((u) => client.json(u)));
      const ms = performance.now() - t0;
      // The measures of a run would otherwise pile up in the performance timeline.
      performance.clearMeasures();
      if (rep >= 0) times.get(v).push(ms);
    }
  });
  for (const client of clients.values()) client.close();

  const rows = variants.map((v) => ({ variant: v.variant, ms: median(times.get(v)), runs: times.get(v) }));
  for (const r of rows) r.usPerRequest = (r.ms * 1000) / requests;
  for (const r of rows) r.extraUs = r.usPerRequest - rows[0].usPerRequest;
  const full = rows[3];
  return {
    id,
    title,
    losses: [],
    params: { requests, reps },
    columns: [
      { key: 'variant', label: 'variant' },
      { key: 'usPerRequest', label: 'µs per request (median)', digits: 1 },
      { key: 'extraUs', label: 'µs over timing off, no listener', digits: 1 },
      { key: 'ms', label: `ms per ${requests} requests`, digits: 1 },
    ],
    rows,
    goals: [],
    notes: [
      `${requests} \`json()\` calls at concurrency 6 through a \`fetch\` option that answers from memory, so that the pipeline's own cost is what is timed; variants interleaved within each repetition, one warm-up discarded.`,
      'With `timing` on, every request adds a `fetchlane:queue` and a `fetchlane:network` measure (the browser structured-clones each one\'s `detail`); they are cleared after each run. The issue set no target for this cost; the figure is reported as measured.',
    ],
  };
}
