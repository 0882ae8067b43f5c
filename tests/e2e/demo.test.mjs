// The demo page (www/): Playwright (playwright-core + Debian's Chromium) opens it against the
// local API server with faults on, loads the scene in each mode and checks what the page claims:
// fetchlane completes every panel while Promise.all loses one, the team panel's 100 users cost
// ⌈100/maxBatchSize⌉ server hits, and a second load (same client, then a reloaded page) is
// answered from the memory cache and the Cache API. Saves a screenshot to target/demo.png, or
// to the README's docs/demo.png with UPDATE_SCREENSHOT=1 (so that a test run leaves the tree clean).
// A second test turns the adaptive per-host limit on and checks the limit chart against stats().
// A third loads the product page: fetchlane's panels ask for their own fields of /api/product/42
// and it goes out once, for the union, drawn as one bar with its callers; Promise.all fetches
// the whole product once per panel.
//   node --test tests/e2e/demo.test.mjs
// FETCHLANE_PKG_DIR=/some/dir serves that directory as /pkg instead of the repo's pkg/.
import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import { root, startServer } from '../../scripts/server.mjs';
import { launchChromium } from './browser.mjs';

/** A JSON call to the test server's own routes. */
const serverApi = async (server, path, init) => (await fetch(`${server.origin}${path}`, init)).json();

/** Puts the server's fault knobs back to none and clears its counts (best effort: it may be gone). */
async function quietFaults(server) {
  try {
    await serverApi(server, '/__config', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 0, jitterMs: 0, errorRate: 0, rateLimitRate: 0, retryAfterSec: 1 }),
    });
    await serverApi(server, '/__reset', { method: 'POST' });
  } catch {
    /* the server may be gone already */
  }
}

const DEFAULT_FAULTS = { latencyMs: 120, jitterMs: 80, errorRate: 0.15, rateLimitRate: 0.1, retryAfterSec: 1 };
const PANELS = ['product', 'price', 'stock', 'reviews', 'inventory', 'recommendations', 'account', 'user', 'notifications', 'analytics', 'team'];
const TEAM_SIZE = 100;
const MAX_BATCH = 25;
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1' ? join(root, 'docs', 'demo.png') : join(root, 'target', 'demo.png');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

/**
 * Re-encodes an 8-bit RGB/RGBA PNG (what Chromium writes) as a palette PNG of its 256 most
 * frequent colours (every other colour mapped to the nearest): a flat UI screenshot loses
 * nothing visible and shrinks to well under the 200 KB budget.
 */
