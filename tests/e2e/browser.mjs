// What the Playwright page tests share: Debian's Chromium with the flags this machine needs
// (no background networking, which the closed network refuses; no sandbox as root), the
// package under test, and run ids for the server's per-run accounting.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { root } from '../../scripts/server.mjs';

export const exec = promisify(execFile);

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** The package directory under test: `FETCHLANE_PKG_DIR`, or the repo's pkg/. */
export const PKG = process.env.FETCHLANE_PKG_DIR ?? join(root, 'pkg');

/**
 * Headless Chromium whose tabs can be hidden and frozen, as a browser's background tabs are:
 * a tab opened later comes to the front and the others become hidden (`visibilitychange`);
 * CDP `Page.setWebLifecycleState` freezes one (`freeze`, `resume`). Pages that Playwright
 * opens through `launch()` cannot: it sends `Emulation.setFocusEmulationEnabled` to each,
 * which keeps them visible. So Chromium is started here and reached over CDP with
 * `noDefaults` (an option of `connectOverCDP` that leaves the pages of the default context as
 * they are). Open tabs with `context.newPage()`; the first is `context.pages()[0]`.
 * @returns {Promise<{ context: import('playwright-core').BrowserContext, close(): Promise<void> }>}
 */
export async function launchTabs() {
  const profile = mkdtempSync(join(tmpdir(), 'fetchlane-tabs-'));
  const proc = spawn('/usr/bin/chromium', ['--headless', ...CHROMIUM_ARGS, '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'], { stdio: 'ignore' });
  const close = async (browser) => {
    // Closed through CDP, so that Chromium ends its helper processes before the profile goes.
    await browser?.newBrowserCDPSession().then((s) => s.send('Browser.close')).catch(() => {});
    await browser?.close().catch(() => {});
    const exited = new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
    const late = setTimeout(() => proc.kill(), 5000);
    await exited;
    clearTimeout(late);
    // Chromium's helper processes may still write to the profile for a moment.
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  try {
    const portFile = join(profile, 'DevToolsActivePort');
    for (let i = 0; i < 300 && !existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 50));
    const port = readFileSync(portFile, 'utf8').split('\n')[0];
    const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { noDefaults: true });
    return { context: browser.contexts()[0], close: () => close(browser) };
  } catch (e) {
    await close();
    throw new Error(`launchTabs: Chromium's DevTools endpoint did not come up: ${e.message}`, { cause: e });
  }
}

/** Launches headless Debian Chromium (never a downloaded browser). */
export function launchChromium() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** A run id for the server's accounting, unique per call: `prefix-what-time-random`. */
export const runIdFor = (prefix) => (what) => `${prefix}-${what}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

/** Builds pkg/ when it is missing (only then: it takes a while). */
export async function ensurePkg() {
  if (existsSync(join(PKG, 'index.js')) && existsSync(join(PKG, 'fetchlane_bg.wasm'))) return;
  assert.ok(!process.env.FETCHLANE_PKG_DIR, `FETCHLANE_PKG_DIR=${PKG} has no built package`);
  await exec('node', ['scripts/build.mjs'], { cwd: root, timeout: 300_000, maxBuffer: 64 << 20 });
}

/**
 * The page's uncaught errors and console errors (a failed resource load is the tests' own
 * business), collected as strings; the array fills as the page runs.
 * @param {import('playwright-core').Page} page
 * @returns {string[]}
 */
export function pageProblems(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && problems.push(`console: ${m.text()}`));
  return problems;
}
