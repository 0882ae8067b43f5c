// The latency sketch behind `stats().latency` (js/sketch.js), against exact percentiles. It is
// internal, so it is imported from the source; what `stats()` reports is in observe.test.js.
import { assert, assertEqual, test } from './harness.js';
import { BUCKETS, add, sketch, summary } from '../../js/sketch.js';

/** Nearest-rank percentile of sorted `xs`. */
const exact = (xs, q) => xs[Math.max(1, Math.ceil(q * xs.length)) - 1];

/** A reproducible generator (mulberry32), so that a failure can be replayed. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('sketch: p50, p95 and p99 of 10k samples are within 1.1 % of the exact values (three distributions)', () => {
  const rnd = random(16);
  const shapes = {
    uniform: () => 1 + rnd() * 999,
    lognormal: () => Math.exp(3 + 1.5 * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd())),
    bimodal: () => (rnd() < 0.9 ? 5 + rnd() * 5 : 800 + rnd() * 400),
  };
  for (const [name, draw] of Object.entries(shapes)) {
    const counts = sketch();
    const xs = Array.from({ length: 10000 }, draw);
    for (const x of xs) add(counts, x);
    xs.sort((a, b) => a - b);
    const s = summary(counts);
    assertEqual(s.count, 10000, `${name} count`);
    for (const [q, got] of [[0.5, s.p50], [0.95, s.p95], [0.99, s.p99]]) {
      const want = exact(xs, q);
      assert(Math.abs(got - want) <= want * 0.011, `${name} p${q * 100}: ${got} against exact ${want}`);
    }
  }
});

test('sketch: 1 313 counters hold 200k samples from 1 µs to a month; 0 and values under 1 µs read 0', () => {
  const counts = sketch();
  const rnd = random(7);
  for (let i = 0; i < 200000; i++) add(counts, 2 ** (rnd() * 41 - 10));
  assertEqual([counts.length, BUCKETS], [1313, 1313], 'a fixed size, whatever goes in');
  assertEqual(summary(counts).count, 200000, 'every sample counted, none out of range');
  const tiny = sketch();
  for (const x of [0, 0, 1e-9, Infinity]) add(tiny, x);
  const t = summary(tiny);
  assertEqual(t.p50, 0);
  assert(t.p99 > 2 ** 30.9 && t.p99 < 2 ** 31, `Infinity lands in the last bucket: ${t.p99}`);
  assertEqual(summary(sketch()), { p50: NaN, p95: NaN, p99: NaN, count: 0 }, 'no samples: NaN');
});
