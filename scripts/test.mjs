#!/usr/bin/env node
// npm test: every suite, one summary line `N passed, M failed` at the end.
//   native   cargo test (pure core with a fake clock, proptests, the server's own tests)
//   docs     cargo doc with warnings as errors
//   browser  wasm-bindgen tests of the Rust API in headless Chromium and Firefox
//   package  npm run build, the size budget, the strict TypeScript consumer check and golden
//            files, the JS API page suite in both browsers and in Node
//   pages    Playwright page tests (demo, consumers), and the benchmark smoke run
// Every suite runs against the same local API server, started here.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, root, startServer } from './server.mjs';

const results = [];
const record = (suite, passed, failed, note = '') => {
  results.push({ suite, passed, failed });
  console.log(`\n== ${suite}: ${passed} passed, ${failed} failed${note ? ` (${note})` : ''}\n`);
};

/** Runs a command, echoing its output, and resolves to { code, output }. */
function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const echo = (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    };
    child.stdout.on('data', echo);
    child.stderr.on('data', echo);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Sums cargo's `test result:` lines; a run that failed without one counts as one failure. */
function cargoCounts({ code, output }) {
  let passed = 0;
  let failed = 0;
  for (const m of output.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  if (code !== 0 && failed === 0) failed = 1;
  return [passed, failed];
}

const port = await freePort(47811);
const server = await startServer({ port, statics: [`/=${root}`] });
const env = { FETCHLANE_TEST_PORT: String(server.port), WASM_BINDGEN_TEST_TIMEOUT: '120' };
console.log(`test: local API server at ${server.origin}`);

try {
  record('native (cargo test)', ...cargoCounts(await run('cargo', ['test', '--workspace', '--quiet'], env)));

  // The Rust API's docs build without warnings (broken links, missing docs are errors).
  const docs = await run('cargo', ['doc', '--no-deps', '-p', 'fetchlane'], { ...env, RUSTDOCFLAGS: '-D warnings' });
  record('docs (cargo doc -D warnings)', docs.code === 0 ? 1 : 0, docs.code === 0 ? 0 : 1);

  // Built before the Rust browser tests: tests/browser_share.rs imports the package from the
  // test server (/pkg/index.js) to check that Rust and JS clients share one leader.
  const build = await run('node', ['scripts/build.mjs']);
  record('package build', build.code === 0 ? 1 : 0, build.code === 0 ? 0 : 1);

  const wasmTests = ['test', '--target', 'wasm32-unknown-unknown', '--test', 'browser_*'];
  record('browser tests, Chromium', ...cargoCounts(await run('cargo', wasmTests, { ...env, CHROMEDRIVER: '/usr/bin/chromedriver' })));
  const gecko = existsSync(join(homedir(), '.cargo/bin/geckodriver')) ? join(homedir(), '.cargo/bin/geckodriver') : 'geckodriver';
  record('browser tests, Firefox', ...cargoCounts(await run('cargo', wasmTests, { ...env, GECKODRIVER: gecko })));

  // The size budget (size-budget.json) is part of the tests: a build over it fails here.
  if (build.code === 0) {
    const size = await run('node', ['scripts/size.mjs']);
    record('size budget (npm run size)', size.code === 0 ? 1 : 0, size.code === 0 ? 0 : 1);
  }

  if (existsSync(join(root, 'tests/types/check.mjs'))) {
    const types = await run('node', ['tests/types/check.mjs']);
    record('types (tsc --strict)', types.code === 0 ? 1 : 0, types.code === 0 ? 0 : 1);
  }

  if (build.code === 0 && existsSync(join(root, 'tests/js/index.html'))) {
    const { runPageSuite } = await import('./webdriver.mjs');
    for (const browser of ['chromium', 'firefox']) {
      const r = await runPageSuite({ browser, url: `${server.origin}/tests/js/index.html` });
      record(`JS API page suite, ${browser}`, r.passed, r.failed);
    }
  }

  // The same JS API suite in Node 20+, importing the package through its `node` export
  // condition; it lists the tests it skips for what Node lacks (the Cache API).
  if (build.code === 0 && existsSync(join(root, 'tests/js/node.mjs'))) {
    const r = await run('node', ['tests/js/node.mjs', `--origin=${server.origin}`]);
    const m = r.output.match(/^(\d+) passed, (\d+) failed, (\d+) skipped/m);
    const failed = m ? Number(m[2]) + (r.code !== 0 && Number(m[2]) === 0 ? 1 : 0) : 1;
    record('JS API suite, Node', m ? Number(m[1]) : 0, failed, m ? `${m[3]} skipped: no Cache API or IndexedDB` : '');
  }

  // Page-level tests (Playwright with Debian's Chromium): each file starts what it needs.
  const e2e = join(root, 'tests/e2e');
  if (build.code === 0 && existsSync(e2e) && readdirSync(e2e).some((f) => f.endsWith('.test.mjs'))) {
    const files = readdirSync(e2e).filter((f) => f.endsWith('.test.mjs')).map((f) => join('tests/e2e', f));
    const r = await run('node', ['--test', '--test-concurrency=1', ...files]);
    const count = (name) => Number(r.output.match(new RegExp(`^# ${name} (\\d+)`, 'm'))?.[1] ?? 0);
    const failed = count('fail') + (r.code !== 0 && count('fail') === 0 ? 1 : 0);
    record('page tests (Playwright, Chromium)', count('pass'), failed);
  }

  // The benchmark page with tiny sizes, so that its code cannot rot (numbers not asserted).
  if (build.code === 0 && existsSync(join(root, 'scripts/bench.mjs'))) {
    const r = await run('node', ['scripts/bench.mjs', '--smoke', `--origin=${server.origin}`]);
    const m = r.output.match(/bench smoke: (\d+) passed, (\d+) failed/);
    record('benchmark smoke', m ? Number(m[1]) : 0, m ? Number(m[2]) : 1);
  }
} finally {
  await server.stop();
}

const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log('\nsummary:');
for (const r of results) console.log(`  ${r.suite}: ${r.passed} passed, ${r.failed} failed`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
