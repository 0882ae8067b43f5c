// The benchmark page: `window.runBench(config)` runs the scenarios and resolves to plain JSON.
//   config.scenarios  ids to run (default: all, in order)
//   config.smoke      tiny sizes, one repetition
// Each scenario module exports `id`, `title` and `run(ctx)`; a scenario that throws is reported
// as `{ id, error }` and the others still run.
import { loadFetchlane, NotImplemented, skipped } from './lib.js';
import * as overhead from './scenarios/overhead.js';
import * as fanout from './scenarios/fanout.js';
import * as dashboard from './scenarios/dashboard.js';
import * as dedup from './scenarios/dedup.js';
import * as batching from './scenarios/batching.js';
import * as ratelimit from './scenarios/ratelimit.js';
import * as cache from './scenarios/cache.js';
import * as memory from './scenarios/memory.js';
import * as adaptive from './scenarios/adaptive.js';
import * as lighter from './scenarios/lighter.js';
import * as timing from './scenarios/timing.js';
import * as share from './scenarios/share.js';

export const scenarios = [overhead, fanout, dashboard, dedup, batching, ratelimit, cache, memory, adaptive, lighter, timing, share];

/** Measured resolution of performance.now() (coarser when the page is not cross-origin isolated). */
function timerResolutionMs() {
  let best = Infinity;
  for (let i = 0; i < 50; i++) {
    const a = performance.now();
    let b = a;
    while (b === a) b = performance.now();
    best = Math.min(best, b - a);
  }
  return best;
}

async function runBench(config = {}) {
  const smoke = Boolean(config.smoke);
  const wanted = config.scenarios ?? scenarios.map((s) => s.id);
  const { createClient } = await loadFetchlane();
  const peers = await import('./dist/peers.js');
  const env = {
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    timerResolutionMs: timerResolutionMs(),
    gc: typeof globalThis.gc === 'function',
    preciseMemory: Boolean(performance.memory),
    hardwareConcurrency: navigator.hardwareConcurrency,
  };
  const results = [];
  for (const name of wanted) {
    const s = scenarios.find((x) => x.id === name);
    const t0 = performance.now();
    if (!s) {
      results.push({ id: name, error: `unknown scenario ${name}` });
      continue;
    }
    try {
      const r = await s.run({ smoke, createClient, peers, config });
      results.push({ ...r, seconds: (performance.now() - t0) / 1000 });
    } catch (err) {
      if (err instanceof NotImplemented) {
        results.push({ ...skipped(s.id, s.title, err.detail), seconds: (performance.now() - t0) / 1000 });
      } else {
        results.push({ id: s.id, title: s.title, error: String(err && err.stack ? err.stack : err), seconds: (performance.now() - t0) / 1000 });
      }
    }
    document.getElementById('out').textContent += `${name}: done\n`;
  }
  return { env, smoke, results };
}

window.runBench = runBench;
window.benchReady = true;
