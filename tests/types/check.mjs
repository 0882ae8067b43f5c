#!/usr/bin/env node
// Type test of the public TypeScript surface: `node tests/types/check.mjs`.
// 1. js/index.d.ts has no `any` outside comments and strings.
// 2. tests/types/consumer.ts (which uses every member, and proves wrong usages rejected with
//    `@ts-expect-error`) type-checks under strict settings against js/index.d.ts.
// 3. Golden files, so that a change to the surface shows in review: the types wasm-bindgen
//    generates for the wasm exports (target/fetchlane-bindings.d.ts, written by
//    `npm run build`) must equal tests/types/golden/fetchlane-bindings.d.ts, and the package's
//    index.d.ts must be js/index.d.ts. After an intended change:
//    `UPDATE_GOLDEN=1 node tests/types/check.mjs`.
// 4. The option declaration of js/options.js (`OPTIONS`, what the package checks at run time)
//    has exactly the keys of the options interfaces of js/index.d.ts
//    (tests/types/options-sync.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let failed = false;

/** The source with comments removed and string contents blanked (newlines kept). */
function code(source) {
  let out = '';
  for (let i = 0; i < source.length; ) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += source.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      out += c;
      i++;
      while (i < source.length && source[i] !== c) {
        if (source[i] === '\\') i++;
        out += source[i] === '\n' ? '\n' : ' ';
        i++;
      }
      out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const dts = readFileSync(join(root, 'js/index.d.ts'), 'utf8');
const lines = code(dts).split('\n');
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

const generated = join(root, 'target/fetchlane-bindings.d.ts');
/** The closure shims' export names end in rustc's symbol hash (`__invoke__h05e3…`), which any
 * change to the code moves; they are internal, so the golden file keeps them as `__h…`. */
const unhashed = (text) => text.replace(/__h[0-9a-f]{16}\b/g, '__h…');
const golden = join(root, 'tests/types/golden/fetchlane-bindings.d.ts');
if (!existsSync(generated)) {
  failed = true;
  console.error('types: target/fetchlane-bindings.d.ts is missing; run `npm run build` first');
} else if (process.env.UPDATE_GOLDEN === '1') {
  mkdirSync(dirname(golden), { recursive: true });
  writeFileSync(golden, unhashed(readFileSync(generated, 'utf8')));
  console.log('types: golden file updated: tests/types/golden/fetchlane-bindings.d.ts');
} else {
  const want = existsSync(golden) ? readFileSync(golden, 'utf8') : '';
  const have = unhashed(readFileSync(generated, 'utf8'));
  if (want !== have) {
    failed = true;
    const a = want.split('\n');
    const b = have.split('\n');
    const first = a.findIndex((line, i) => line !== b[i]);
    const at = first === -1 ? Math.min(a.length, b.length) : first;
    console.error(
      `types: the wasm exports' generated types differ from tests/types/golden/fetchlane-bindings.d.ts ` +
        `(first difference at line ${at + 1}:\n  golden: ${a[at] ?? '(end)'}\n  built:  ${b[at] ?? '(end)'})\n` +
        'If the change is intended, review it and run `UPDATE_GOLDEN=1 node tests/types/check.mjs`.',
    );
  }
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
