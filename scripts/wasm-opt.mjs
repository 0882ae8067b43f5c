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
    // --low-memory-unused lets `load(p + c)` fold a small `c` into the load's offset (which,
    // unlike the add, does not wrap): 0.15 KiB more. The two differ only for a `p` within 1 KiB
    // below 4 GiB, pointing (wrapped) into the first 1 KiB of memory. Nothing lives there: the
    // data starts at 1 MiB, and the stack, below it, grows down from 1 MiB; it reaches the
    // first KiB only within 1 KiB of overflowing (the machine recurses nowhere deep).
    '--low-memory-unused', '--merge-similar-functions', '-O3', '--flatten', '--rereloop', '-Oz',
    '--merge-similar-functions', '-Oz', '--converge', ...extra, '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
    '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue',
    input, '-o', output,
  ], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}
