// 9. Size (node, no browser): gzip -9 bytes of what fetchlane ships against each peer's entry
// bundled with `esbuild --bundle --minify --format=esm` and then terser
// (scripts/minify.mjs), as fetchlane's own JS is (workbox with NODE_ENV=production, as
// an app build would). The peers together are what fetchlane replaces as a whole.
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { minifyModule } from '../scripts/minify.mjs';

export const id = 'size';
export const title = 'Bundle size (gzip -9)';

const gz = (buf) => gzipSync(buf, { level: 9 }).length;

const PEERS = [
  ['p-limit', "export * from 'p-limit'; export { default } from 'p-limit';"],
  ['p-queue', "export * from 'p-queue'; export { default } from 'p-queue';"],
  ['dataloader', "export { default } from 'dataloader';"],
  ['ky', "export * from 'ky'; export { default } from 'ky';"],
  ['workbox-strategies + workbox-expiration', "export * from 'workbox-strategies'; export * from 'workbox-expiration';"],
];

async function bundle(root, contents) {
  const out = await build({
    stdin: { contents, resolveDir: root, loader: 'js', sourcefile: 'entry.js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return Buffer.from(await minifyModule(out.outputFiles[0].text));
}

export async function run({ root }) {
  const pkg = join(root, 'pkg');
  const files = ['fetchlane_bg.wasm', 'index.js'].map((f) => join(pkg, f));
  const each = (paths) => paths.reduce((n, p) => n + gz(readFileSync(p)), 0);
  const raw = (paths) => paths.reduce((n, p) => n + readFileSync(p).length, 0);

  const rows = [];
  const wasm = files[0];
  // The package ships its JS driver already bundled and minified (esbuild) beside the wasm.
  rows.push({
    variant: 'fetchlane: wasm + index.js (as shipped: the JS driver bundled and minified)',
    library: 'fetchlane',
    raw: raw(files),
    gzip: each(files),
    wasmGzip: gz(readFileSync(wasm)),
    jsGzip: gz(readFileSync(files[1])),
  });
  for (const [name, entry] of PEERS) {
    const b = await bundle(root, entry);
    rows.push({ variant: name, library: name, raw: b.length, gzip: gz(b) });
  }
  const names = ['p-limit', 'p-queue', 'dataloader', 'ky', 'workbox-strategies', 'workbox-expiration'];
  const allPeers = await bundle(root, names.map((n, i) => `export * as m${i} from '${n}';`).join('\n'));
  rows.push({ variant: 'all five peers in one bundle', library: 'all peers', raw: allPeers.length, gzip: gz(allPeers) });
  const fl = rows[0];
  for (const r of rows) r.vsFetchlane = fl.gzip / r.gzip;
  const all = rows[rows.length - 1];
  const wasmGz = gz(readFileSync(wasm));
  return {
    id,
    title,
    params: {},
    columns: [
      { key: 'variant', label: 'bundle' },
      { key: 'raw', label: 'bytes', bytes: true },
      { key: 'gzip', label: 'gzip -9 bytes', bytes: true },
      { key: 'vsFetchlane', label: 'fetchlane (as shipped) ÷ this', digits: 2 },
    ],
    rows,
    goals: [],
    losses: [
      `Size: fetchlane is ${(fl.gzip / 1024).toFixed(1)} KiB gzipped, ${(fl.gzip / all.gzip).toFixed(1)}× the five peers bundled together (${(all.gzip / 1024).toFixed(1)} KiB); the wasm is ${((wasmGz / fl.gzip) * 100).toFixed(0)} % of it. The pipeline is one sans-I/O state machine in wasm (numbers in, commands out) under a hand-written JS driver; what is left is the features themselves: HTTP cache rules, the scheduler with rate windows, retries, the loader, pagination and the option checks (README, "Size").`,
    ],
    notes: [
      `fetchlane's wasm alone: ${gz(readFileSync(wasm))} B gzipped; its JS driver (one minified module): ${gz(readFileSync(files[1]))} B gzipped.`,
      'Each file gzipped on its own and summed (they are served as separate files); peers are one esbuild bundle each, then terser, as fetchlane\'s JS.',
    ],
  };
}
