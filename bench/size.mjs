// 9. Size (node, no browser): gzip -9 bytes of what fetchlane ships against each peer's entry
// bundled with `esbuild --bundle --minify --format=esm` (workbox with NODE_ENV=production, as
// an app build would). The peers together are what fetchlane replaces as a whole.
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

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
  return Buffer.from(out.outputFiles[0].contents);
}

function snippetFiles(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...snippetFiles(p));
    else if (p.endsWith('.js')) out.push(p);
  }
  return out;
}

export async function run({ root }) {
  const pkg = join(root, 'pkg');
  const files = ['fetchlane_bg.wasm', 'fetchlane.js', 'index.js'].map((f) => join(pkg, f));
  const snippets = snippetFiles(join(pkg, 'snippets'));
  const each = (paths) => paths.reduce((n, p) => n + gz(readFileSync(p)), 0);
  const raw = (paths) => paths.reduce((n, p) => n + readFileSync(p).length, 0);

  const rows = [];
  const wasm = files[0];
  rows.push({ variant: 'fetchlane: wasm + fetchlane.js + index.js (as shipped)', library: 'fetchlane', raw: raw(files), gzip: each(files) });
  // What an app build serves: the JS glue bundled and minified (snippets included), plus the wasm.
  const glue = await bundle(root, `export * from ${JSON.stringify(join(pkg, 'index.js'))};`);
  rows.push({
    variant: 'fetchlane: wasm + JS glue bundled & minified (incl. snippets)',
    library: 'fetchlane min',
    raw: readFileSync(wasm).length + glue.length,
    gzip: gz(readFileSync(wasm)) + gz(glue),
    wasmGzip: gz(readFileSync(wasm)),
    jsGzip: gz(glue),
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
    params: { snippetFiles: snippets.length },
    columns: [
      { key: 'variant', label: 'bundle' },
      { key: 'raw', label: 'bytes', bytes: true },
      { key: 'gzip', label: 'gzip -9 bytes', bytes: true },
      { key: 'vsFetchlane', label: 'fetchlane (as shipped) ÷ this', digits: 2 },
    ],
    rows,
    goals: [],
    losses: [
      `Size: fetchlane is ${(fl.gzip / 1024).toFixed(1)} KiB gzipped, ${(fl.gzip / all.gzip).toFixed(1)}× the five peers bundled together (${(all.gzip / 1024).toFixed(1)} KiB); the wasm is ${((wasmGz / fl.gzip) * 100).toFixed(0)} % of it. The release profile has opt-level "z", LTO, one codegen unit and panic = "abort", wasm-opt -Oz runs, the allocator is talc, the crate is no_std with a trap-only panic handler, hash maps use FNV-1a and string search avoids core's panicking paths; \`twiggy top\` finds no one heavy dependency (formatting and panics are 1 %) but the JS API layer (25 %; option decoding 14 %) and the features themselves (\`node scripts/size-parts.mjs\`). What would change it: option decoding in the JS entry (3–4 KiB less, net) and a lite build without the cache and loader/paginate (about 15 KiB less, estimated); neither comes near the peers (README, "Size").`,
    ],
    notes: [
      `fetchlane's wasm alone: ${gz(readFileSync(wasm))} B gzipped; the shipped JS also loads ${snippets.length} wasm-bindgen snippet file(s) (${each(snippets)} B gzipped), not in the first row.`,
      'Each file gzipped on its own and summed (they are served as separate files); peers are one esbuild bundle each.',
    ],
  };
}
