// Headless Chromium with tabs that can be hidden and frozen, for the Playwright tests of
// `share` (tests/e2e/share-hidden.test.mjs) and the bench's `hidden` scenario.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/**
 * Headless Chromium whose tabs can be hidden and frozen, as a browser's background tabs are:
 * a tab opened later comes to the front and the others become hidden (`visibilitychange`);
 * CDP `Page.setWebLifecycleState` freezes one (`freeze`, `resume`). Pages that Playwright
 * opens through `launch()` cannot: it sends `Emulation.setFocusEmulationEnabled` to each,
 * which keeps them visible. So Chromium is started here and reached over CDP with
 * `noDefaults` (an option of `connectOverCDP` that leaves the pages of the default context as
 * they are). Open tabs with `context.newPage()`; the first is `context.pages()[0]`.
 * @param {string[]} args Chromium's flags (besides headless, the DevTools port and the profile)
 * @returns {Promise<{ context: import('playwright-core').BrowserContext, close(): Promise<void> }>}
 */
export async function launchTabs(args) {
  const profile = mkdtempSync(join(tmpdir(), 'fetchlane-tabs-'));
  const proc = spawn('/usr/bin/chromium', ['--headless', ...args, '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'], { stdio: 'ignore' });
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

/**
 * Resolves once `test` (evaluated in `page` with `arg`) is true, polled from node every 5 ms: a
 * hidden page's own timers fire about once a second, so polling inside it would measure the
 * throttling. Throws after `timeout` ms.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<number>} the ms it took
 */
export async function until(page, test, arg, timeout = 5000) {
  const t0 = Date.now();
  while (!(await page.evaluate(test, arg))) {
    if (Date.now() - t0 > timeout) throw new Error(`not within ${timeout} ms: ${test} ${JSON.stringify(arg) ?? ''}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - t0;
}
