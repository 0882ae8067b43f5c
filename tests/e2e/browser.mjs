// What the Playwright page tests share: Debian's Chromium with the flags this machine needs
// (no background networking, which the closed network refuses; no sandbox as root), the
// package under test, and run ids for the server's per-run accounting.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { root } from '../../scripts/server.mjs';
import { launchTabs as launchTabsWith } from '../../scripts/tabs.mjs';

export const exec = promisify(execFile);

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** The package directory under test: `FETCHLANE_PKG_DIR`, or the repo's pkg/. */
export const PKG = process.env.FETCHLANE_PKG_DIR ?? join(root, 'pkg');

/** Chromium whose tabs can be hidden and frozen (scripts/tabs.mjs), with this machine's flags. */
export const launchTabs = () => launchTabsWith(CHROMIUM_ARGS);

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