function toPalettePng(png) {
  let pos = 8;
  let width;
  let height;
  let colorType;
  const idat = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      colorType = data[9];
      if (data[8] !== 8 || (colorType !== 2 && colorType !== 6) || data[12] !== 0) return png;
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? px[row + i - bpp] : 0;
      const b = y > 0 ? px[row - stride + i] : 0;
      const c = i >= bpp && y > 0 ? px[row - stride + i - bpp] : 0;
      let v = raw[src + i];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[row + i] = v & 0xff;
    }
  }
  const counts = new Map();
  for (let i = 0; i < px.length; i += bpp) {
    const k = (px[i] << 16) | (px[i + 1] << 8) | px[i + 2];
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const palette = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 256).map(([k]) => k);
  const index = new Map();
  const nearest = (k) => {
    let best = 0;
    let bestD = Infinity;
    const r = k >> 16;
    const g = (k >> 8) & 0xff;
    const b = k & 0xff;
    for (let j = 0; j < palette.length; j++) {
      const p = palette[j];
      const d = 3 * (r - (p >> 16)) ** 2 + 4 * (g - ((p >> 8) & 0xff)) ** 2 + 2 * (b - (p & 0xff)) ** 2;
      if (d < bestD) [best, bestD] = [j, d];
    }
    return best;
  };
  const out = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * stride + x * bpp;
      const k = (px[i] << 16) | (px[i + 1] << 8) | px[i + 2];
      let j = index.get(k);
      if (j === undefined) index.set(k, (j = nearest(k)));
      out[y * (width + 1) + 1 + x] = j;
    }
  }
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 3, 0, 0, 0], 8);
  const plte = Buffer.alloc(palette.length * 3);
  palette.forEach((p, j) => plte.set([p >> 16, (p >> 8) & 0xff, p & 0xff], j * 3));
  return Buffer.concat([
    png.subarray(0, 8), chunk('IHDR', ihdr), chunk('PLTE', plte),
    chunk('IDAT', deflateSync(out, { level: 9 })), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Waits until the page shows the server's fault config as `want` (it reads it back after
 * setting it).
 * @param {import('playwright-core').Page} page
 * @param {Record<string, unknown>} want
 */
function serverConfigShown(page, want) {
  return page.waitForFunction(
    (w) => {
      const c = JSON.parse(document.querySelector('[data-testid="server-config"]').dataset.config ?? '{}');
      return Object.entries(w).every(([k, v]) => c[k] === v);
    },
    want,
  );
}

/** Clicks `button`, waits for the run it starts to be counted, and returns its row's data. */
async function runClicked(page, button) {
  const before = Number(await page.getAttribute('body', 'data-runs'));
  await page.click(button);
  await page.waitForFunction(
    (n) => Number(document.body.dataset.runs) > n && document.body.dataset.busy === 'false',
    before,
    { timeout: 180_000 },
  );
  return page.$eval('[data-testid="run-row"]', (row) => ({ ...row.dataset }));
}

/**
 * Serves the demo with the built package, opens it in Chromium, runs `body`, and always puts
 * the server's fault knobs back and closes the browser and the server.
 * @param {(demo: { server: any, api: (path: string, init?: RequestInit) => Promise<any>, page: import('playwright-core').Page, pageErrors: string[] }) => Promise<void>} body
 */
async function withDemo(body) {
  const statics = [`/=${root}/www`, `/pkg=${process.env.FETCHLANE_PKG_DIR ?? `${root}/pkg`}`];
  const server = await startServer({ statics });
  const api = (path, init) => serverApi(server, path, init);
  let browser;
  try {
    await api('/__reset', { method: 'POST' });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await body({ server, api, page, pageErrors });
  } finally {
    await quietFaults(server);
    if (browser) await browser.close();
    await server.stop();
  }
}

test('demo page: three modes under faults, batching, memory and Cache API reloads', { timeout: 900_000 }, async (t) => {
  await withDemo(async ({ server, api, page, pageErrors }) => {

    const open = async () => {
      await page.goto(`${server.origin}/?autoload=0`);
      await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
    };
    const panelStates = () =>
      page.$$eval('[data-testid^="panel-"]', (els) => Object.fromEntries(els.map((e) => [e.dataset.panel, e.dataset.state])));
    const runVia = async (button) => ({ row: await runClicked(page, button), panels: await panelStates() });
    const load = async (mode, scene = 'page') => {
      await page.check(`[data-testid="mode-${mode}"]`);
      await page.selectOption('[data-testid="scene"]', scene);
      return runVia('[data-testid="load"]');
    };
    const setFaults = async (button, expected) => {
      await page.click(button);
      await serverConfigShown(page, expected);
      assert.deepEqual(await api('/__config'), expected, 'the page set the server config');
    };
    const allOk = (panels) => PANELS.every((p) => panels[p] === 'ok');
    const totals = {};

    await open();
    await setFaults('[data-testid="faults-default"]', DEFAULT_FAULTS);

    // 1. fetchlane, cold caches, faults on: every panel completes.
    const cold = await load('fetchlane');
    assert.ok(allOk(cold.panels), `fetchlane: every panel ok, got ${JSON.stringify(cold.panels)}`);
    assert.equal(Number(cold.row.failedPanels), 0);
    const coldHits = Number(cold.row.hits);
    const coldStats = await api(`/__stats?run=${encodeURIComponent(cold.row.run)}`);
    assert.equal(coldStats.total, coldHits, 'the page shows the server-side count');
    assert.ok(coldHits >= 11, `fetchlane made its requests (${coldHits})`);
    // The latency panel: a row per endpoint from the settled events' timing, the client's
    // percentiles under it, and the requests as measures on the Performance panel's track.
    const latency = await page.evaluate(() => ({
      rows: [...document.querySelectorAll('[data-testid="latency-row"]')].map((r) => ({ ...r.dataset })),
      overall: { ...document.querySelector('[data-testid="latency-overall"]').dataset },
      tracks: [...new Set(performance.getEntriesByName('fetchlane:network').map((m) => m.detail.devtools.track))],
    }));
    assert.ok(latency.rows.length >= 3, `latency rows: ${JSON.stringify(latency.rows)}`);
    assert.ok(latency.rows.some((r) => Number(r.network) > 0 && Number(r.p95) >= Number(r.p50)), 'a row splits queue and network');
    assert.ok(Number(latency.overall.latencyP50) > 0, `stats().latency shown: ${JSON.stringify(latency.overall)}`);
    assert.deepEqual(latency.tracks, ['fetchlane'], 'the network measures are on the fetchlane track');
    // The analytics outbox: the product view was stored and delivered once, by its key; with
    // the endpoint down, the next one waits (stored), and goes once the endpoint is back.
    const outbox = () => page.$eval('[data-testid="outbox-status"]', (el) => ({ ...el.dataset }));
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="outbox-status"]').dataset.delivered) >= 1, null, { timeout: 20_000 });
    const analyticsRun = (await outbox()).run;
    const delivered = await api(`/__stats?run=${analyticsRun}`);
    assert.equal(delivered.collected?.analytics?.keys.length, 1, 'one view delivered');
    await page.check('[data-testid="outbox-down"]');
    await load('fetchlane');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="outbox-status"]').dataset.stored) === 1, null, { timeout: 20_000 });
    await page.uncheck('[data-testid="outbox-down"]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="outbox-status"]').dataset.delivered) >= 2, null, { timeout: 30_000 });
    const after = await api(`/__stats?run=${analyticsRun}`);
    assert.equal(after.collected.analytics.keys.length, 2, 'the waiting view went once the endpoint was back');
    assert.deepEqual(after.collected.analytics.duplicates, [], 'each key once');
    assert.ok(after.arrivals.some((a) => a.fault === 'down'), 'the endpoint really was down for an attempt');
    assert.ok(Number(cold.row.deduped ?? 1) >= 1, 'identical GETs were de-duplicated');
    totals.fetchlane = cold.row;
    await t.test('waterfall: bars are keyboard operable and show details', async () => {
      const bars = await page.$$('[data-testid="waterfall"] [data-row]');
      assert.ok(bars.length >= 11, `one bar per request (${bars.length})`);
      await page.focus('[data-testid="waterfall"] [data-row="0"]');
      await page.keyboard.press('ArrowDown');
      const focused = await page.evaluate(() => document.activeElement?.dataset?.row);
      assert.equal(focused, '1');
      assert.match(await page.textContent('[data-testid="waterfall-details"]'), /GET \/api\//);
      assert.ok(await page.isVisible('#wf-tip'), 'the tooltip shows for the focused bar');
    });

    // 2. The same client again: answered from memory, fewer server hits.
    const again = await runVia('[data-testid="again"]');
    assert.ok(allOk(again.panels), `second load: every panel ok, got ${JSON.stringify(again.panels)}`);
    assert.ok(Number(again.row.cacheMemory) > 0, `memory hits on the second load (${again.row.cacheMemory})`);
    assert.ok(Number(again.row.hits) < coldHits, `fewer server hits (${again.row.hits} < ${coldHits})`);

    // 3. A reloaded page, a new client: answered from the Cache API.
    await open();
    const reloaded = await load('fetchlane');
    assert.ok(allOk(reloaded.panels), `after a reload: every panel ok, got ${JSON.stringify(reloaded.panels)}`);
    assert.ok(Number(reloaded.row.cachePersistent) > 0, `Cache API hits after the reload (${reloaded.row.cachePersistent})`);
    assert.ok(Number(reloaded.row.hits) < coldHits, `fewer server hits after the reload (${reloaded.row.hits} < ${coldHits})`);
    const persistentStat = Number(await page.textContent('[data-testid="stat-cacheHits.persistent"]'));
    assert.ok(persistentStat > 0, `the stats panel shows cacheHits.persistent (${persistentStat})`);

    // 4. Promise.all of plain fetch under the same faults: at least one panel fails.
    let all;
    for (let i = 0; i < 5; i++) {
      all = await load('promise-all');
      if (Number(all.row.failedPanels) > 0) break;
    }
    assert.ok(Number(all.row.failedPanels) > 0, 'Promise.all shows a failure');
    assert.ok(Object.values(all.panels).includes('error'), 'a panel is in its error state');
    assert.equal(Number(all.row.hits), 110, 'Promise.all: 10 panel requests + 100 team requests');
    totals['promise-all'] = all.row;

    // 5. Sequential await fetch: slow, and every fault reaches a panel.
    const seq = await load('sequential');
    assert.equal(Number(seq.row.hits), 110, 'sequential: 110 requests');
    totals.sequential = seq.row;

    // 6. Batching: 100 load(id) calls, ⌈100/25⌉ = 4 server hits (faults off so that retries do not add any).
    await setFaults('[data-testid="faults-off"]', { latencyMs: 0, jitterMs: 0, errorRate: 0, rateLimitRate: 0, retryAfterSec: 1 });
    await page.click('[data-testid="clear-cache"]');
    await page.waitForFunction(() => /cleared/i.test(document.querySelector('[data-testid="status"]').textContent));
    const team = await load('fetchlane', 'team');
    assert.equal(team.panels.team, 'ok');
    const teamStats = await api(`/__stats?run=${encodeURIComponent(team.row.run)}`);
    assert.equal(teamStats.hits['/api/team'], Math.ceil(TEAM_SIZE / MAX_BATCH), `batched team: ${JSON.stringify(teamStats.hits)}`);
    assert.equal(teamStats.total, Math.ceil(TEAM_SIZE / MAX_BATCH));
    assert.equal(Number(team.row.teamHits), Math.ceil(TEAM_SIZE / MAX_BATCH), 'the page shows the team hits');
    // The page paints the finished run's team note after its summary row appears.
    await page.waitForFunction(() => document.querySelector('[data-testid="team-method"]')?.dataset.method);
    const method = await page.getAttribute('[data-testid="team-method"]', 'data-method');
    assert.ok(['loader', 'hand-rolled'].includes(method), `batching method ${method}`);
    t.diagnostic(`team batching via ${method}`);

    // 7. A narrow screen: no horizontal scrolling of the page.
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal overflow at 390 px (${overflow})`);
    await page.setViewportSize({ width: 1200, height: 900 });

    // 8. The screenshot: default faults, cold caches, fetchlane (the other modes' last runs beside it).
    await setFaults('[data-testid="faults-default"]', DEFAULT_FAULTS);
    await page.click('[data-testid="clear-cache"]');
    const shot = await load('fetchlane');
    assert.ok(allOk(shot.panels), `fetchlane again: every panel ok, got ${JSON.stringify(shot.panels)}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.mouse.move(10, 10);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    writeFileSync(SCREENSHOT, toPalettePng(await page.screenshot()));
    const size = statSync(SCREENSHOT).size;
    assert.ok(size <= 200 * 1024, `screenshot ≤ 200 KB (${size})`);

    for (const [mode, r] of Object.entries(totals)) {
      t.diagnostic(`${mode}: total ${r.total} ms, ${r.hits} server hits, ${r.failedPanels} panels failed (${r.failedRequests} requests), ${r.bytes} bytes`);
    }
    assert.deepEqual(pageErrors, [], 'no uncaught errors on the page');
  });
});

