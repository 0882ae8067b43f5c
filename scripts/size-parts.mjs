#!/usr/bin/env node
// node scripts/size-parts.mjs: what the wasm holds, by part: the table in README "Size".
// Optimizes the release build exactly as `npm run build` does, but keeps function names, then
// groups `twiggy top` rows (raw bytes of code and data, names section excluded) and sums
// `twiggy monos` for the code that generics duplicate. Needs `npm run build` first and twiggy
// (`cargo install twiggy`).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './server.mjs';
import { wasmOpt } from './wasm-opt.mjs';

const built = join(root, 'target/wasm32-unknown-unknown/release/fetchlane.wasm');
if (!existsSync(built)) {
  console.error('size-parts: no release wasm; run `npm run build` first');
  process.exit(2);
}
if (spawnSync('twiggy', ['--version']).error) {
  console.error('size-parts: twiggy is not installed; `cargo install twiggy`');
  process.exit(2);
}
const out = join(root, 'target/size-parts');
mkdirSync(out, { recursive: true });
execFileSync('wasm-bindgen', ['--target', 'web', '--out-dir', out, '--out-name', 'f', '--no-typescript', '--keep-debug', built]);
const wasm = join(out, 'named.wasm');
wasmOpt(join(out, 'f_bg.wasm'), wasm, ['-g']);

/** twiggy's CSV: one row per line; the name (first column) may be quoted. */
function csvRows(text) {
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const m = line.match(/^("(?:[^"]|"")*"|[^,]*),(\d+),/);
      return m ? { name: m[1].replace(/^"|"$/g, '').replace(/""/g, '"'), bytes: Number(m[2]) } : undefined;
    })
    .filter(Boolean);
}
const twiggy = (args) => execFileSync('twiggy', [...args, '--format', 'csv', wasm], { encoding: 'utf8', maxBuffer: 64 << 20 });

const PARTS = [
  ['JS API layer: option decoding, export shims, the promise bridge', (n) => /^(client|loader|pages)_\w+( |$)/.test(n) || n.includes('fetchlane::bindings') || n.includes('future_to_promise')],
  ['data: error messages, option names', (n) => n.startsWith('data segment')],
  ['wasm-bindgen, js-sys and web-sys glue and imports', (n) => /^(__wbg|__wbindgen|__externref|export|import|type|elem|code|table|custom)/.test(n) || /js_sys|wasm_bindgen|web_sys/.test(n)],
  ['client: cache, stores, bodies', (n) => /fetchlane::client::(cache|store|body)\b/.test(n)],
  ['client: loader and paginate', (n) => /fetchlane::client::(loader|paginate)\b/.test(n)],
  ['client: pipeline, network, slots, groups, events', (n) => n.includes('fetchlane::client::')],
  ['pure core', (n) => n.includes('fetchlane::core::')],
  ['web adapters', (n) => n.includes('fetchlane::web::')],
  ['allocator (talc)', (n) => n.includes('talc')],
  ['hash maps', (n) => /hashbrown|hash/i.test(n)],
  ['futures-util', (n) => n.includes('futures')],
  ['core::fmt and panics', (n) => /fmt|panic|unicode|escape/.test(n)],
  ['std code for our types (strings, Vec, Rc, iterators, drop glue)', () => true],
];
const sums = new Map(PARTS.map(([label]) => [label, 0]));
let total = 0;
let decoding = 0;
for (const { name, bytes } of csvRows(twiggy(['top', '-n', '1000000']))) {
  if (name.includes('function names') || name.includes('custom section') || name.startsWith('Σ')) continue;
  total += bytes;
  // Option decoding: the decoders, and the exports they are inlined into.
  if (/fetchlane::bindings::(options|values)::|loader_config|^client_(new|loader) /.test(name)) decoding += bytes;
  const [label] = PARTS.find(([, test]) => test(name));
  sums.set(label, sums.get(label) + bytes);
}
const kib = (n) => (n / 1024).toFixed(1);
console.log('| part | KiB | share |\n| --- | ---: | ---: |');
for (const [label, bytes] of [...sums].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${label} | ${kib(bytes)} | ${Math.round((bytes * 100) / total)} % |`);
}
console.log(`| all (raw, optimized, without names) | ${kib(total)} | 100 % |`);
console.log(`\nOption decoding (bindings::options and ::values, the loader's options, and the exports they are inlined into): ${kib(decoding)} KiB.`);

const monos = twiggy(['monos', '-n', '0', '-m', '1000000']).trim().split('\n').at(-1);
const bloat = Number(monos.match(/^"?Σ[^,]*"?,(\d+),/)?.[1] ?? NaN);
console.log(`\nDuplicated generic code (twiggy monos, approximate): ${kib(bloat)} KiB, ${Math.round((bloat * 100) / total)} % of the above.`);
