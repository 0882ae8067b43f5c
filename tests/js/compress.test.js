// Compressed request bodies (`LaneInit.compress`, `ClientOptions.compressOver`), checked at
// the server: it decompresses `Content-Encoding: gzip` and `deflate` bodies and reports the
// bytes it received, the bytes after decoding and their SHA-256.
import { assert, assertEqual, assertRejects, runId, sleep, stats, test } from './harness.js';
import { client, isError, isKind, url } from './lib.js';

/** A JSON text of about `kib` KiB, with the repetition real payloads have. */
function payload(kib) {
  const rows = [];
  for (let i = 0; rows.join(',').length < kib * 1024; i++) rows.push({ id: i, event: 'view', path: `/product/${i % 50}`, ms: (i * 37) % 900 });
  return JSON.stringify(rows);
}

async function sha256(text) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

for (const format of ['gzip', 'deflate']) {
  test(`compress: a 100 KiB JSON body sent with ${format} arrives smaller and decodes to the original`, async () => {
    const c = await client({});
    const body = payload(100);
    const echo = await c.json(url('/echo', runId(`compress-${format}`)), {
      method: 'POST', body, headers: { 'content-type': 'application/json' }, compress: format,
    });
    assertEqual(echo.contentEncoding, format, 'the server undid the encoding');
    assertEqual(echo.bytesDecoded, new TextEncoder().encode(body).length, 'decoded length');
    assertEqual(echo.bodySha256, await sha256(body), 'decoded body equals the original');
    assert(echo.bytesReceived < echo.bytesDecoded / 4, `fewer bytes on the wire: ${echo.bytesReceived} of ${echo.bytesDecoded}`);
  });
}

test('compress: compressOver gzips bodies over the threshold only; LaneInit.compress wins', async () => {
  const c = await client({ compressOver: 1024 });
  const run = runId('compress-over');
  const big = await c.json(url('/echo', run), { method: 'POST', body: payload(2) });
  assertEqual(big.contentEncoding, 'gzip', 'a 2 KiB body');
  const small = await c.json(url('/echo', run), { method: 'POST', body: '{"a":1}' });
  assertEqual(small.contentEncoding, null, 'a small body goes as it is');
  const asked = await c.json(url('/echo', run), { method: 'POST', body: '{"a":1}', compress: 'deflate' });
  assertEqual(asked.contentEncoding, 'deflate', 'compress on the request');
  const get = await c.json(url('/echo', run));
  assertEqual(get.method, 'GET', 'a GET is untouched');
});

test('compress: a GET or HEAD with compress is a TypeError; so is an unknown format', async () => {
  const c = await client({});
  const u = url('/echo', runId('compress-bad'));
  await assertRejects(c.fetch(u, { compress: 'gzip' }), isError(TypeError, 'compress', 'GET'));
  await assertRejects(c.fetch(u, { method: 'HEAD', compress: 'gzip' }), isError(TypeError, 'compress', 'HEAD'));
  await assertRejects(c.fetch(u, { method: 'POST', body: 'x', compress: 'br' }), isError(TypeError, 'init.compress'));
  const { createClient } = await import('./lib.js');
  await assertRejects(createClient({ compressOver: -1 }), isError(RangeError, 'compressOver'));
});

test('compress: without CompressionStream the body goes uncompressed and an event says so', async () => {
  const saved = globalThis.CompressionStream;
  const c = await client({});
  const seen = [];
  c.on('uncompressed', (e) => seen.push(e));
  try {
    // As in a runtime that lacks it.
    delete globalThis.CompressionStream;
    const echo = await c.json(url('/echo', runId('compress-missing')), { method: 'POST', body: 'plain', compress: 'gzip' });
    assertEqual(echo.contentEncoding, null, 'sent as it is');
    assertEqual(echo.body, 'plain', 'the body arrived');
  } finally {
    globalThis.CompressionStream = saved;
  }
  assertEqual(seen.length, 1, 'one uncompressed event');
  assertEqual([seen[0].type, seen[0].method], ['uncompressed', 'POST']);
});

test('compress: onIdle waits for a body being compressed; clearQueue rejects it; small bodies keep their order', async () => {
  const run = runId('compress-idle');
  const c = await client({ concurrency: 1 });
  const p = c.json(url('/echo', run, { n: 1 }), { method: 'POST', body: 'x'.repeat(50000), compress: 'gzip' });
  let settled = false;
  p.then(() => (settled = true));
  await c.onIdle();
  await sleep(0);
  assert(settled, 'settled when onIdle resolved');

  const cleared = c.fetch(url('/echo', run, { n: 2 }), { method: 'POST', body: 'y'.repeat(50000), compress: 'gzip' });
  c.clearQueue();
  await assertRejects(cleared, isKind('abort'));

  // A body known to be under compressOver is not read first: calls start in call order.
  const small = await client({ concurrency: 1, compressOver: 1000 });
  const started = [];
  small.on('start', (e) => started.push(e.method));
  await Promise.all([small.fetch(url('/echo', run, { n: 3 }), { method: 'POST', body: 'tiny' }), small.fetch(url('/echo', run, { n: 4 }))]);
  assertEqual(started, ['POST', 'GET'], 'start order');
  const s = await stats(run);
  assertEqual(s.arrivals.map((a) => new URLSearchParams(a.query).get('n')), ['1', '3', '4'], 'the cleared call never arrived');
});