test('demo page: the adaptive per-host limit, charted from limit events and stats().hosts', { timeout: 300_000 }, async (t) => {
  await withDemo(async ({ server, api, page, pageErrors }) => {
    await page.goto(`${server.origin}/?autoload=0`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });

    const runVia = (button) => runClicked(page, button);
    /** Waits for the client the form's last change made. */
    const clientWith = (adaptive, strategy) =>
      page.waitForFunction(
        ([a, s]) => {
          const el = document.querySelector('[data-testid="client-info"]');
          return el.dataset.adaptive === String(a) && el.textContent.includes(`cache ${s}`) && window.fetchlaneDemo.client;
        },
        [adaptive, strategy],
      );
    /** The stats list's hosts.<host>.limit rows: host → limit. */
    const hostRows = () =>
      page.$$eval('[data-testid^="stat-hosts."]', (els) =>
        Object.fromEntries(els.map((e) => [e.dataset.stat.replace(/^hosts\./, '').replace(/\.limit$/, ''), Number(e.textContent)])));
    const chart = () =>
      page.$eval('[data-testid="limit-chart"]', (el) => ({
        ...el.dataset,
        points: [...el.querySelectorAll('.lc-point')].map((c) => ({ ...c.dataset })),
        label: el.querySelector('svg')?.getAttribute('aria-labelledby'),
      }));
    const limitNow = () => page.textContent('[data-testid="limit-now"]');

    // Off by default: the limit is fixed at perHost.
    assert.equal(await page.isChecked('[data-testid="adaptive"]'), false, 'adaptive is off by default');
    assert.match(await page.textContent('[data-testid="client-info"]'), /adaptive per-host limit off/);
    assert.match(await limitNow(), /fixed at perHost/);

    // network-only: every load goes to the server (cache hits would not measure anything), then adaptive on.
    await page.selectOption('[data-testid="strategy"]', 'network-only');
    await clientWith(false, 'network-only');
    await page.check('[data-testid="adaptive"]');
    await clientWith(true, 'network-only');
    assert.match(await page.textContent('[data-testid="client-info"]'), /adaptive per-host limit on/);
    assert.equal((await chart()).points.length, 0, 'a new client starts an empty chart');

    // Server latency through the form, no errors: the limit moves on latency alone.
    const faults = { latencyMs: 150, jitterMs: 60, errorRate: 0, rateLimitRate: 0, retryAfterSec: 1 };
    for (const [k, v] of Object.entries(faults)) await page.fill(`#${k}`, String(k.endsWith('Rate') ? v * 100 : v));
    await serverConfigShown(page, faults);
    assert.deepEqual(await api('/__config'), faults, 'the form set the server config');

    const loads = [];
    for (let i = 0; i < 3; i++) loads.push(await runVia('[data-testid="load"]'));
    for (const row of loads) assert.equal(Number(row.failedPanels), 0, `every panel ok (${JSON.stringify(row)})`);

    // The chart and the stats list agree once the last render is in.
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid^="stat-hosts."]')];
      const now = document.querySelector('[data-testid="limit-now"]').textContent.match(/Now: (\d+)/);
      return rows.length > 0 && now && rows.some((r) => r.textContent === now[1]);
    }, null, { timeout: 10_000 });
    const hosts = await hostRows();
    const c = await chart();
    const seen = Object.keys(hosts);
    assert.ok(seen.length >= 1, `stats().hosts has a row (${JSON.stringify(hosts)})`);
    for (const host of seen) {
      const pts = c.points.filter((p) => p.host === host);
      assert.ok(pts.length >= 1, `the chart has a point for ${host} (${JSON.stringify(c.points)})`);
      assert.equal(Number(pts.at(-1).limit), hosts[host], `the chart's last point for ${host} is the stats row`);
    }
    const m = (await limitNow()).match(/Now: (\d+) on (\S+)/);
    assert.ok(m, `limit-now shows a number: ${await limitNow()}`);
    const now = Number(m[1]);
    assert.ok(now >= 1 && now <= 6, `limit-now within [1, 6] (${now})`);
    assert.equal(now, hosts[m[2]], `limit-now equals the stats row hosts.${m[2]}.limit`);
    assert.ok(Number(c.events) >= 1, `the limit moved: ${c.events} limit events (${JSON.stringify(c.points)})`);
    assert.equal(c.label, 'h-limits', 'the chart is labelled by its heading');
    assert.match(await page.textContent('[data-testid="limit-summary"]'), /change/);
    const logged = await page.$$eval('#log li.log-limit', (els) => els.length);
    assert.equal(logged, Number(c.events), 'every limit event is in the event log');
    t.diagnostic(`limit: ${now} on ${m[2]}, ${c.events} limit events: ${c.points.map((p) => `${p.limit}@${p.t} (${p.reason})`).join(', ')}`);
    t.diagnostic(`loads: ${loads.map((r) => `${r.total} ms`).join(', ')}`);

    // Adaptive off again: a new client, an empty chart, then a fixed limit of perHost (6).
    await page.uncheck('[data-testid="adaptive"]');
    await clientWith(false, 'network-only');
    assert.equal((await chart()).points.length, 0, 'the chart was cleared for the new client');
    await runVia('[data-testid="load"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid^="stat-hosts."]').length > 0);
    const fixed = await chart();
    assert.equal(fixed.events, '0', 'no limit events with adaptive off');
    assert.ok(fixed.points.length >= 1 && fixed.points.every((p) => p.limit === '6'), `flat at 6: ${JSON.stringify(fixed.points)}`);
    assert.match(await limitNow(), /fixed at perHost: 6 on /);
    assert.deepEqual(Object.values(await hostRows()), [6], 'stats().hosts: perHost 6');

    assert.deepEqual(pageErrors, [], 'no uncaught errors on the page');
  });
});

