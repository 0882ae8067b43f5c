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
    // shrinking, take 0.3 KiB off the gzipped download.
    '--merge-similar-functions', '-Oz', '--converge', ...extra, '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
    '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue',
    input, '-o', output,
  ], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}
