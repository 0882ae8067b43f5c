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
  run('cargo', ['build', '--quiet', '--target', 'wasm32-unknown-unknown']);
  // The CLI refuses a wasm built against another wasm-bindgen: say which pin to move.
  const pinned = wasmBindgenVersion(join(appDir, '..', '..', 'Cargo.toml'));
  const locked = wasmBindgenVersion(join(appDir, 'Cargo.lock'));
  if (pinned !== locked) {
    throw new Error(`examples/leptos-app locks wasm-bindgen ${locked} but fetchlane pins ${pinned}: change the pin in examples/leptos-app/Cargo.toml`);
  }
  const wasm = join(appDir, 'target', 'wasm32-unknown-unknown', 'debug', 'fetchlane-leptos-app.wasm');
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
