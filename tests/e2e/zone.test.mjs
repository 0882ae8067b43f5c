// A queued `schedule` task and a queued request's transport run in their caller's zone
// (zone.js, as Angular apps and OpenTelemetry's ZoneContextManager use it), in Chromium with
// the real zone.js from npm loaded before fetchlane.
//   node --test tests/e2e/zone.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { root, startServer } from '../../scripts/server.mjs';
import { ensurePkg, launchChromium, PKG } from './browser.mjs';

/** Runs in the page: 20 tasks and 6 requests, each started in a zone of its own, 1 at a time. */
async function zonesSeen() {
  const { createClient } = await import('/pkg/index.js');
  const seen = [];
  const client = await createClient({
    concurrency: 1,
    cache: false,
    fetch: (request) => {
      seen.push(['request', new URL(request.url).searchParams.get('i'), Zone.current.name]);
      return fetch(request);
    },
  });
  try {
    const work = [];
    for (let i = 0; i < 20; i++) {
      const zone = Zone.current.fork({ name: `task-${i}` });
      work.push(zone.run(() => client.schedule(() => seen.push(['task', String(i), Zone.current.name.slice(5)]))));
    }
    for (let i = 0; i < 6; i++) {
      const zone = Zone.current.fork({ name: String(i) });
      work.push(zone.run(() => client.fetch(`/echo?run=zone-${Date.now()}&i=${i}`)));
    }
    await Promise.all(work);
    return seen;
  } finally {
    client.close();
  }
}

test('zone.js: queued tasks and requests run in their caller\'s zone', { timeout: 300_000 }, async () => {
  await ensurePkg();
  const server = await startServer({ statics: [`/=${root}`, `/pkg=${PKG}`] });
  let browser;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`${server.origin}/tests/js/blank.html`);
    await page.addScriptTag({ url: '/node_modules/zone.js/fesm2015/zone.js' });
    const seen = await page.evaluate(zonesSeen);
    assert.equal(seen.length, 26);
    for (const [what, i, zone] of seen) assert.equal(zone, i, `${what} ${i} ran in zone ${zone}`);
  } finally {
    await browser?.close();
    await server.stop();
  }
});
