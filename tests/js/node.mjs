#!/usr/bin/env node
// Runs the JS API suite (the same tests/js/*.test.js as the page) in Node 20+, against the local
// test server, with the package imported by its name through its `node` export condition
// (tests/js/node-hooks.mjs), then the Node-only tests (node.test.js).
//   node scripts/build.mjs   # once, when pkg/ is missing or stale
//   node tests/js/node.mjs [--only=substring] [--origin=http://127.0.0.1:PORT]
// Without --origin it starts the test server itself. Prints every result, the tests skipped
// for what Node lacks (the Cache API), and `N passed, M failed, K skipped`; exits non-zero
// on any failure. FETCHLANE_PKG_DIR=/some/dir tests that package directory instead of pkg/.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, startServer } from '../../scripts/server.mjs';

const args = process.argv.slice(2);
const arg = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = arg('only');

const pkgDir = process.env.FETCHLANE_PKG_DIR || join(root, 'pkg');
if (!existsSync(join(pkgDir, 'node.js'))) {
  console.error(`tests/js/node: ${pkgDir}/node.js is missing; run \`node scripts/build.mjs\` first`);
  process.exit(1);
}
register('./node-hooks.mjs', import.meta.url, { data: { manifest: pathToFileURL(join(pkgDir, 'package.json')).href } });

const server = arg('origin') ? { origin: arg('origin'), stop: async () => {} } : await startServer();
let code = 1;
try {
  code = await runSuite(server.origin);
} catch (e) {
  console.error(`tests/js/node: ${e.stack ?? e}`);
} finally {
  await server.stop();
}
process.exit(code);

/**
 * The suite in this process. Node has no page, so it is given the one the browser run has:
 * `location` (what fetchlane resolves relative URLs against without `baseUrl`) and the base
 * URL of Node's own `fetch` and `Request` (undici's global origin, what `setGlobalOrigin`
 * sets; Deno's `--location` does both). node.test.js checks the behaviour without them.
 * @param {string} origin
 * @returns {Promise<number>} the exit code
 */
async function runSuite(origin) {
  globalThis.location = new URL('/tests/js/index.html', origin);
  globalThis[Symbol.for('undici.globalOrigin.1')] = new URL(origin);

  const { state, fail, run } = await import('./harness.js');
  // A page logs an unhandled rejection; Node would end the process. Collected instead, by
  // test, and a failure at the end unless handled later (a test that provokes them on
  // purpose quiets them: harness quietRejections).
  const unhandled = new Map();
  process.on('unhandledRejection', (reason, promise) => {
    if (state.quiet === 0) unhandled.set(promise, { test: state.current, reason });
  });
  process.on('rejectionHandled', (promise) => unhandled.delete(promise));

  const entry = import.meta.resolve('fetchlane');
  console.log(`tests/js/node: ${origin}; 'fetchlane' resolves to ${entry}`);
  const { modules } = await import('./modules.js');
  for (const m of [...modules, './node.test.js', './readme.test.js']) {
    try {
      await import(m);
    } catch (e) {
      fail(`load ${m}`, e);
    }
  }
  const t0 = performance.now();
  await run({ only });
  // Node reports unhandled rejections once the microtasks have run: give it a turn.
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (const r of state.results) console.log(`${r.ok ? 'ok' : 'FAIL'} - ${r.name} (${Math.round(r.ms)} ms)${r.ok ? '' : `: ${r.error}`}`);
  if (state.skipped.length > 0) {
    console.log(`\nskipped in Node (${state.skipped.length}):`);
    for (const s of state.skipped) console.log(`  - ${s.name} (needs ${s.missing.join(', ')})`);
  }
  // One left unhandled would end a Node app (--unhandled-rejections=throw): a failure here.
  if (unhandled.size > 0) {
    const error = [...unhandled.values()].map(({ test, reason }) => `in ${test ?? 'no test'}: ${reason?.stack ?? reason}`).join('\n  ');
    fail('no unhandled rejections', new Error(`${unhandled.size} left unhandled:\n  ${error}`));
    console.log(`FAIL - no unhandled rejections: ${state.results.at(-1).error}`);
  }
  console.log(`\n${state.passed} passed, ${state.failed} failed, ${state.skipped.length} skipped (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return state.failed === 0 ? 0 : 1;
}
