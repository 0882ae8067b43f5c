#!/usr/bin/env node
// npm run size: gzip -9 sizes of the built package (pkg/), and a check against the budget in
// size-budget.json. Exits 1 when the sum is over budget. Build first with `npm run build`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { root } from './server.mjs';

const pkg = join(root, 'pkg');
if (!existsSync(join(pkg, 'fetchlane_bg.wasm'))) {
  console.error('size: pkg/ is not built; run `npm run build` first');
  process.exit(2);
}
const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
// Every .js and .wasm file in pkg/, whatever the build calls it.
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.(js|wasm)$/.test(e.name)) files.push(p);
  }
};
walk(pkg);

const wasm = files.filter((f) => f.endsWith('.wasm')).reduce((n, f) => n + gz(f), 0);
const js = files.filter((f) => f.endsWith('.js')).reduce((n, f) => n + gz(f), 0);
const sum = wasm + js;
const { gzipBytes: budget, stretchGzipBytes: stretch } = JSON.parse(readFileSync(join(root, 'size-budget.json'), 'utf8'));
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`wasm  ${kb(wasm)} (${wasm} B)`);
console.log(`js    ${kb(js)} (${js} B: ${files.filter((f) => f.endsWith('.js')).map((f) => f.slice(pkg.length + 1)).join(', ')})`);
console.log(`sum   ${kb(sum)} (${sum} B), budget ${kb(budget)}${stretch ? `, stretch goal ${kb(stretch)}` : ''}`);
if (sum > budget) {
  console.log(`size: over budget by ${kb(sum - budget)}`);
  process.exit(1);
}
console.log(`size: within budget${stretch && sum <= stretch ? ' and the stretch goal' : ''}`);
