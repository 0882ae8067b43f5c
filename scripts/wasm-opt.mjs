// wasm-opt -Oz (see below) with the features wasm-bindgen's output uses, from npm's binaryen package:
// Debian's binaryen 108 predates the final externref encoding and turns wasm-bindgen's
// externref table into an anyref one that browsers refuse. Shared by the build and the size
// breakdown so that both measure the same optimisation.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from './server.mjs';

export function wasmOpt(input, output, extra = []) {
  execFileSync(join(root, 'node_modules/.bin/wasm-opt'), [
    // Merging near-identical functions (generic copies) before -Oz, and -Oz until it stops
    // shrinking, take 0.3 KiB off the gzipped download. -O3 first (its inlining exposes more to
    // fold), then --flatten and --rereloop (control flow rebuilt from scratch, often with fewer
    // blocks and branches), then -Oz and a second merge: 0.2 KiB more.
    '--merge-similar-functions', '-O3', '--flatten', '--rereloop', '-Oz',
    '--merge-similar-functions', '-Oz', '--converge', ...extra, '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
    '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue',
    input, '-o', output,
  ], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}
