// What only Node has to prove (loaded by tests/js/node.mjs alone): the package resolves to its
// Node entry, a fresh process uses it with no `init`, the browser entry imported past the
// export condition says how to fix that, and without a page a relative URL needs `baseUrl`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, assertEqual, assertRejects, runId, stats, test } from './harness.js';
import { client, createClient, isError, origin, url } from './lib.js';
import { consumer, pkgDir } from './node-consumer.js';

test("node: 'fetchlane' resolves to the Node entry through the package's `node` export condition", async () => {
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  assertEqual(manifest.exports['.'].node, './node.js', 'exports["."].node');
  const keys = Object.keys(manifest.exports['.']);
  assert(keys.indexOf('node') < keys.indexOf('import'), `node comes before import: ${keys}`);
  assert(import.meta.resolve('fetchlane').endsWith('/node.js'), import.meta.resolve('fetchlane'));
});

test('node: the browser entry imports no node: module (bundlers for the browser never see one)', async () => {
  const bundle = readFileSync(join(pkgDir, 'index.js'), 'utf8');
  const found = bundle.match(/["'`]node:[\w/]+/g) ?? [];
  assertEqual(found, [], 'node: specifiers in index.js');
  assert(readFileSync(join(pkgDir, 'node.js'), 'utf8').includes('"./index.js"'), 'node.js imports the browser entry, not a copy');
});

test('node: a fresh process imports fetchlane and fetches with no init call', async () => {
  const run = runId('node-fresh');
  const target = new URL(url('/echo', run, { n: 1 }), origin).href;
  const { stdout, stderr } = await consumer(`
    import { createClient, isFetchlaneError } from 'fetchlane';
    const client = await createClient({ retry: 0 });
    const body = await client.json(${JSON.stringify(target)});
    const error = await client.fetch(${JSON.stringify(new URL(url('/status/404', run), origin).href)}).catch((e) => e);
    console.log(JSON.stringify({ path: body.path, kind: isFetchlaneError(error) && error.kind, status: error.status }));
    client.close();
  `);
  assertEqual(stderr, '', 'stderr');
  assertEqual(JSON.parse(stdout), { path: '/echo', kind: 'http', status: 404 });
  const s = await stats(run);
  assertEqual([s.hits['/echo'], s.hits['/status/404']], [1, 1], 'server hits');
});

test('node: the browser entry imported by its path, without init, names the fix', async () => {
  const { stdout } = await consumer(`
    const { createClient } = await import(${JSON.stringify(join(pkgDir, 'index.js'))});
    const error = await createClient().then(() => null, (e) => e);
    console.log(JSON.stringify({ name: error?.name, message: error?.message }));
  `);
  const { name, message } = JSON.parse(stdout);
  assertEqual(name, 'Error');
  assert(message.includes('fetchlane_bg.wasm'), message);
  assert(message.includes('`node` export condition'), `names the node condition: ${message}`);
  assert(message.includes('init(bytes)'), `names init(bytes): ${message}`);
  // The same package by its name works in the same process afterwards.
  const { stdout: ok } = await consumer(`
    await import(${JSON.stringify(join(pkgDir, 'index.js'))}).then((m) => m.createClient()).catch(() => {});
    const { createClient } = await import('fetchlane');
    console.log(typeof (await createClient()).fetch);
  `);
  assertEqual(ok.trim(), 'function');
});

test('node: without a page (no location), a relative URL rejects with a TypeError naming baseUrl; baseUrl resolves it', async () => {
  const run = runId('node-relative');
  const key = Symbol.for('undici.globalOrigin.1');
  const page = { location: globalThis.location, origin: globalThis[key] };
  const c = await client();
  delete globalThis.location;
  globalThis[key] = undefined;
  try {
    await assertRejects(c.fetch(url('/echo', run)), isError(TypeError, 'baseUrl'));
    await assertRejects(c.fetch(url('/echo', run), { method: 'POST', body: 'x' }), isError(TypeError, 'baseUrl'));
    const b = await client({ baseUrl: `${origin}/` });
    assertEqual((await b.json(url('echo', run))).path, '/echo');
  } finally {
    globalThis.location = page.location;
    globalThis[key] = page.origin;
  }
  assertEqual((await stats(run)).hits['/echo'], 1, 'only the baseUrl request reached the server');
});

test('node: cache.persist without the Cache API is a TypeError naming cache.persist', async () => {
  assertEqual(typeof globalThis.caches, 'undefined', 'Node has no Cache API');
  await assertRejects(createClient({ cache: { persist: { name: 'n' } } }), isError(TypeError, 'cache.persist'));
});

test('node: without IndexedDB, outbox() is a TypeError that says so (server rendering stores nothing)', async () => {
  const c = await client();
  assertEqual(typeof indexedDB, 'undefined', 'this Node has no IndexedDB');
  try {
    c.outbox('analytics');
    throw new Error('outbox() returned');
  } catch (e) {
    isError(TypeError, 'IndexedDB')(e);
  }
});
