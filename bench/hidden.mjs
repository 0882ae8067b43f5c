// 13. Hidden and frozen tabs (node drives real tabs of one Chromium: scripts/tabs.mjs). What a
// background tab does to timers and messages, and so to a shared client whose leader is hidden
// or frozen: Chrome fires a hidden page's timers about once a second, while BroadcastChannel
// messages and Web Locks stay prompt. A rate-limited burst is timed twice: led by a visible
// tab (share's rule: a visible tab takes the lead from a hidden one) and led by a hidden tab
// (what happens when every tab is hidden, and what the rule avoids).
import { launchTabs, until } from '../scripts/tabs.mjs';

export const id = 'hidden';
export const title = 'Across tabs: hidden and frozen tabs (Chromium)';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `until` with the bench's patience. */
const wait = (page, test, arg) => until(page, test, arg, 15_000);

const leads = (page) => wait(page, () => window.client?.stats().share.role === 'leader');

export async function run({ origin, smoke, chromiumArgs }) {
  const blank = `${origin}/tests/js/blank.html`;
  const timers = smoke ? 3 : 5;
  const rate = { limit: 4, intervalMs: 250 };
  const calls = 24;
  const ideal = (Math.ceil(calls / rate.limit) - 1) * rate.intervalMs;
  const tabs = await launchTabs(chromiumArgs);
  try {
    const ctx = tabs.context;
    const client = (page, name) => page.evaluate(async ({ name, rate }) => {
      const { createClient } = await import('/pkg/index.js');
      window.client = await createClient({ share: { name }, rateLimits: [rate] });
    }, { name, rate });
    const chain = (page, n) => page.evaluate((n) => new Promise((resolve) => {
      const t0 = performance.now();
      let k = 0;
      const step = () => (++k === n ? resolve(performance.now() - t0) : setTimeout(step, 10));
      setTimeout(step, 10);
    }), n);
    const burst = async (pages) => {
      const run = `bench-hidden-${Math.random().toString(36).slice(2)}`;
      const t0 = Date.now();
      await Promise.all(pages.map((p, k) => p.evaluate(({ run, k, n }) =>
        Promise.all(Array.from({ length: n }, (_, i) => window.client.json(`/echo?run=${run}&k=${k}-${i}`))), { run, k, n: calls / pages.length })));
      return Date.now() - t0;
    };

    const a = ctx.pages()[0];
    await a.goto(blank);
    const visibleTimers = await chain(a, timers);
    const b = await ctx.newPage();
    await b.goto(blank);
    if ((await a.evaluate(() => document.visibilityState)) !== 'hidden') throw new Error('hidden: this browser did not hide the first tab');
    const hiddenTimers = await chain(a, timers);
    // BroadcastChannel from the visible tab to the hidden one.
    await a.evaluate(() => {
      window.delays = [];
      new BroadcastChannel('bench-hidden').onmessage = ({ data }) => window.delays.push(performance.timeOrigin + performance.now() - data);
    });
    await b.evaluate(async () => {
      const channel = new BroadcastChannel('bench-hidden');
      for (let i = 0; i < 10; i++) {
        channel.postMessage(performance.timeOrigin + performance.now());
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    await wait(a, () => window.delays.length === 10);
    const delays = (await a.evaluate(() => window.delays)).sort((x, y) => x - y);

    // The leader is hidden: a visible tab joins and takes the lead.
    const name = `bench-hidden-${Date.now()}`;
    await client(a, name);
    await leads(a);
    const t0 = Date.now();
    await client(b, name);
    await leads(b);
    const handOver = Date.now() - t0;
    const visibleLed = await burst([a, b]);

    // Every tab hidden (a third tab without a client in front): the hidden leader keeps the lead.
    const front = await ctx.newPage();
    await front.goto(blank);
    const hiddenName = `${name}-all-hidden`;
    await client(a, hiddenName);
    await leads(a);
    await client(b, hiddenName);
    await wait(b, () => window.client.stats().share.tabs === 2);
    const hiddenLed = await burst([a, b]);

    // The hidden leader freezes with a slow GET of the other tab in flight.
    await b.evaluate(() => {
      window.answered = null;
      window.client.json(`/echo?latency=800&frozen=${Math.random()}`).then(() => (window.answered = performance.timeOrigin + performance.now()));
    });
    await sleep(200);
    const cdp = await ctx.newCDPSession(a);
    const frozenAt = await b.evaluate(() => performance.timeOrigin + performance.now());
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    const frozenHandOver = await leads(b);
    await wait(b, () => window.answered !== null);
    const frozenAnswer = (await b.evaluate(() => window.answered)) - frozenAt;
    await cdp.send('Page.setWebLifecycleState', { state: 'active' });

    const rows = [
      { variant: `${timers} chained setTimeout(10): visible tab`, ms: visibleTimers },
      { variant: `${timers} chained setTimeout(10): hidden tab`, ms: hiddenTimers },
      { variant: 'BroadcastChannel message into a hidden tab (median of 10)', ms: delays[5] },
      { variant: 'hidden leader: a visible tab joins and leads after', ms: handOver },
      { variant: `${calls} calls at ${rate.limit} per ${rate.intervalMs} ms from both tabs, led by the visible tab (ideal ${ideal} ms)`, ms: visibleLed },
      { variant: `the same, every tab hidden: led by a hidden tab`, ms: hiddenLed },
      { variant: 'frozen leader: the next tab leads after', ms: frozenHandOver },
      { variant: 'frozen leader: its follower\'s GET in flight (800 ms at the server), answered after the freeze', ms: frozenAnswer },
    ];
    return {
      id,
      title,
      params: { timers, calls, rateLimit: `${rate.limit} per ${rate.intervalMs} ms` },
      columns: [
        { key: 'variant', label: 'what' },
        { key: 'ms', label: 'ms', digits: 0 },
      ],
      rows,
      goals: [
        { text: 'a visible tab leads within 500 ms of joining a hidden leader', value: `${handOver} ms`, pass: handOver < 500 },
        { text: 'the next tab leads within 500 ms of the leader freezing', value: `${frozenHandOver} ms`, pass: frozenHandOver < 500 },
        { text: `a rate-limited burst led by the visible tab takes at most 1.5× its ideal (${ideal} ms)`, value: `${visibleLed} ms`, pass: visibleLed <= ideal * 1.5 },
      ],
      notes: [
        'Tabs of one headless Chromium started by scripts/tabs.mjs: a tab opened later comes to the front and hides the others; CDP `Page.setWebLifecycleState` freezes one. Node polls the pages (their own timers would be throttled).',
      ],
      losses: [
        `Every tab hidden, nobody takes the lead: the hidden leader's rate-limit holds wait for its throttled timers, ${hiddenLed} ms for a burst whose ideal is ${ideal} ms (separate clients in hidden tabs wait for throttled timers alike).`,
      ],
    };
  } finally {
    await tabs.close();
  }
}
