#!/usr/bin/env node
// npm run build: the publishable package in pkg/.
// cargo (release, wasm32, the `npm` surface of src/npm.rs, no wasm-bindgen) -> wasm-opt -Oz
// -> panic locations and panic-only text blanked (scripts/strip-panic-locations.mjs,
// scripts/strip-panic-text.mjs)
// -> the JS driver (js/) bundled and minified by esbuild (then terser) into one entry
// -> the `fl_*` exports renamed to short names in the wasm and the entry (scripts/short-names.mjs;
// the map in target/wasm-export-names.json) -> the small Node entry (js/node.js) -> types,
// package.json (version from Cargo.toml) and README.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { minifyModule } from './minify.mjs';
import { shortenExports } from './short-names.mjs';
import { stripPanicLocations } from './strip-panic-locations.mjs';
import { stripPanicText } from './strip-panic-text.mjs';
import { wasmOpt } from './wasm-opt.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });

// `--js-only` rebuilds the JS of an already built pkg/ (a quick loop while working on js/).
const jsOnly = process.argv.includes('--js-only') && existsSync(join(pkg, 'fetchlane_bg.wasm'));
const wasm = join(pkg, 'fetchlane_bg.wasm');
if (!jsOnly) {
  // wasm-panic-handler: the shipped cdylib traps on a panic without linking std (Cargo.toml).
  // No default features: the async Rust API (web-sys, wasm-bindgen) is not part of the package.
  run('cargo', [
    'build', '--release', '--lib', '--target', 'wasm32-unknown-unknown', '-p', 'fetchlane',
    '--no-default-features', '--features', 'npm,wasm-panic-handler',
  ]);
  rmSync(pkg, { recursive: true, force: true });
  mkdirSync(pkg, { recursive: true });
  // Names, producers and target features only inform tools; nothing reads them at run time.
  wasmOpt(join(root, 'target/wasm32-unknown-unknown/release/fetchlane.wasm'), wasm, [
    '--strip-debug', '--strip-producers', '--strip-target-features',
  ]);
  // Locations first: they are found by the file names that stripPanicText blanks.
  if (stripPanicLocations(wasm) === 0) throw new Error('build: no panic locations found to blank');
  stripPanicText(wasm);
}

// One minified module: the driver, the option checks, the loader, the error class. Minified
// as the JS peers in the size comparison are measured (esbuild --minify, then terser).
buildSync({
  entryPoints: [join(root, 'js/index.js')],
  outfile: join(pkg, 'index.js'),
  bundle: true,
  format: 'esm',
  minify: true,
  // Private to the bundle, so shortened: the client's own fields (`_driver`, `_baseUrl`, …)
  // and the driver's record fields that no caller, event or option ever names.
  mangleProps: /^(_[a-zA-Z].*|opener|claimed|pairs|timedOutIn|held|packed|whole|peer|pick|template|controller|full|running|opts|seq|task|string|t0|hostKey|trace|via|viaBody|first|sentAt|since|ended|net|wait|bodyBytes|lastStatus|st|shown|ctx)$/,
  target: 'es2020',
  platform: 'neutral',
  legalComments: 'none',
  logLevel: 'warning',
});
const entry = join(pkg, 'index.js');
// With --js-only the wasm in pkg/ is renamed already: its map renames the new entry alike.
const namesFile = join(root, 'target/wasm-export-names.json');
if (jsOnly && !existsSync(namesFile)) throw new Error('build: no target/wasm-export-names.json; build without --js-only');
const { code, names } = shortenExports(
  wasm,
  await minifyModule(readFileSync(entry, 'utf8')),
  jsOnly ? JSON.parse(readFileSync(namesFile, 'utf8')) : undefined,
);
writeFileSync(entry, code);
writeFileSync(namesFile, JSON.stringify(names, null, 2) + '\n');
// The Node entry (the `node` export condition): the entry above plus the wasm's bytes read
// from disk. Not bundled: it imports ./index.js itself, so the package holds one driver.
buildSync({
  entryPoints: [join(root, 'js/node.js')],
  outfile: join(pkg, 'node.js'),
  format: 'esm',
  minify: true,
  target: 'es2020',
  platform: 'node',
  legalComments: 'none',
  logLevel: 'warning',
});
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
    // `node` before `import`: Node takes the first condition it knows. Bundlers for the
    // browser do not set `node`, so they never see the entry's `node:` imports.
    '.': { types: './index.d.ts', node: './node.js', import: './index.js', default: './index.js' },
    './fetchlane_bg.wasm': './fetchlane_bg.wasm',
  },
  files: ['index.js', 'node.js', 'index.d.ts', 'fetchlane_bg.wasm', 'README.md'],
  sideEffects: false,
  keywords: ['fetch', 'concurrency', 'queue', 'rate-limit', 'retry', 'batch', 'dataloader', 'cache', 'wasm'],
};
writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
if (!existsSync(wasm)) throw new Error('build: no wasm written');
console.log(`build: wrote ${relative(root, pkg)}/ (fetchlane ${manifest.version})`);
