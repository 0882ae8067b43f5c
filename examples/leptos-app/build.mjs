#!/usr/bin/env node
// Builds the example into dist/: `cargo build` for wasm32 (the dev profile: quicker to build
// than release; size does not matter here), then the wasm-bindgen CLI (`--target web`, the
// same version as the `wasm-bindgen` crate, which Cargo.toml pins), then index.html beside
// it. Its own target/ keeps the build, so a second run takes seconds.
//   node examples/leptos-app/build.mjs      then serve dist/ and open index.html
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const appDir = dirname(fileURLToPath(import.meta.url));
export const distDir = join(appDir, 'dist');

function wasmBindgen() {
  const local = join(homedir(), '.cargo', 'bin', 'wasm-bindgen');
  return existsSync(local) ? local : 'wasm-bindgen';
}

/** The wasm-bindgen version a Cargo.toml pins (`= "=X"`) or a Cargo.lock locks. */
function wasmBindgenVersion(file) {
  const text = readFileSync(file, 'utf8');
  const m = text.match(/^wasm-bindgen = \{?[^\n]*?"=([\d.]+)"/m) ?? text.match(/name = "wasm-bindgen"\nversion = "([\d.]+)"/);
  return m?.[1];
}

/** Builds dist/ (index.html, fetchlane_leptos_app.js and its wasm); returns its path. */
export function build({ quiet = true } = {}) {
  const stdio = quiet ? ['ignore', 'ignore', 'pipe'] : 'inherit';
  const run = (cmd, args) => {
    try {
      execFileSync(cmd, args, { cwd: appDir, stdio, maxBuffer: 64 << 20 });
    } catch (e) {
      throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stderr ?? ''}`, { cause: e });
    }
  };
  // The CLI refuses a wasm built against another wasm-bindgen, and cargo cannot resolve two
  // exact pins: say which pin to move before building.
  const pinned = wasmBindgenVersion(join(appDir, '..', '..', 'Cargo.toml'));
  const mine = wasmBindgenVersion(join(appDir, 'Cargo.toml'));
  if (pinned !== mine) {
    throw new Error(`fetchlane pins wasm-bindgen ${pinned} but examples/leptos-app/Cargo.toml pins ${mine}: make them equal`);
  }
  const target = join(appDir, 'target');
  run('cargo', ['build', '--quiet', '--target', 'wasm32-unknown-unknown', '--target-dir', target]);
  const locked = wasmBindgenVersion(join(appDir, 'Cargo.lock'));
  if (locked !== pinned) throw new Error(`examples/leptos-app/Cargo.lock has wasm-bindgen ${locked}, not ${pinned}`);
  const wasm = join(target, 'wasm32-unknown-unknown', 'debug', 'fetchlane-leptos-app.wasm');
  mkdirSync(distDir, { recursive: true });
  run(wasmBindgen(), ['--target', 'web', '--no-typescript', '--out-name', 'fetchlane_leptos_app', '--out-dir', distDir, wasm]);
  copyFileSync(join(appDir, 'index.html'), join(distDir, 'index.html'));
  return distDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t = performance.now();
  build({ quiet: false });
  console.log(`built ${distDir} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
