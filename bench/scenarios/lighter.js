// 10. Lighter requests. (a) Field selection: three panels of a product page each need a slice of
// /api/product/42 (card: name, brand, rating; price box: price, currency; stock badge: stock),
// asked in one tick: three full requests (fetch per panel), three requests with their own
// fields, and fetchlane's `fields` (one request for the union). Requests and response bytes as
// the server counted them. (b) Compression: JSON bodies of 1, 10 and 100 KiB POSTed with
// `compress: 'gzip'` and `'deflate'`; the server reports the bytes it received and decoded.
import { now, resetRun, runId, serverStats, url } from '../lib.js';

export const id = 'lighter';
export const title = 'Lighter requests: fields and compressed bodies';

const PANELS = { card: ['name', 'brand', 'rating'], price: ['price', 'currency'], stock: ['stock'] };

/** A JSON text of about `kib` KiB with the repetition analytics payloads have. */
function payload(kib) {
  const rows = [];
  let text = '[]';
  for (let i = 0; text.length < kib * 1024; i++) {
    rows.push({ id: i, event: i % 3 ? 'view' : 'click', path: `/product/${i % 50}`, ms: (i * 37) % 900 });
    text = JSON.stringify(rows);
  }
  return text;
}

/** Response body bytes of a run's arrivals, as the client read them. */
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

export async function run({ smoke, createClient }) {
  const rows = [];
  // (a) fields
  const variants = [
    ['fetch per panel, full object', (c, u) => Object.keys(PANELS).map(() => c.json(u))],
    ['fetch per panel, own fields', (c, u) => Object.values(PANELS).map((f) => c.json(`${u}&fields=${[...f].sort().join(',')}`))],
    ['fetchlane fields (one tick)', (c, u) => Object.values(PANELS).map((f) => c.json(u, { fields: f }))],
  ];
  for (const [variant, go] of variants) {
    const run = runId(id);
    const client = await createClient({ dedupe: variant.startsWith('fetchlane') });
    const before = client.stats().bytes;
    try {
      const t0 = now();
      const bodies = await Promise.all(go(client, url('/api/product/42', { run }, false)));
      const ms = now() - t0;
      const st = await serverStats(run);
      rows.push({
        part: 'fields',
        variant,
        requests: st.total,
        bytes: sum(bodies.map((b) => JSON.stringify(b).length)),
        wire: client.stats().bytes - before,
        ms,
      });
    } finally {
      client.close();
      await resetRun(run);
    }
  }
  // (b) compression
  const client = await createClient({});
  try {
    for (const kib of smoke ? [1] : [1, 10, 100]) {
      const body = payload(kib);
      for (const format of ['gzip', 'deflate']) {
        const run = runId(id);
        const t0 = now();
        const echo = await client.json(url('/echo', { run }), { method: 'POST', body, compress: format });
        const ms = now() - t0;
        if (echo.bytesDecoded !== new TextEncoder().encode(body).length) throw new Error(`${format} ${kib} KiB: decoded ${echo.bytesDecoded} bytes`);
        rows.push({
          part: 'compress',
          variant: `${kib} KiB JSON, ${format}`,
          requests: 1,
          bytes: echo.bytesDecoded,
          wire: echo.bytesReceived,
          ratio: echo.bytesReceived / echo.bytesDecoded,
          ms,
        });
        await resetRun(run);
      }
    }
  } finally {
    client.close();
  }
  return {
    id,
    title,
    params: { panels: Object.keys(PANELS).length, compressedSizesKiB: smoke ? [1] : [1, 10, 100] },
    columns: [
      { key: 'part', label: 'part' },
      { key: 'variant', label: 'variant' },
      { key: 'requests', label: 'server requests', digits: 0 },
      { key: 'bytes', label: 'JSON bytes (fields: as the panels got them; compress: the body)', digits: 0 },
      { key: 'wire', label: 'bytes on the wire (fields: response bodies read; compress: request body received)', digits: 0 },
      { key: 'ratio', label: 'wire ÷ body', digits: 3 },
      { key: 'ms', label: 'ms', digits: 1 },
    ],
    rows,
    goals: [],
    notes: [
      'Fields: three panels of /api/product/42 (card: name, brand, rating; price: price, currency; stock: stock) asked in one tick. "Server requests" from `/__stats`; "bytes on the wire" is `stats().bytes` (response bodies read). The first two variants are plain fetchlane calls with dedupe off, as a page without field selection would make them.',
      'Compress: a JSON array of small analytics rows POSTed to /echo, which decompresses it and reports `bytesReceived` (on the wire) and `bytesDecoded` (checked equal to the body). One run each.',
    ],
  };
}
