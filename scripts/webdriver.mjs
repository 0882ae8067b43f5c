// A minimal W3C WebDriver client (no npm dependencies: Node's fetch and child_process only).
// It runs an in-page test suite: opens a page in headless Chromium or Firefox and polls
// `window.__fetchlaneResults` until the page says it is done.
//
//   import { runPageSuite } from './scripts/webdriver.mjs';
//   const { passed, failed, results } = await runPageSuite({ browser: 'chromium', url });
//
// Whatever happens (a driver that does not start, a page that never finishes), it returns
// counts and never hangs; the driver, the browser and the temporary profile are always
// cleaned up.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function geckodriverPath() {
  if (process.env.GECKODRIVER) return process.env.GECKODRIVER;
  const cargo = join(homedir(), '.cargo/bin/geckodriver');
  return existsSync(cargo) ? cargo : 'geckodriver';
}

function chromedriverPath() {
  if (process.env.CHROMEDRIVER) return process.env.CHROMEDRIVER;
  return existsSync('/usr/bin/chromedriver') ? '/usr/bin/chromedriver' : 'chromedriver';
}

function capabilities(browser, profile) {
  if (browser === 'chromium') {
    return {
      'goog:chromeOptions': {
        binary: '/usr/bin/chromium',
        args: [
          '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
          '--disable-dev-shm-usage', `--user-data-dir=${profile}`,
        ],
      },
    };
  }
  if (browser === 'firefox') {
    return {
      'moz:firefoxOptions': {
        binary: '/usr/bin/firefox-esr',
        args: ['-headless', '-profile', profile],
        prefs: {
          'network.proxy.type': 0,
          'browser.shell.checkDefaultBrowser': false,
          'browser.aboutwelcome.enabled': false,
          'datareporting.policy.dataSubmissionEnabled': false,
          'toolkit.telemetry.reporting.enabled': false,
          'app.update.disabledForTesting': true,
          'dom.max_script_run_time': 0,
          'network.http.speculative-parallel-limit': 0,
        },
      },
    };
  }
  throw new Error(`webdriver: unknown browser '${browser}' (use 'chromium' or 'firefox')`);
}

// Drivers (process group ids) alive now. If this process exits or is stopped by a signal
// mid-run, the `finally` below never runs: these hooks still take the drivers (and their
// browsers) down, so nothing is left orphaned.
const live = new Set();
const profiles = new Set();
const killGroup = (pgid, sig) => {
  try {
    process.kill(-pgid, sig);
  } catch {
    // already gone
  }
};
const onExit = () => {
  for (const pgid of live) killGroup(pgid, 'SIGKILL');
  for (const dir of profiles) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // best effort
    }
  }
};
const onSignal = (sig) => {
  onExit();
  unhook();
  process.kill(process.pid, sig); // the default action, now that the drivers are gone
};
function hook() {
  if (live.size !== 1) return;
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}
function unhook() {
  process.off('exit', onExit);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
}

/** One WebDriver command; rejects with the driver's error message. */
async function command(base, method, path, body, timeoutMs = 30000) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`webdriver: ${method} ${path} answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok || (json.value && json.value.error)) {
    const v = json.value || {};
    throw new Error(`webdriver: ${method} ${path}: ${v.error || res.status}: ${String(v.message || text).slice(0, 500)}`);
  }
  return json.value;
}

/**
 * Starts the driver for `browser`, creates a session, calls `fn({ base, sessionId, command })`
 * and always tears everything down. `command(method, path, body)` is relative to the session.
 */
export async function withDriver(browser, fn, { startTimeoutMs = 30000 } = {}) {
  const profile = await mkdtemp(join(tmpdir(), `fetchlane-${browser}-`));
  profiles.add(profile);
  let child;
  let output = '';
  let exited = null;
  let base;
  let sessionId;
  const tail = () => output.trim().split('\n').slice(-8).join('\n');
  try {
    const port = await freePort();
    let bin;
    let args;
    if (browser === 'chromium') {
      bin = chromedriverPath();
      args = [`--port=${port}`];
    } else if (browser === 'firefox') {
      bin = geckodriverPath();
      const marionette = await freePort();
      args = ['--port', String(port), '--host', '127.0.0.1', '--marionette-port', String(marionette)];
    } else {
      throw new Error(`webdriver: unknown browser '${browser}' (use 'chromium' or 'firefox')`);
    }
    const caps = capabilities(browser, profile);
    // Its own process group, so that the driver and the browser it started go together.
    child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid !== undefined) {
      live.add(child.pid);
      hook();
    }
    const collect = (chunk) => {
      output += chunk;
      if (output.length > 20000) output = output.slice(-10000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const spawnError = new Promise((resolve) => child.once('error', (e) => resolve(e)));
    child.once('exit', (code, signal) => {
      exited = signal ? `signal ${signal}` : `code ${code}`;
    });
    base = `http://127.0.0.1:${port}`;

    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      const failedToSpawn = await Promise.race([spawnError, sleep(0).then(() => null)]);
      if (failedToSpawn) throw new Error(`webdriver: cannot start ${bin}: ${failedToSpawn.message}`);
      if (exited) throw new Error(`webdriver: ${bin} exited (${exited}) before it was ready\n${tail()}`);
      try {
        const status = await command(base, 'GET', '/status', undefined, 2000);
        if (status && status.ready !== false) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`webdriver: ${bin} not ready within ${startTimeoutMs} ms\n${tail()}`);
      await sleep(100);
    }

    const session = await command(base, 'POST', '/session', { capabilities: { alwaysMatch: caps } }, 60000).catch(
      (e) => {
        throw new Error(`${e.message}\n${tail()}`);
      },
    );
    sessionId = session.sessionId;
    const sessionCommand = (method, path, body, timeoutMs) =>
      command(base, method, `/session/${sessionId}${path}`, body, timeoutMs);
    return await fn({ base, sessionId, command: sessionCommand });
  } finally {
    if (sessionId) {
      await command(base, 'DELETE', `/session/${sessionId}`, undefined, 10000).catch(() => {});
    }
    if (child && child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      const kill = (sig) => {
        try {
          process.kill(-child.pid, sig);
        } catch {
          try {
            child.kill(sig);
          } catch {
            // already gone
          }
        }
      };
      kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), 3000);
      await Promise.race([gone, sleep(5000)]);
      clearTimeout(t);
    } else if (child && child.pid !== undefined) {
      // The driver is gone; make sure nothing it started lingers in its group.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // nothing left
      }
    }
    if (child && child.pid !== undefined) {
      live.delete(child.pid);
      if (live.size === 0) unhook();
    }
    await rm(profile, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
    profiles.delete(profile);
  }
}

