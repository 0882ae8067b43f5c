// The last minification step of a bundled ES module, shared by the package build and the
// bundle-size comparison (bench/size.mjs) so that fetchlane and its peers are measured alike.
//
// esbuild bundles and minifies; terser then compresses again and renames by character
// frequency, which gzip rewards: about 1 KiB off fetchlane's gzipped JS (README, "Size").
import { minify } from 'terser';

/** `code` (an ES module) compressed and mangled by terser; top-level names too, as a module's are private. */
export async function minifyModule(code) {
  const out = await minify(code, {
    module: true,
    compress: { passes: 2 },
    mangle: true,
    format: { comments: false },
  });
  if (typeof out.code !== 'string') throw new Error('minify: terser returned no code');
  return out.code;
}
