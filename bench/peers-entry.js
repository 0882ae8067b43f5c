// The peers that the in-page scenarios compare fetchlane against, bundled by scripts/bench.mjs
// into bench/dist/peers.js (esbuild, ESM, minified) at bench time.
export { default as pLimit } from 'p-limit';
export { default as PQueue } from 'p-queue';
export { default as DataLoader } from 'dataloader';
export { default as ky } from 'ky';
