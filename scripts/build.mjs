#!/usr/bin/env node
// npm run build: the publishable package in pkg/.
// cargo (release, wasm32) -> wasm-bindgen --target web -> wasm-opt -Oz -> entry, types,
// package.json (version from Cargo.toml) and README.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { shortenNames } from './short-names.mjs';
import { wasmOpt } from './wasm-opt.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });

// wasm-panic-handler: the shipped cdylib traps on a panic without linking std (Cargo.toml).
run('cargo', ['build', '--release', '--lib', '--target', 'wasm32-unknown-unknown', '-p', 'fetchlane', '--features', 'wasm-panic-handler']);
rmSync(pkg, { recursive: true, force: true });
mkdirSync(pkg, { recursive: true });
run('wasm-bindgen', [
  '--target', 'web', '--out-dir', pkg, '--out-name', 'fetchlane',
  join(root, 'target/wasm32-unknown-unknown/release/fetchlane.wasm'),
]);
// The generated types describe the wasm exports under wasm-bindgen's names, before
// short-names.mjs renames them (with `any`); users get js/index.d.ts. They are kept outside
// the package for the golden-file check in tests/types/check.mjs.
renameSync(join(pkg, 'fetchlane.d.ts'), join(root, 'target/fetchlane-bindings.d.ts'));
rmSync(join(pkg, 'fetchlane_bg.wasm.d.ts'), { force: true });
// The glue wasm-bindgen writes is machine code nobody reads; it ships minified, as the JS
// peers in the size comparison were measured (esbuild --minify). Our own entry and error
// class stay readable.
const glue = join(pkg, 'fetchlane.js');
const glueSource = readFileSync(glue, 'utf8').replace(/^\/\* @ts-self-types="[^"]*" \*\/\n/, '');
const wasm = join(pkg, 'fetchlane_bg.wasm');
// The producers and target-features sections only inform tools; nothing reads them at run time.
wasmOpt(wasm, wasm, ['--strip-producers', '--strip-target-features']);
const renamed = shortenNames(wasm, glueSource);
writeFileSync(glue, transformSync(renamed, { minify: true, format: 'esm', target: 'es2020' }).code);

// The error class is a wasm-bindgen snippet; the entry must import that very module so
// that `instanceof FetchlaneError` holds for errors made on the wasm side.
const findErrors = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findErrors(p);
      if (found) return found;
    } else if (entry.name === 'errors.js') return p;
  }
  return undefined;
};
const errors = findErrors(join(pkg, 'snippets'));
if (!errors) throw new Error('build: the errors.js snippet is missing from wasm-bindgen output');
const entry = readFileSync(join(root, 'js/index.js'), 'utf8').replace('./__ERRORS__', `./${relative(pkg, errors)}`);
writeFileSync(join(pkg, 'index.js'), entry);
copyFileSync(join(root, 'js/index.d.ts'), join(pkg, 'index.d.ts'));
copyFileSync(join(root, 'README.md'), join(pkg, 'README.md'));

const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8');
const field = (name) => cargo.match(new RegExp(`^${name} = "([^"]*)"`, 'm'))?.[1];
const manifest = {
  name: 'fetchlane',
  version: field('version'),
  description: field('description'),
  license: field('license'),
  type: 'module',
  module: './index.js',
  types: './index.d.ts',
  exports: {
    '.': { types: './index.d.ts', import: './index.js', default: './index.js' },
    './fetchlane_bg.wasm': './fetchlane_bg.wasm',
  },
  files: ['index.js', 'index.d.ts', 'fetchlane.js', 'fetchlane_bg.wasm', 'snippets/', 'README.md'],
  sideEffects: false,
  keywords: ['fetch', 'concurrency', 'queue', 'rate-limit', 'retry', 'batch', 'dataloader', 'cache', 'wasm'],
};
writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
if (!existsSync(wasm)) throw new Error('build: no wasm written');
console.log(`build: wrote ${relative(root, pkg)}/ (fetchlane ${manifest.version})`);
