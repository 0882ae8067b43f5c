#!/usr/bin/env node
// npm run bench: fetchlane against its peers in headless Chromium (Debian's /usr/bin/chromium
// through playwright-core), plus a bundle-size comparison in node.
//
//   node scripts/bench.mjs            full run (≤ 5 min): bench-results/bench.json + BENCHMARKS.md
//   node scripts/bench.mjs --smoke    every scenario at tiny sizes (< 60 s), writes nothing;
//                                     last line `bench smoke: N passed, M failed`, exit 1 on a failure
//   node scripts/bench.mjs --only fanout,dedup   a subset (results printed, nothing written)
//   --print                           with --smoke: print the Markdown too
//
// `runBench({ smoke, origin })` is exported for the test harness: with `origin` it uses that
// server (which must serve the repo root at `/`, as scripts/test.mjs does) instead of starting one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, root, startServer } from './server.mjs';

const SCENARIOS = ['overhead', 'fanout', 'dashboard', 'dedup', 'batching', 'ratelimit', 'cache', 'memory', 'adaptive', 'lighter', 'timing', 'share'];
/** Scenarios driven from node rather than run in the bench page. */
const NODE_SCENARIOS = ['hidden', 'size'];
/** Seconds a scenario may take (full run; --smoke: 45 s each). Fixed perHost 6 against the
 * capacity endpoint pauses the host 1 s on every 429, so `adaptive` gets far longer. */
const TIMEOUT_S = { adaptive: 600 };
const timeoutS = (id, smoke) => (smoke ? 45 : TIMEOUT_S[id] ?? 150);
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
  // Memory scenario: exact heap numbers and gc() in the page.
  '--enable-precise-memory-info', '--js-flags=--expose-gc',
];

