// Latency percentiles from bounded memory: a sketch is an array of counts, one per logarithmic
// bucket, 32 buckets per doubling. A percentile is reported as its bucket's geometric middle,
// so it is within 1.1 % (2^(1/64) - 1) of the exact nearest-rank value, or reads 0 for values
// under 1 µs; and a sketch never holds more than MAX_BUCKET + 1 counters, however many
// samples it takes.

/** Buckets per doubling. */
const PER_OCTAVE = 32;
/** Bucket 1 starts at 2^-10 ms (about 1 µs); bucket 0 holds everything below (and 0). */
const OFFSET = 10 * PER_OCTAVE;
/** 2^53 ms and over share the last bucket. */
const MAX_BUCKET = OFFSET + 53 * PER_OCTAVE;

/**
 * Counts `ms` in `sketch`.
 * @param {number[]} sketch
 * @param {number} ms
 */
export function add(sketch, ms) {
  const k = ms >= 2 ** -10 ? Math.min(MAX_BUCKET, Math.floor(Math.log2(ms) * PER_OCTAVE) + OFFSET + 1) : 0;
  sketch[k] = (sketch[k] ?? 0) + 1;
}

/**
 * `{ p50, p95, p99, count }` of `sketch`, as `stats()` reports it: nearest-rank percentiles
 * in ms, NaN without samples.
 * @param {number[]} sketch
 */
export function summary(sketch) {
  let count = 0;
  for (const n of sketch) count += n ?? 0;
  /** @param {number} q */
  const at = (q) => {
    const rank = Math.max(1, Math.ceil(q * count));
    for (let k = 0, seen = 0; k < sketch.length; k++) {
      seen += sketch[k] ?? 0;
      if (seen >= rank) return k === 0 ? 0 : 2 ** ((k - OFFSET - 0.5) / PER_OCTAVE);
    }
    return NaN;
  };
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), count };
}