/**
 * Opens `url` in `browser` and collects the page's test results from
 * `window.__fetchlaneResults = { done, passed, failed, results: [{ name, ok, error, ms }] }`.
 * Resolves to `{ passed, failed, results }`; never rejects and never hangs.
 */
export async function runPageSuite({ browser, url, timeoutMs = 120000, log = console.log }) {
  const results = [];
  const report = (r) => {
    results.push(r);
    log(r.ok ? `ok - ${r.name}` : `not ok - ${r.name}: ${r.error}`);
  };
  const started = Date.now();
  let hardTimer;
  const hardStop = new Promise((resolve) => {
    // The last line of defence: the whole run (driver start included) is bounded.
    hardTimer = setTimeout(() => resolve('hard-timeout'), timeoutMs + 90000);
  });
  const work = withDriver(browser, async ({ command: cmd }) => {
    await cmd('POST', '/timeouts', { script: 30000, pageLoad: 60000 }).catch(() => {});
    await cmd('POST', '/url', { url }, 90000);
    const deadline = started + timeoutMs;
    let last = null;
    for (;;) {
      let state = null;
      try {
        state = await cmd(
          'POST',
          '/execute/sync',
          {
            script:
              'const r = window.__fetchlaneResults; if (!r) return null; ' +
              'return { done: !!r.done, current: r.current || null, loadError: r.loadError || null, ' +
              'results: (r.results || []).map((x) => ({ name: String(x.name), ok: !!x.ok, error: x.error == null ? null : String(x.error), ms: Number(x.ms) || 0 })) };',
            args: [],
          },
          15000,
        );
      } catch (e) {
        last = { error: e.message };
      }
      if (state) {
        last = state;
        for (const r of state.results.slice(results.length)) report(r);
        if (state.done) return;
      }
      if (Date.now() > deadline) {
        const where = last && last.current ? ` (still running: ${last.current})` : '';
        const why = last && last.error ? ` (last poll: ${last.error})` : '';
        const loadError = last && last.loadError ? ` (page error: ${last.loadError})` : '';
        report({
          name: `${browser}: page suite`,
          ok: false,
          error: `the page did not finish within ${timeoutMs} ms${where}${loadError}${why}` +
            (last === null || (!last.results && !last.error) ? ' (window.__fetchlaneResults never appeared: did the page load?)' : ''),
          ms: Date.now() - started,
        });
        return;
      }
      await sleep(250);
    }
  });
  try {
    const outcome = await Promise.race([work.then(() => 'ok'), hardStop]);
    if (outcome === 'hard-timeout') {
      report({ name: `${browser}: page suite`, ok: false, error: `no answer from the driver within ${timeoutMs + 90000} ms`, ms: Date.now() - started });
      work.catch(() => {});
    }
  } catch (e) {
    report({ name: `${browser}: page suite`, ok: false, error: e && e.message ? e.message : String(e), ms: Date.now() - started });
  } finally {
    clearTimeout(hardTimer);
  }
  const passed = results.filter((r) => r.ok).length;
  return { passed, failed: results.length - passed, results };
}
