#!/usr/bin/env node
// node scripts/size-parts.mjs: what the wasm holds, by part, and the JS driver by file
// (README "Size").
// Optimizes the release build exactly as `npm run build` does, but keeps function names, then
// groups `twiggy top` rows (raw bytes of code and data, names section excluded) and sums
// `twiggy monos` for the code that generics duplicate. Needs `npm run build` first and twiggy
// (`cargo install twiggy`).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { transformSync } from 'esbuild';
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
const wasm = join(out, 'named.wasm');
// The same optimisation as `npm run build`, with the names kept (-g).
wasmOpt(built, wasm, ['-g', '--strip-producers']);

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
  ['the machine and its fl_* surface (into which most of it is inlined)', (n) => /^fl_/.test(n) || /fetchlane::(machine|npm)::/.test(n)],
  ['pure core: HTTP cache rules and dates, scheduler and rate windows, LRU, string map, adaptive limits', (n) => n.includes('fetchlane::core::')],
  ['data: header names, and panic text (blanked in the shipped build)', (n) => n.startsWith('data segment')],
  ['allocator (talc)', (n) => n.includes('talc')],
  ['core::fmt and panics', (n) => /fmt|panic|unicode|escape/.test(n)],
  ['std code for our types (strings, Vec, Rc, iterators, drop glue)', () => true],
];
const sums = new Map(PARTS.map(([label]) => [label, 0]));
let total = 0;
for (const { name, bytes } of csvRows(twiggy(['top', '-n', '1000000']))) {
  if (name.includes('function names') || name.includes('custom section') || name.startsWith('Σ')) continue;
  total += bytes;
  const [label] = PARTS.find(([, test]) => test(name));
  sums.set(label, sums.get(label) + bytes);
}
const kib = (n) => (n / 1024).toFixed(1);
console.log('| part | KiB | share |\n| --- | ---: | ---: |');
for (const [label, bytes] of [...sums].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${label} | ${kib(bytes)} | ${Math.round((bytes * 100) / total)} % |`);
}
console.log(`| all (raw, optimized, without names) | ${kib(total)} | 100 % |`);

const monos = twiggy(['monos', '-n', '0', '-m', '1000000']).trim().split('\n').at(-1);
const bloat = Number(monos.match(/^"?Σ[^,]*"?,(\d+),/)?.[1] ?? NaN);
console.log(`\nDuplicated generic code (twiggy monos, approximate): ${kib(bloat)} KiB, ${Math.round((bloat * 100) / total)} % of the above.`);

// The JS driver, file by file: each js/*.js minified alone (esbuild) and gzipped, so a file's
// share of the sum (the bundle itself is smaller: one module, shared names).
const jsDir = join(root, 'js');
const jsRows = readdirSync(jsDir)
  .filter((f) => f.endsWith('.js'))
  .map((f) => {
    const code = transformSync(readFileSync(join(jsDir, f), 'utf8'), { minify: true, format: 'esm', loader: 'js' }).code;
    return [f, gzipSync(code, { level: 9 }).length];
  })
  .sort((a, b) => b[1] - a[1]);
const jsTotal = jsRows.reduce((n, [, b]) => n + b, 0);
console.log('\n| js/ file (minified alone, gzip -9) | bytes | share |\n| --- | ---: | ---: |');
for (const [f, b] of jsRows) console.log(`| ${f} | ${b} | ${Math.round((b * 100) / jsTotal)} % |`);
