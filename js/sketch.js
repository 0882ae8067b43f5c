// Latency percentiles from bounded memory: a sketch is a fixed array of counts, one per
// logarithmic bucket, 32 buckets per doubling from 2^-10 ms to 2^31 ms. A percentile is
// reported as its bucket's geometric middle, so it is within 1.1 % (2^(1/64) - 1) of the
// exact nearest-rank value; values under 2^-10 ms (about 1 µs) read 0, and 2^31 ms (25 days)
// and over share the last bucket. Its memory (BUCKETS counters, 5 KiB) is taken at once, so
// that it never grows, however many samples go in.

/** Buckets per doubling. */
const PER_OCTAVE = 32;
/** Bucket 1 starts at 2^-10 ms; bucket 0 holds everything below (and 0). */
const OFFSET = 10 * PER_OCTAVE;
/** Buckets in all: 41 doublings and bucket 0. */
export const BUCKETS = OFFSET + 31 * PER_OCTAVE + 1;

/** An empty sketch. */
export const sketch = () => new Uint32Array(BUCKETS);

/**
 * Counts `ms` in `counts`.
 * @param {Uint32Array} counts
 * @param {number} ms
 */
export function add(counts, ms) {
  counts[ms >= 2 ** -10 ? Math.min(BUCKETS - 1, Math.floor(Math.log2(ms) * PER_OCTAVE) + OFFSET + 1) : 0]++;
}

/**
 * `{ p50, p95, p99, count }` of `counts`, as `stats()` reports it: nearest-rank percentiles
 * in ms, NaN without samples.
 * @param {Uint32Array} counts
 */
export function summary(counts) {
  let count = 0;
  for (const n of counts) count += n;
  /** @param {number} q */
  const at = (q) => {
    const rank = Math.max(1, Math.ceil(q * count));
    for (let k = 0, seen = 0; k < BUCKETS; k++) {
      seen += counts[k];
      if (seen >= rank) return k === 0 ? 0 : 2 ** ((k - OFFSET - 0.5) / PER_OCTAVE);
    }
    return NaN;
  };
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), count };
}