test('demo page: the product panels ask for their own fields, one request for the union, one bar with its callers', { timeout: 300_000 }, async (t) => {
  const PRODUCT = '/api/product/42';
  // the card, the price box and the stock badge (www/app.js SECTIONS.product)
  const CALLERS = {
    card: ['id', 'name', 'brand', 'category', 'rating', 'reviewCount', 'images', 'description', 'tags', 'specs'],
    price: ['price', 'currency'],
    stock: ['stock'],
  };
  const UNION = [...new Set(Object.values(CALLERS).flat())].sort();
  const PRODUCT_PANELS = ['product', 'price', 'stock', 'reviews', 'inventory', 'recommendations'];
  await withDemo(async ({ server, api, page, pageErrors }) => {
    await page.goto(`${server.origin}/?autoload=0`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
    // no faults: a retry would be a second request of the product
    await page.click('[data-testid="faults-off"]');
    await page.waitForFunction(() => JSON.parse(document.querySelector('[data-testid="server-config"]').dataset.config ?? '{}').errorRate === 0);
    assert.equal((await api('/__config')).errorRate, 0);

    const load = async (mode) => {
      await page.check(`[data-testid="mode-${mode}"]`);
      await page.selectOption('[data-testid="scene"]', 'product');
      const before = Number(await page.getAttribute('body', 'data-runs'));
      await page.click('[data-testid="load"]');
      await page.waitForFunction((n) => Number(document.body.dataset.runs) > n && document.body.dataset.busy === 'false', before, { timeout: 120_000 });
      const row = await page.$eval('[data-testid="run-row"]', (el) => ({ ...el.dataset }));
      const panels = await page.$$eval('[data-testid^="panel-"]', (els) => Object.fromEntries(els.map((e) => [e.dataset.panel, e.dataset.state])));
      const stats = await api(`/__stats?run=${encodeURIComponent(row.run)}`);
      const productArrivals = stats.arrivals.filter((a) => a.path === PRODUCT);
      return { row, panels, stats, productArrivals, fields: productArrivals.map((a) => new URLSearchParams(a.query).get('fields')) };
    };
    const panelText = (name) => page.textContent(`[data-testid="panel-${name}"] .panel-body`);

    // fetchlane: three panels, three field lists, one request for their union
    const fl = await load('fetchlane');
    for (const p of PRODUCT_PANELS) assert.equal(fl.panels[p], 'ok', `fetchlane: panel ${p} ok (${JSON.stringify(fl.panels)})`);
    assert.equal(fl.stats.hits[PRODUCT], 1, `fetchlane: ${PRODUCT} requested once (${JSON.stringify(fl.stats.hits)})`);
    assert.deepEqual(fl.fields, [UNION.join(',')], 'fetchlane: fields= holds the union of the panels\' fields, sorted');
    assert.match(await panelText('price'), /^\$[\d,]+\.\d\d$/, 'the price box shows the price');
    assert.match(await panelText('stock'), /(In stock|Low stock|Out of stock): \d+ available/, 'the stock badge shows the stock');
    assert.match(await panelText('product'), /reviews/, 'the card shows the rating line');
    assert.ok(await page.$('[data-testid="panel-product"] img.product-img'), 'the card shows the image');
    assert.equal(Number(fl.row.productHits), 1, 'the runs table shows one product request');

    // the waterfall: one bar for the product, its three callers listed
    const bars = await page.$$eval('[data-testid="waterfall"] [data-row]', (els) => els.map((g) => ({ ...g.dataset, text: g.textContent })));
    const productBars = bars.filter((b) => b.label.startsWith(`${PRODUCT}?`) || b.label === PRODUCT);
    assert.equal(productBars.length, 1, `one bar for ${PRODUCT}: ${JSON.stringify(bars.map((b) => b.label))}`);
    const coalesced = await page.$$('[data-testid="waterfall"] [data-testid="wf-coalesced"]');
    assert.equal(coalesced.length, 1, 'one coalesced bar');
    const bar = productBars[0];
    assert.equal(bar.testid, 'wf-coalesced');
    assert.equal(bar.callers, '3');
    assert.equal(bar.callerNames, 'card,price,stock');
    assert.match(bar.text, /3 callers/, 'the row label says 3 callers');
    // The analytics view goes through the outbox: a bar of its own colour when it was delivered
    // during the run, beside the panels' four.
    const outboxBars = bars.filter((b) => b.label.startsWith('/collect/'));
    assert.ok(outboxBars.every((b) => b.outcome === 'outbox'), `outbox deliveries in their colour: ${JSON.stringify(outboxBars)}`);
    assert.equal(bars.length - outboxBars.length, 4, `4 bars: product, reviews, inventory, recommendations (${JSON.stringify(bars.map((b) => b.label))})`);
    await page.focus(`[data-testid="waterfall"] [data-row="${bar.row}"]`);
    const callers = await page.$$eval('[data-testid="waterfall-details"] [data-testid="wf-caller"]', (els) =>
      els.map((li) => ({ name: li.dataset.caller, fields: li.dataset.fields })));
    assert.deepEqual(
      callers.map((c) => c.name).sort(), ['card', 'price', 'stock'], `the details list the callers: ${JSON.stringify(callers)}`);
    for (const c of callers) assert.deepEqual(c.fields.split(','), CALLERS[c.name], `the fields of ${c.name}`);
    const details = await page.textContent('[data-testid="waterfall-details"]');
    assert.match(details, /3 callers: card \(id, name… \(10\)\), price \(price, currency\), stock \(stock\)/);
    assert.match(await page.textContent('#wf-tip'), /3 callers/, 'the tooltip lists the callers');

    // Promise.all: the whole product once per panel
    const all = await load('promise-all');
    for (const p of PRODUCT_PANELS) assert.equal(all.panels[p], 'ok', `Promise.all: panel ${p} ok (${JSON.stringify(all.panels)})`);
    assert.equal(all.stats.hits[PRODUCT], 3, `Promise.all: ${PRODUCT} once per panel (${JSON.stringify(all.stats.hits)})`);
    assert.deepEqual(all.fields, [null, null, null], 'Promise.all: no fields=, the whole product each time');
    assert.equal(all.stats.total, 6, 'Promise.all: one request per panel');
    assert.equal(await page.$$eval('[data-testid="waterfall"] [data-testid="wf-coalesced"]', (els) => els.length), 0);
    assert.equal(await page.$$eval('[data-testid="waterfall"] [data-row]', (els) => els.length), 6, 'Promise.all: one bar per panel');

    // the lighter transfer: fetchlane's product bytes are under a third of Promise.all's
    const flBytes = Number(fl.row.productBytes);
    const allBytes = Number(all.row.productBytes);
    assert.ok(flBytes > 0 && allBytes > 0, `bytes counted (${flBytes}, ${allBytes})`);
    assert.ok(flBytes * 3 < allBytes, `fetchlane: ${flBytes} B for the product, Promise.all: ${allBytes} B`);
    const summary = await page.getAttribute('[data-testid="summary-fetchlane-product"]', 'data-hits');
    assert.equal(summary, '1', 'the fetchlane summary shows one product request');
    t.diagnostic(`${PRODUCT}: fetchlane 1 request, ${flBytes} B; Promise.all 3 requests, ${allBytes} B`);

    assert.deepEqual(pageErrors, [], 'no uncaught errors on the page');
  });
});

test('demo page: share across two tabs: stats().share shows a leader and a follower of two tabs, and the second tab adds no server hits for what the first loaded', { timeout: 300_000 }, async () => {
  await withDemo(async ({ server, api, page }) => {
    await page.goto(`${server.origin}/?autoload=0`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
    await page.check('[data-testid="share"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="stat-share.role"]')?.textContent === 'leader', null, { timeout: 20_000 });
    const second = await page.context().newPage();
    await second.goto(`${server.origin}/?autoload=0`);
    await second.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
    assert.equal(await second.isChecked('[data-testid="share"]'), true, 'the setting is the same in every tab');
    await second.waitForFunction(() => document.querySelector('[data-testid="stat-share.role"]')?.textContent === 'follower', null, { timeout: 20_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="stat-share.tabs"]')?.textContent === '2', null, { timeout: 20_000 });
    await page.check('[data-testid="mode-fetchlane"]');
    await page.selectOption('[data-testid="scene"]', 'product');
    const first = await runClicked(page, '[data-testid="load"]');
    const before = (await api(`/__stats?run=${encodeURIComponent(first.run)}`)).total;
    await second.check('[data-testid="mode-fetchlane"]');
    await second.selectOption('[data-testid="scene"]', 'product');
    const again = await runClicked(second, '[data-testid="load"]');
    assert.ok(before >= 4, `the first tab went to the server (${before})`);
    // The leader's transport tags what it sends with its own run: neither run grew.
    assert.equal((await api(`/__stats?run=${encodeURIComponent(first.run)}`)).total, before, 'no new hit under the first run');
    assert.equal((await api(`/__stats?run=${encodeURIComponent(again.run)}`)).total, 0, 'none under the second');
    assert.equal(await second.$eval('[data-testid="stat-share.tabs"]', (el) => el.textContent), '2');
  });
});