/** Bundles the peers the page compares against into bench/dist/peers.js. */
async function bundlePeers() {
  const { build } = await import('esbuild');
  mkdirSync(join(root, 'bench/dist'), { recursive: true });
  await build({
    entryPoints: [join(root, 'bench/peers-entry.js')],
    outfile: join(root, 'bench/dist/peers.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
}

/** Does a scenario result carry at least one number (or say it is skipped)? */
function judge(r) {
  if (!r) return { ok: false, why: 'no result' };
  if (r.error) return { ok: false, why: r.error.split('\n')[0] };
  if (r.skipped) return { ok: true, why: `skipped: ${r.skipped}` };
  const numeric = (r.rows ?? []).some((row) => Object.values(row).some((v) => typeof v === 'number' && Number.isFinite(v)));
  return numeric ? { ok: true, why: '' } : { ok: false, why: 'reported no numbers' };
}

function machine() {
  let model = 'unknown';
  try {
    model = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? model;
  } catch {}
  let nproc = os.availableParallelism?.() ?? os.cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {}
  return { nproc, cpu: model, memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1), os: `${os.type()} ${os.release()}`, node: process.version };
}

/**
 * Runs the scenarios and resolves to `{ env, machine, results, passed, failed }`.
 * `origin`: an already running server that serves the repo root; else one is started (release).
 */
export async function runBench({ smoke = false, origin, only, log = console.log } = {}) {
  if (!existsSync(join(root, 'pkg/index.js'))) {
    log('bench: pkg/ is missing, building it (node scripts/build.mjs)');
    execFileSync('node', ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  }
  await bundlePeers();
  const wanted = only ?? [...SCENARIOS, 'hidden', 'size'];
  let server;
  if (!origin) {
    server = await startServer({ port: await freePort(47900), statics: [`/=${root}`], release: true });
    origin = server.origin;
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const results = [];
  for (const id of wanted.filter((s) => !NODE_SCENARIOS.includes(s) && !SCENARIOS.includes(s))) results.push({ id, error: `unknown scenario ${id} (known: ${[...SCENARIOS, ...NODE_SCENARIOS].join(', ')})` });
  let env = {};
  try {
    const context = await browser.newContext();
    const pageUrl = `${origin}/bench/index.html`;
    for (const id of wanted.filter((s) => SCENARIOS.includes(s))) {
      const t0 = Date.now();
      const page = await context.newPage();
      const consoleErrors = [];
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      try {
        // Serve the document cross-origin isolated (COOP + COEP), which gives performance.now()
        // its fine resolution. Only the document is intercepted; routing is removed before the
        // scenario runs, so the HTTP cache behaves as usual.
        await page.route(pageUrl, async (route) => {
          const response = await route.fetch();
          await route.fulfill({
            response,
            headers: { ...response.headers(), 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' },
          });
        });
        await page.goto(pageUrl);
        await page.waitForFunction(() => window.benchReady === true || window.benchLoadError, null, { timeout: 20_000 });
        await page.unrouteAll();
        const loadError = await page.evaluate(() => (window.benchReady ? null : window.benchLoadError));
        if (loadError) throw new Error(`the bench page did not load: ${loadError}`);
        const out = await Promise.race([
          page.evaluate((config) => window.runBench(config), { scenarios: [id], smoke }),
          new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${timeoutS(id, smoke)} s`)), timeoutS(id, smoke) * 1000)),
        ]);
        env = out.env;
        results.push(out.results[0]);
      } catch (err) {
        results.push({ id, error: `${err.message ?? err}${consoleErrors.length ? ` (page errors: ${consoleErrors.join('; ')})` : ''}` });
      } finally {
        await page.close().catch(() => {});
      }
      const r = results[results.length - 1];
      const j = judge(r);
      log(`bench: ${id} ${j.ok ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s${j.why ? ` (${j.why})` : ''}`);
    }
    env.browser = `Chromium ${browser.version()}`;
    // Driven from node, in tabs of a Chromium of its own (the server is still up).
    if (wanted.includes('hidden')) {
      const t0 = Date.now();
      try {
        const hidden = await import('../bench/hidden.mjs');
        results.push(await hidden.run({ origin, smoke, chromiumArgs: CHROMIUM_ARGS }));
      } catch (err) {
        results.push({ id: 'hidden', error: String(err.stack ?? err) });
      }
      const j = judge(results[results.length - 1]);
      log(`bench: hidden ${j.ok ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s${j.why ? ` (${j.why})` : ''}`);
    }
  } finally {
    await browser.close();
    await server?.stop();
  }
  if (wanted.includes('size')) {
    const t0 = Date.now();
    try {
      const size = await import('../bench/size.mjs');
      results.push(await size.run({ root }));
    } catch (err) {
      results.push({ id: 'size', error: String(err.stack ?? err) });
    }
    const j = judge(results[results.length - 1]);
    log(`bench: size ${j.ok ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s${j.why ? ` (${j.why})` : ''}`);
  }
  const verdicts = results.map(judge);
  return {
    env,
    machine: machine(),
    smoke,
    date: new Date().toISOString(),
    results,
    passed: verdicts.filter((v) => v.ok).length,
    failed: verdicts.filter((v) => !v.ok).length,
  };
}

// ---------------------------------------------------------------------------------------------
// Markdown

const fmtBytes = (b) => (Math.abs(b) >= 10 * 1024 * 1024 ? `${(b / 2 ** 20).toFixed(1)} MiB` : Math.abs(b) >= 10 * 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);

function cell(row, col) {
  const v = row[col.key];
  if (v === undefined || v === null) return row.skipped && col.key !== 'variant' ? '—' : '';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'n/a';
    if (col.bytes) return fmtBytes(v);
    return v.toFixed(col.digits ?? 2);
  }
  if (col.key === 'variant' && row.skipped) return `${v} — *skipped: ${row.skipped}*`;
  return String(v);
}

function table(r) {
  const cols = r.columns;
  const lines = [`| ${cols.map((c) => c.label).join(' | ')} |`, `|${cols.map((c, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of r.rows) lines.push(`| ${cols.map((c) => cell(row, c)).join(' | ')} |`);
  return lines.join('\n');
}

const mark = (pass) => (pass ? '✅ met' : '❌ missed');

function markdown(report) {
  const { env, machine: m } = report;
  const out = [];
  out.push('# fetchlane benchmarks', '');
  out.push('Generated by `npm run bench` (`node scripts/bench.mjs`) — do not edit by hand; the explanations below come from `bench/` and `scripts/bench.mjs`.', '');
  out.push('## Setup', '');
  out.push(`- Date: ${report.date}`);
  out.push(`- Browser: ${env.browser ?? 'Chromium'} (Debian's /usr/bin/chromium, headless, via playwright-core), ${env.crossOriginIsolated ? 'cross-origin isolated page' : 'page not cross-origin isolated'}, performance.now() resolution ${(env.timerResolutionMs * 1000).toFixed(0)} µs.`);
  out.push('- Chromium only: Playwright drives Firefox only through its own patched Firefox build, which cannot be downloaded here.');
  out.push(`- Machine: ${m.nproc} cores (nproc), ${m.cpu}, ${m.memoryGiB} GiB memory, ${m.os}, node ${m.node}.`);
  out.push('- Server: the project\'s test server (`tests/server`, release build) on 127.0.0.1, HTTP/1.1 keep-alive; Chromium opens at most 6 connections per host, so concurrency 6 is the natural setting. The server, the browser and node share the cores.');
  out.push('');
  out.push('## Method', '');
  out.push('- Each scenario runs in a fresh tab of one browser; the bench page (`bench/index.html`) imports `/pkg/index.js` and the peers bundled by esbuild from npm (`bench/peers-entry.js` → `bench/dist/peers.js`).');
  out.push('- Every variant gets a fresh server `run=` id so that requests are counted by the server (`/__stats`); every URL is unique (`n=`), except in the de-duplication scenario, because Chromium\'s HTTP cache serializes identical concurrent GETs.');
  out.push('- Variants are interleaved within each repetition, one warm-up repetition is discarded (not in the rate-limit scenario), the 6 keep-alive connections are opened before each timed run, and the numbers are medians over the repetitions. Ratios: "÷ fetchlane’s" > 1 means fetchlane is faster; "bound/…" ≤ 1, 1 = the bound.');
  out.push('- The driver serves the page with COOP/COEP headers (cross-origin isolated) so that `performance.now()` has a 5 µs resolution instead of 100 µs; Chromium runs with `--enable-precise-memory-info --js-flags=--expose-gc` for the memory scenario.');
  out.push('- "Calibrated" bounds replace the ideal per-request latency with what one request alone really takes here (median of plain fetches): on this machine the server\'s timers overshoot by a few ms and every browser request costs a few ms of IPC, so the ideal bounds are out of reach for every variant.');
  out.push('- A scenario whose feature is not in the build yet is reported as *skipped: not implemented yet*.');
  out.push('');
  out.push('## Goals', '');
  out.push('| scenario | goal | measured | |', '| --- | --- | --- | --- |');
  const misses = [];
  for (const r of report.results) {
    if (r.error) out.push(`| ${r.title ?? r.id} | — | error: ${r.error.split('\n')[0]} | ❌ |`);
    else if (r.skipped) out.push(`| ${r.title} | — | skipped: ${r.skipped} | — |`);
    else
      for (const g of r.goals ?? []) {
        out.push(`| ${r.title} | ${g.text} | ${g.value} | ${mark(g.pass)} |`);
        if (!g.pass) misses.push({ r, g });
      }
  }
  out.push('');
  for (const r of report.results) {
    out.push(`## ${r.title ?? r.id}`, '');
    if (r.error) {
      out.push('Error:', '', '```', r.error, '```', '');
      continue;
    }
    if (r.skipped) {
      out.push(`*Skipped: ${r.skipped}*${r.detail ? ` — ${r.detail}` : ''}.`, '');
      continue;
    }
    const params = Object.entries(r.params ?? {})
      .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join('; ') : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : v}`)
      .join(', ');
    if (params) out.push(`Parameters: ${params}.`, '');
    out.push(table(r), '');
    for (const row of r.rows.filter((x) => x.skipped && x.detail)) out.push(`- ${row.variant}: skipped (${row.detail}).`);
    for (const n of r.notes ?? []) out.push(`- ${n}`);
    for (const g of r.goals ?? []) out.push(`- Goal "${g.text}": ${g.value} — ${mark(g.pass)}.`);
    out.push('');
  }
  out.push('## Where fetchlane loses', '');
  if (misses.length === 0) out.push('Every goal that could be measured was met.');
  for (const { r, g } of misses) out.push(`- **${r.title}: ${g.text}** (${g.value}). ${g.ifMissed ?? ''}`.trimEnd());
  for (const r of report.results) for (const l of r.losses ?? []) out.push(`- **${r.title}:** ${l}`);
  out.push('');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// CLI

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const args = process.argv.slice(2);
  const smoke = args.includes('--smoke');
  const onlyArg = args.find((a) => a.startsWith('--only'));
  const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',') : undefined;
  const t0 = Date.now();
  let report;
  try {
    report = await runBench({ smoke, only });
  } catch (err) {
    console.error(err);
    if (smoke) console.log('bench smoke: 0 passed, 1 failed');
    process.exit(1);
  }
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  if (smoke) {
    if (args.includes('--print')) console.log(markdown(report));
    for (const r of report.results) if (r.error) console.log(`bench: ${r.id}: ${r.error}`);
    console.log(`bench smoke: ${report.passed} passed, ${report.failed} failed`);
    process.exit(report.failed ? 1 : 0);
  }
  const md = markdown(report);
  if (only) {
    console.log(md);
  } else {
    mkdirSync(join(root, 'bench-results'), { recursive: true });
    writeFileSync(join(root, 'bench-results/bench.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(root, 'BENCHMARKS.md'), md);
    console.log(md);
    console.log(`bench: done in ${seconds} s; wrote bench-results/bench.json and BENCHMARKS.md`);
  }
  process.exit(report.failed ? 1 : 0);
}
