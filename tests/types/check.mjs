#!/usr/bin/env node
// Type test of the public TypeScript surface: `node tests/types/check.mjs`.
// 1. js/index.d.ts has no `any` outside comments and strings.
// 2. tests/types/consumer.ts (which uses every member, and proves wrong usages rejected with
//    `@ts-expect-error`) type-checks under strict settings against js/index.d.ts.
// 3. Golden files, so that a change to the surface shows in review: the wasm's exports (the
//    protocol between the machine and the JS driver, docs/protocol.md) with their signatures
//    must equal tests/types/golden/wasm-exports.txt, and the package's index.d.ts must be
//    js/index.d.ts. After an intended change: `UPDATE_GOLDEN=1 node tests/types/check.mjs`.
// 4. The option declaration of js/options.js (`OPTIONS`, what the package checks at run time)
//    has exactly the keys of the options interfaces of js/index.d.ts
//    (tests/types/options-sync.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withoutComments } from './source.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let failed = false;

const dts = readFileSync(join(root, 'js/index.d.ts'), 'utf8');
const lines = withoutComments(dts, { blankStrings: true }).split('\n');
const anyLines = lines.flatMap((line, n) => (/\bany\b/.test(line) ? [`js/index.d.ts:${n + 1}: ${dts.split('\n')[n].trim()}`] : []));
if (anyLines.length > 0) {
  failed = true;
  console.error('types: `any` in the public surface:\n' + anyLines.join('\n'));
}

const tsc = spawnSync(join(root, 'node_modules/.bin/tsc'), ['-p', 'tests/types/tsconfig.json', '--pretty', 'false'], {
  cwd: root,
  encoding: 'utf8',
});
if (tsc.error) {
  failed = true;
  console.error(`types: could not run tsc: ${tsc.error.message}`);
} else if (tsc.status !== 0) {
  failed = true;
  console.error(`types: tsc failed (exit ${tsc.status}):\n${tsc.stdout}${tsc.stderr}`);
}

// The wasm's exports are the wire protocol between the machine and the JS driver
// (docs/protocol.md): each name with its parameter and result types, one per line.
const wasmFile = join(root, 'pkg/fetchlane_bg.wasm');
const golden = join(root, 'tests/types/golden/wasm-exports.txt');
if (!existsSync(wasmFile)) {
  failed = true;
  console.error('types: pkg/fetchlane_bg.wasm is missing; run `npm run build` first');
} else {
  // The build renames the `fl_*` exports to short names (scripts/short-names.mjs) and writes
  // the map; the golden file holds the source names, so the shipped names are mapped back.
  const namesFile = join(root, 'target/wasm-export-names.json');
  const shortToSource = new Map(existsSync(namesFile) ? Object.entries(JSON.parse(readFileSync(namesFile, 'utf8'))).map(([source, short]) => [short, source]) : []);
  const have = wasmSignatures(readFileSync(wasmFile), (name) => shortToSource.get(name) ?? name).join('\n') + '\n';
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(golden), { recursive: true });
    writeFileSync(golden, have);
    console.log('types: golden file updated: tests/types/golden/wasm-exports.txt');
  } else {
    const want = existsSync(golden) ? readFileSync(golden, 'utf8') : '';
    if (want !== have) {
      failed = true;
      const a = want.split('\n');
      const b = have.split('\n');
      const first = a.findIndex((line, i) => line !== b[i]);
      const at = first === -1 ? Math.min(a.length, b.length) : first;
      console.error(
        `types: the wasm exports differ from tests/types/golden/wasm-exports.txt ` +
          `(first difference at line ${at + 1}:\n  golden: ${a[at] ?? '(end)'}\n  built:  ${b[at] ?? '(end)'})\n` +
          'If the change is intended, update docs/protocol.md and js/driver.js, then run `UPDATE_GOLDEN=1 node tests/types/check.mjs`.',
      );
    }
  }
}

/** `name(params) -> results` of every exported function, `name: memory` for the memory; each
 * name as `sourceName` gives it. */
function wasmSignatures(bytes, sourceName) {
  let at = 8;
  const u32 = () => {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at++];
      n |= (b & 0x7f) << shift;
      if (b < 0x80) return n >>> 0;
      shift += 7;
    }
  };
  const valtype = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x70: 'funcref', 0x6f: 'externref' };
  const types = [];
  const funcs = [];
  let imported = 0;
  const exports = [];
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = u32();
    const end = at + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        at++; // 0x60
        const params = Array.from({ length: u32() }, () => valtype[bytes[at++]]);
        const results = Array.from({ length: u32() }, () => valtype[bytes[at++]]);
        types.push(`(${params.join(', ')}) -> ${results.join(', ') || '()'}`);
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        at += u32(); // module
        at += u32(); // name
        const kind = bytes[at++];
        if (kind === 0) imported++, u32();
        else throw new Error('types: the wasm imports something other than functions');
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) funcs.push(u32());
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const len = u32();
        const name = new TextDecoder().decode(bytes.subarray(at, at + len));
        at += len;
        const kind = bytes[at++];
        const index = u32();
        exports.push({ name: sourceName(name), kind, index });
      }
    }
    at = end;
  }
  return exports
    .map(({ name, kind, index }) => (kind === 0 ? `${name}${types[funcs[index - imported]]}` : `${name}: ${['func', 'table', 'memory', 'global'][kind]}`))
    .sort();
}
const shipped = join(root, 'pkg/index.d.ts');
if (existsSync(shipped) && readFileSync(shipped, 'utf8') !== dts) {
  failed = true;
  console.error('types: pkg/index.d.ts is not js/index.d.ts; rebuild with `npm run build`');
}

const sync = spawnSync(process.execPath, [join(root, 'tests/types/options-sync.mjs')], { cwd: root, encoding: 'utf8' });
if (sync.error || sync.status !== 0) {
  failed = true;
  console.error(`types: ${sync.error ? `could not run options-sync.mjs: ${sync.error.message}` : `${sync.stdout}${sync.stderr}`.trim()}`);
}

if (failed) process.exit(1);
console.log('types: ok');
