#!/usr/bin/env node
// Runs the JS API page suite (tests/js/index.html) in headless Chromium, then Firefox.
//   node scripts/build.mjs   # once, when pkg/ is missing or stale
//   node tests/js/run.mjs [chromium|firefox ...] [--only=substring]
// Builds nothing but the test server (cargo run); exits non-zero on any failure.
// FETCHLANE_PKG_DIR=/some/dir serves that directory as /pkg instead of the repo's pkg/.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPageSuite } from '../../scripts/webdriver.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const browsers = args.filter((a) => !a.startsWith('--'));
if (browsers.length === 0) browsers.push('chromium', 'firefox');

const pkgDir = process.env.FETCHLANE_PKG_DIR || join(root, 'pkg');
if (!existsSync(join(pkgDir, 'index.js'))) {
  console.error(`tests/js: ${pkgDir}/index.js is missing; run \`node scripts/build.mjs\` first`);
  process.exit(1);
}

function startServer() {
  const child = spawn(
    'cargo',
    [
      'run', '-q', '-p', 'fetchlane-test-server', '--', '--port', '0', '--static', `/=${root}`,
      ...(process.env.FETCHLANE_PKG_DIR ? ['--static', `/pkg=${pkgDir}`] : []),
      '--exit-on-stdin-eof',
    ],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('tests/js: the server printed no address within 300 s')), 300000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tests/js: the server exited early (code ${code})`));
    });
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({
          origin: m[1],
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.stdin.end();
              setTimeout(() => child.kill('SIGKILL'), 5000).unref();
            }),
        });
      }
    });
  });
}

let server;
let passed = 0;
let failed = 0;
try {
  server = await startServer();
  const page = `${server.origin}/tests/js/index.html${only ? `?only=${encodeURIComponent(only)}` : ''}`;
  console.log(`tests/js: ${page}`);
  for (const browser of browsers) {
    console.log(`\n# ${browser}`);
    const t0 = Date.now();
    const r = await runPageSuite({ browser, url: page, log: (line) => console.log(`  ${line}`) });
    console.log(`# ${browser}: ${r.passed} passed, ${r.failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    passed += r.passed;
    failed += r.failed;
  }
} catch (e) {
  console.error(e.message);
  failed += 1;
} finally {
  if (server) await server.stop();
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
